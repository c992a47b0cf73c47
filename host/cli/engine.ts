// --engine: which Wasm engine runs the image. `v8` is the in-process virtual board;
// `wasm3` is the Linux build of the firmware (firmware/), the engine the board runs. For
// run, exec and repl the firmware is started on a pseudo-terminal (`sxs-fw --pty`) and
// reached over the serial link exactly as a board on --port: the same client, frames and
// flow control, only the other end is the C firmware. `qemu` is that firmware
// cross-compiled for a 32-bit RISC-V microcontroller and run by QEMU (qemu-board.ts).

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { defaultImagePath, packageRoot } from "../image/image.js";
import { flag, intOption, stringOption } from "./args.js";
import { ExitCode, UsageError, type CliIO, type OptionSpec, type ParsedArgs } from "./command.js";
import { qemuMissing, startQemuPty } from "./qemu-board.js";

export const ENGINE_OPTION: OptionSpec = {
  name: "engine",
  type: "string",
  valueName: "ENGINE",
  description: "v8 (the in-process virtual board, default), wasm3 (the Linux firmware on a pty) or qemu (the firmware on an emulated RISC-V microcontroller)",
};

export type Engine = "v8" | "wasm3" | "qemu";
export const ENGINES: readonly Engine[] = ["v8", "wasm3", "qemu"];

export function engineOption(args: ParsedArgs): Engine {
  const e = stringOption(args, "engine") ?? "v8";
  if (!(ENGINES as readonly string[]).includes(e)) throw new UsageError(`unknown engine ${e} (${ENGINES.join(", ")})`);
  return e as Engine;
}

/** The Linux firmware binary, built by `npm run build:firmware`. */
export function firmwarePath(): string {
  return process.env.SXS_FIRMWARE ?? join(packageRoot(), "firmware", "target", "release", "sxs-fw");
}

/**
 * The firmware's arguments for the board options of run/exec/repl/sim: image, flash
 * file, processors, longest input. Options it has no counterpart for are usage errors.
 */
export function firmwareBoardArgv(args: ParsedArgs, io: CliIO, unsupported: readonly string[]): string[] {
  const engine = stringOption(args, "engine") ?? "wasm3";
  for (const o of unsupported) if (args.options[o] !== undefined) throw new UsageError(`--${o} is not supported with --engine ${engine}`);
  const argv: string[] = [];
  const flash = stringOption(args, "flash");
  if (flash !== undefined) argv.push("--flash", resolve(io.cwd, flash));
  const image = stringOption(args, "image");
  argv.push("--image", image !== undefined ? resolve(io.cwd, image) : defaultImagePath());
  for (const o of ["processors", "max-input"]) {
    const v = intOption(args, o);
    if (v !== undefined) argv.push(`--${o}`, String(v));
  }
  return argv;
}

export interface FirmwareBoard {
  /** The pty a tool opens. */
  readonly path: string;
  /** Resolves when the process has ended, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** The board a child process serves on `path`: stop() is SIGTERM, then SIGKILL after 3 s. */
export function childBoard(path: string, child: ChildProcess, exited: FirmwareBoard["exited"]): FirmwareBoard {
  return {
    path,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Starts `sxs-fw --pty ARGV` and resolves with the path it prints on its first line.
 * Its stderr goes to `onStderr` (kept for the error message if it fails to start),
 * later lines of its stdout to `onLine`.
 */
export function startFirmwarePty(
  argv: string[],
  opts: { onStderr?: (chunk: string) => void; onLine?: (line: string) => void } = {},
): Promise<FirmwareBoard> {
  const fw = firmwarePath();
  return new Promise((resolveBoard, reject) => {
    const child = spawn(fw, ["--pty", ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    let path: string | undefined;
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (path === undefined) err += d;
      opts.onStderr?.(d);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on("close", (code, signal) => r({ code, signal })),
    );
    const lines = createInterface({ input: child.stdout });
    const fail = (why: string): void => {
      if (path === undefined) reject(new Error(`the firmware (${fw}) ${why}${err ? `: ${err.trim()}` : ""}`));
    };
    child.on("error", (e) => fail(`cannot start: ${e.message}`));
    child.on("close", (code, signal) => fail(`exited before serving (${signal ?? `exit ${code}`})`));
    lines.once("line", (first) => {
      const m = /(\/dev\/\S+)/.exec(first);
      if (!m) {
        child.kill("SIGKILL");
        fail(`printed no pty path (${JSON.stringify(first)})`);
        return;
      }
      path = m[1]!;
      if (opts.onLine) lines.on("line", opts.onLine);
      resolveBoard(childBoard(path, child, exited));
    });
  });
}

/** Why a firmware engine cannot start here (its binary is not built), or undefined. */
export function firmwareMissing(engine: Exclude<Engine, "v8">): string | undefined {
  if (engine === "qemu") return qemuMissing();
  if (!existsSync(firmwarePath())) return `the wasm3 engine needs the Linux firmware at ${firmwarePath()}: run npm run build:firmware`;
  return undefined;
}

/** Starts the firmware of a firmware engine behind a pty (see startFirmwarePty). */
export function startEngineBoard(
  engine: Exclude<Engine, "v8">,
  argv: string[],
  opts: { onStderr?: (chunk: string) => void; onLine?: (line: string) => void } = {},
): Promise<FirmwareBoard> {
  return engine === "qemu" ? startQemuPty(argv, opts) : startFirmwarePty(argv, opts);
}

/** Board options with no counterpart in the firmware's pty mode. */
const WASM3_UNSUPPORTED = ["max-steps", "safe-mode"];
/** Options that describe the board and so do not go on to the link (see VIRTUAL_ONLY). */
const BOARD_ONLY = ["processors", "max-input", "max-steps", "engine", "flash", "safe-mode"];

/**
 * Runs a command body on the engine --engine names: with v8 (or --port) as it is; with
 * wasm3 or qemu, on a fresh firmware process behind a pty, given to the body as --port, with the
 * image's clock `opts.clock` (real by default).
 */
/** Set in the options of a command that runs on a board started for it alone (--engine). */
export const TEMPORARY_BOARD = "temporary-board";

export async function withEngine(
  args: ParsedArgs,
  io: CliIO,
  body: (args: ParsedArgs) => Promise<number>,
  opts: { clock?: "real" | "virtual" } = {},
): Promise<number> {
  const engine = engineOption(args);
  if (engine === "v8") return body(args);
  if (stringOption(args, "port") !== undefined) throw new UsageError("--engine does not go with --port (the board runs its own engine)");
  if (flag(args, "reset")) throw new UsageError("--reset needs --port");
  const argv = firmwareBoardArgv(args, io, WASM3_UNSUPPORTED);
  // a transcript's clock is virtual (SPEC.md section 8), on the firmware as in process
  if (opts.clock === "virtual") argv.push("--clock", "virtual");
  const missing = firmwareMissing(engine);
  if (missing !== undefined) {
    io.stderr.write(`sxs: ${missing}\n`);
    return ExitCode.BOARD;
  }
  let board: FirmwareBoard;
  try {
    board = await startEngineBoard(engine, argv);
  } catch (e) {
    io.stderr.write(`sxs: ${(e as Error).message}\n`);
    return ExitCode.BOARD;
  }
  const options = { ...args.options };
  for (const o of BOARD_ONLY) delete options[o];
  options["port"] = board.path;
  options[TEMPORARY_BOARD] = true; // the board ends with the command (see drainAfterResult)
  try {
    return await body({ ...args, options });
  } finally {
    await board.stop();
  }
}
