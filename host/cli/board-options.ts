// Options shared by the subcommands that start a virtual board, and the common way of
// reporting a board failure.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { BoardError, type VirtualBoardOptions } from "../board/virtual-board.js";
import { ImageError } from "../image/image.js";
import { flag, intOption, stringOption } from "./args.js";
import { ExitCode, UsageError, type CliIO, type OptionSpec, type ParsedArgs } from "./command.js";

export const BOARD_OPTIONS: OptionSpec[] = [
  { name: "processors", type: "integer", valueName: "N", min: 1, max: 8, description: "processors on the virtual board (1..8, default 1)" },
  { name: "max-input", type: "integer", valueName: "BYTES", min: 64, max: 2 ** 30, description: "longest request text (default 16384)" },
  { name: "max-steps", type: "integer", valueName: "N", min: 1, max: 2 ** 31 - 1, description: "evaluation steps per task (default 1000000)" },
  { name: "image", type: "string", valueName: "FILE", description: "the Wasm image (default: the package's build/sxs.wasm)" },
  { name: "flash", type: "string", valueName: "FILE", description: "keep the board's flash (and so its K/V store) in FILE across runs (default: a blank flash in memory)" },
  { name: "safe-mode", type: "boolean", description: "do not run the `boot` key at start-up" },
];

export function boardOptions(args: ParsedArgs, io: CliIO, clock: "real" | "virtual"): VirtualBoardOptions {
  const o: VirtualBoardOptions = { clock };
  const processors = intOption(args, "processors");
  const maxInput = intOption(args, "max-input");
  const maxSteps = intOption(args, "max-steps");
  const image = stringOption(args, "image");
  if (processors !== undefined) o.processors = processors;
  if (maxInput !== undefined) o.maxInput = maxInput;
  if (maxSteps !== undefined) o.maxSteps = maxSteps;
  if (image !== undefined) o.imagePath = resolve(io.cwd, image);
  const flash = stringOption(args, "flash");
  if (flash !== undefined) o.flash = resolve(io.cwd, flash);
  if (flag(args, "safe-mode")) o.safeMode = true;
  return o;
}

/** Prints a failure of the board or the image and gives exit code 3 (rethrows anything else). */
export function reportFailure(io: CliIO, e: unknown): number {
  if (e instanceof BoardError || e instanceof ImageError) {
    io.stderr.write(`sxs: board failure: ${e.message}\n`);
    return ExitCode.BOARD;
  }
  throw e;
}

/** Reads FILE (or stdin for `-`) as bytes. */
export async function readSource(io: CliIO, file: string): Promise<Uint8Array> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(resolve(io.cwd, file));
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

/** Parses a `CH:TOPIC` watch spec (`A:7`, `B:*`). */
export function parseWatch(spec: string): { channel: string; topic: number | "*" } {
  const m = /^([A-Fa-f])[:/](\*|\d+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`bad watch ${JSON.stringify(spec)}: expected CH:TOPIC, CH one of A..F, TOPIC 0..65535 or *`);
  const topic = m[2] === "*" ? "*" : Number(m[2]);
  if (topic !== "*" && topic > 65535) throw new UsageError(`bad watch ${JSON.stringify(spec)}: topic must be 0..65535`);
  return { channel: m[1]!.toUpperCase(), topic };
}
