// --engine: which Wasm engine runs the image. `v8` is the in-process virtual board;
// `wasm3` is the Linux build of the firmware (firmware/), i.e. the engine the board runs.
// For now the wasm3 engine runs transcripts through the firmware's own transcript mode
// over stdio; the serial path comes with the link protocol (docs/link.md).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageRoot } from "../image/image.js";
import { intOption, stringOption } from "./args.js";
import { ExitCode, UsageError, type CliIO, type OptionSpec, type ParsedArgs } from "./command.js";

export const ENGINE_OPTION: OptionSpec = {
  name: "engine",
  type: "string",
  valueName: "ENGINE",
  description: "v8 (the in-process virtual board, default) or wasm3 (the Linux firmware: npm run build:firmware)",
};

export type Engine = "v8" | "wasm3";

export function engineOption(args: ParsedArgs): Engine {
  const e = stringOption(args, "engine") ?? "v8";
  if (e !== "v8" && e !== "wasm3") throw new UsageError(`unknown engine ${e} (v8 or wasm3)`);
  return e;
}

/** The Linux firmware binary, built by `npm run build:firmware`. */
export function firmwarePath(): string {
  return process.env.SXS_FIRMWARE ?? join(packageRoot(), "firmware", "target", "release", "sxs-fw");
}

/** Runs FILE's transcript under wasm3 through the firmware; returns the exit code. */
export async function runFirmwareTranscript(file: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const fw = firmwarePath();
  if (!existsSync(fw)) {
    io.stderr.write(`sxs: the wasm3 engine needs the Linux firmware at ${fw}: run npm run build:firmware\n`);
    return ExitCode.BOARD;
  }
  const argv = ["--transcript", resolve(io.cwd, file)];
  const image = stringOption(args, "image");
  argv.push("--image", image !== undefined ? resolve(io.cwd, image) : join(packageRoot(), "build", "sxs.wasm"));
  const processors = intOption(args, "processors");
  if (processors !== undefined) argv.push("--processors", String(processors));
  const maxInput = intOption(args, "max-input");
  if (maxInput !== undefined) argv.push("--max-input", String(maxInput));
  if (intOption(args, "max-steps") !== undefined) throw new UsageError("--max-steps is not supported with --engine wasm3 yet");
  return await new Promise<number>((done) => {
    const child = spawn(fw, argv, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => io.stdout.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => io.stderr.write(chunk));
    child.on("error", (e) => {
      io.stderr.write(`sxs: cannot start ${fw}: ${e.message}\n`);
      done(ExitCode.BOARD);
    });
    child.on("close", (code) => done(code === 0 ? ExitCode.OK : ExitCode.BOARD));
  });
}
