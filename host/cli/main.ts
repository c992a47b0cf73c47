// The sxs command line: a table of subcommands, one import line each.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../image/image.js";
import { commandHelp, parseArgs } from "./args.js";
import { ExitCode, UsageError, type CliCommand, type CliIO } from "./command.js";
import { exec } from "./exec.js";
import { repl } from "./repl.js";
import { run } from "./run.js";
import { ports } from "./ports.js";
import { monitor } from "./monitor.js";
import { info } from "./info.js";
import { reset } from "./reset.js";
import { interrupt } from "./interrupt.js";
import { flash } from "./flash.js";
import { sim } from "./sim.js";

/** Every subcommand, in the order --help lists them. Add new commands here. */
export const COMMANDS: readonly CliCommand[] = [run, exec, repl, ports, monitor, info, reset, interrupt, flash, sim];

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function topHelp(commands: readonly CliCommand[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: sxs COMMAND [options]",
    "",
    "sxs: scripting for ESP32-class boards (SLP, a K/V store and events in one Wasm image).",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help (`sxs COMMAND --help` for a command's)",
    "  -V, --version  print the version",
    "",
    "Exit codes: 0 ok, 1 the request returned an error value, 2 usage error, 3 board failure.",
    "",
  ].join("\n");
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    if (first === "help" && rest[0]) return main([rest[0], "--help"], io, commands);
    io.stdout.write(topHelp(commands));
    return first === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (first === "-V" || first === "--version") {
    io.stdout.write(`sxs ${version()}\n`);
    return ExitCode.OK;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    io.stderr.write(`sxs: unknown command ${JSON.stringify(first)}\n\n` + topHelp(commands));
    return ExitCode.USAGE;
  }
  try {
    const args = parseArgs(rest, cmd.options);
    if (args.options["help"] === true) {
      io.stdout.write(commandHelp(cmd));
      return ExitCode.OK;
    }
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`sxs ${cmd.name}: ${e.message}\nUsage: sxs ${cmd.usage}\nTry 'sxs ${cmd.name} --help'.\n`);
      return ExitCode.USAGE;
    }
    io.stderr.write(`sxs ${cmd.name}: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return ExitCode.BOARD;
  }
}

/** The process's own CliIO. */
export function processIO(): CliIO {
  const handlers: Array<() => void> = [];
  const onSigint = (): void => {
    const h = handlers[handlers.length - 1];
    if (h) h();
    else process.exit(ExitCode.INTERRUPTED);
  };
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      if (handlers.length === 0) process.on("SIGINT", onSigint);
      handlers.push(handler);
      return () => {
        const i = handlers.lastIndexOf(handler);
        if (i >= 0) handlers.splice(i, 1);
        if (handlers.length === 0) process.off("SIGINT", onSigint);
      };
    },
  };
}

/** Entry point used by bin/sxs.mjs. */
export async function cli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe (`sxs run x | head`) is not an error worth a stack trace.
  for (const s of [process.stdout, process.stderr]) {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const code = await main(argv, processIO());
  process.exitCode = code;
  // Let stdout drain, then leave even if something (stdin, a timer) still holds the loop.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
