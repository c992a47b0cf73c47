// What the subcommands that talk to a board over a serial port share: the --port/--baud
// options, opening the board, and reporting link failures (exit code 3).

import { BoardError } from "../board/virtual-board.js";
import { ImageError } from "../image/image.js";
import { flag, intOption, stringOption } from "../cli/args.js";
import { boardOptions } from "../cli/board-options.js";
import { ExitCode, UsageError, type CliIO, type OptionSpec, type ParsedArgs } from "../cli/command.js";
import { isErrorValue, writeAsync } from "../cli/output.js";
import { openBoard, type BoardClient } from "./board-client.js";
import { LinkError } from "./errors.js";
import { LinkTarget, VirtualTarget, type BoardTarget } from "./target.js";
import { TEMPORARY_BOARD } from "../cli/engine.js";
import { DEFAULT_BAUD } from "./transport.js";

export const PORT_OPTION: OptionSpec = { name: "port", type: "string", valueName: "PATH", description: "the board's serial port (`sxs ports` lists them)" };

/** --baud, --reset, --timeout: how to open the port. */
export const LINK_OPTIONS: OptionSpec[] = [
  { name: "baud", type: "integer", valueName: "N", min: 300, max: 16_000_000, description: `line rate (default ${DEFAULT_BAUD}; pseudo-terminals ignore it)` },
  { name: "reset", type: "boolean", description: "reset the board through RTS when opening (default: the board is not reset)" },
  { name: "timeout", type: "integer", valueName: "MS", min: 100, max: 600_000, description: "how long to try to reach the board (default 5000)" },
];

/** The options of a command that needs a port. */
export const REQUIRED_PORT_OPTIONS: OptionSpec[] = [{ ...PORT_OPTION, description: "the board's serial port (required; `sxs ports` lists them)" }, ...LINK_OPTIONS];

/** The options of a command that runs on a port when given one, else on a virtual board. */
export const OPTIONAL_PORT_OPTIONS: OptionSpec[] = [
  { ...PORT_OPTION, description: "run on the board at this serial port instead of an in-process virtual board" },
  ...LINK_OPTIONS.map((o) => ({ ...o, description: `with --port: ${o.description}` })),
];

export function portOption(args: ParsedArgs): string | undefined {
  return stringOption(args, "port");
}

/** Opens the board named by --port (required). */
export async function openClient(args: ParsedArgs, _io: CliIO): Promise<BoardClient> {
  const port = portOption(args);
  if (port === undefined) throw new UsageError("missing --port PATH (`sxs ports` lists the serial ports)");
  if (port === "") throw new UsageError("--port needs a path");
  const baud = intOption(args, "baud");
  const timeout = intOption(args, "timeout");
  return openBoard(port, {
    ...(baud !== undefined ? { baud } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
    reset: flag(args, "reset"),
  });
}

/**
 * Opens the board named by --port, runs `use` on it and closes it. A link failure, at
 * opening or in `use`, is printed and gives exit code 3 (reportLinkFailure).
 */
export async function withClient(args: ParsedArgs, io: CliIO, use: (client: BoardClient) => Promise<number>): Promise<number> {
  let client: BoardClient;
  try {
    client = await openClient(args, io);
  } catch (e) {
    return reportLinkFailure(io, e);
  }
  try {
    return await use(client);
  } catch (e) {
    return reportLinkFailure(io, e);
  } finally {
    await client.close();
  }
}

/** Options that describe the in-process virtual board; with --port they are a usage error. */
export const VIRTUAL_ONLY = ["processors", "max-input", "max-steps", "engine", "flash", "safe-mode"];

/**
 * The board of run/exec/repl: over the link with --port, else an in-process virtual
 * board built from the board options.
 */
export async function openTarget(args: ParsedArgs, io: CliIO, clock: "real" | "virtual"): Promise<BoardTarget> {
  if (portOption(args) !== undefined) {
    for (const o of VIRTUAL_ONLY)
      if (args.options[o] !== undefined) throw new UsageError(`--${o} is for the in-process virtual board; it does not go with --port`);
    return new LinkTarget(await openClient(args, io));
  }
  for (const o of ["baud", "reset", "timeout"])
    if (args.options[o] !== undefined) throw new UsageError(`--${o} needs --port`);
  return VirtualTarget.create(boardOptions(args, io, clock));
}

/** Prints a board or link failure and gives exit code 3 (rethrows anything else). */
export function reportLinkFailure(io: CliIO, e: unknown): number {
  if (e instanceof LinkError) {
    io.stderr.write(`sxs: ${e.message}\n`);
    return ExitCode.BOARD;
  }
  if (e instanceof BoardError || e instanceof ImageError) {
    io.stderr.write(`sxs: board failure: ${e.message}\n`);
    return ExitCode.BOARD;
  }
  throw e;
}

/** Local time with milliseconds: 14:03:07.123. */
export function timestamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * Ctrl-C while a command waits on the board: the first press interrupts what runs (the
 * request then answers @"interrupted"); another press, or one while nothing runs,
 * closes the board, and `stopped()` tells the command to end with exit code 130.
 */
export function interruptOnCtrlC(io: CliIO, board: BoardTarget): { stopped(): boolean; off(): void } {
  let presses = 0;
  let stopped = false;
  const off = io.onInterrupt(() => {
    if (++presses === 1 && board.pending().length > 0) {
      board.interrupt();
      return;
    }
    stopped = true;
    void board.close();
  });
  return { stopped: () => stopped, off };
}

/** How long `exec`, `run` and a piped `repl` wait after the last result (--wait). */
export const DEFAULT_WAIT_MS = 1000;

export const WAIT_OPTION: OptionSpec = {
  name: "wait",
  type: "integer",
  valueName: "MS",
  min: 0,
  max: 2 ** 31 - 1,
  description: `after the last result, wait up to MS for the log lines and events of tasks still running (handlers, timers) (default ${DEFAULT_WAIT_MS})`,
};

/** --wait, or the default. */
export function waitOption(args: ParsedArgs): number {
  return intOption(args, "wait") ?? DEFAULT_WAIT_MS;
}

/** Whether the board outlives the command: a board at --port does, unless the command started it (--engine). */
export function boardOutlives(args: ParsedArgs, board: BoardTarget): boolean {
  return board.kind === "link" && args.options[TEMPORARY_BOARD] !== true;
}

/**
 * Waits up to `waitMs` for the board to be idle, the `background` tasks that lived before
 * the work aside (an application's loop on a board is not waited for); if tasks started
 * since still run then, says so on stderr (a JSON line with `json`): whether they go on
 * depends on whether the board outlives the command.
 */
export async function drainAfterResult(
  io: CliIO,
  board: BoardTarget,
  o: { waitMs: number; json?: boolean; outlives: boolean; background?: number },
): Promise<void> {
  const left = await board.drain(o.waitMs, o.background ?? 0);
  if (left === 0) return;
  const tasks = `${left} task${left === 1 ? "" : "s"}`;
  const line = o.json
    ? JSON.stringify({ running: left, waitMs: o.waitMs, goOn: o.outlives }) + "\n"
    : `sxs: ${tasks} still running after --wait ${o.waitMs} ms; ` + (o.outlives ? "they go on on the board\n" : "they end with the board\n");
  await writeAsync(io.stderr, line);
}

/**
 * Runs one request on an open board as `exec` and `run` do: the watches set, Ctrl-C
 * interrupting it (twice: closing the board), the log lines and events that follow it
 * drained (see drainAfterResult), stdout flushed. Exit code: interrupted, an error value,
 * or ok; a broken link is reported (exit 3). The board is closed in every case.
 * `request` sends it and resolves to its result.
 */
export async function runOnBoard(
  io: CliIO,
  board: BoardTarget,
  watches: { channel: string; topic: number | "*" }[],
  request: () => Promise<string>,
  o: { waitMs: number; json?: boolean; outlives: boolean },
): Promise<number> {
  const ctrlC = interruptOnCtrlC(io, board);
  try {
    for (const w of watches) await board.watch(w.channel, w.topic, true);
    const background = await board.liveTasks();
    const value = await request();
    await drainAfterResult(io, board, { ...o, background });
    await writeAsync(io.stdout, "");
    if (ctrlC.stopped()) return ExitCode.INTERRUPTED;
    return isErrorValue(value) ? ExitCode.ERROR_VALUE : ExitCode.OK;
  } catch (e) {
    if (ctrlC.stopped()) return ExitCode.INTERRUPTED;
    return reportLinkFailure(io, e);
  } finally {
    ctrlC.off();
    await board.close();
  }
}
