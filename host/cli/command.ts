// The shape of a subcommand. Each subcommand lives in its own file and exports one
// CliCommand; host/cli/main.ts lists them (one import line per command).

import type { Readable, Writable } from "node:stream";

/** One option of a subcommand. `--help`/`-h` is added to every command by the parser. */
export interface OptionSpec {
  /** Long name without dashes: `processors` is `--processors`. */
  name: string;
  /** Optional one-letter alias without the dash: `p` is `-p`. */
  short?: string;
  /** `boolean` takes no value; `integer` and `string` take one (`--x V` or `--x=V`). */
  type: "boolean" | "integer" | "string";
  /** One line for --help. */
  description: string;
  /** The value's placeholder in --help (`N`, `FILE`, ...). */
  valueName?: string;
  /** Bounds for integers (inclusive). */
  min?: number;
  max?: number;
  /** May be given more than once (values collected in order). */
  repeatable?: boolean;
}

export type OptionValue = boolean | number | string | Array<number | string>;

/** The command line after parsing. */
export interface ParsedArgs {
  /** Option values by long name (absent when not given). */
  options: Record<string, OptionValue | undefined>;
  /** The remaining arguments, in order. */
  positionals: string[];
}

/** Where a command reads and writes; the real process in main.ts, fakes in tests. */
export interface CliIO {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Registers a Ctrl-C handler for the duration of a run; returns the unregister function. */
  onInterrupt(handler: () => void): () => void;
}

export interface CliCommand {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The usage line(s) after `sxs `, e.g. `run [options] FILE`. */
  usage: string;
  options: OptionSpec[];
  /** More help text shown after the options (optional). */
  details?: string;
  /** Returns the exit code (see ExitCode). */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** Exit codes of every command. */
export const ExitCode = {
  OK: 0,
  /** The request or script returned an error value. */
  ERROR_VALUE: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The board or the image failed (missing image, trap, link failure...). */
  BOARD: 3,
  /** Ended by Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** A bad command line; main.ts prints it with the usage and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
