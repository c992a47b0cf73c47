// sxs repl: an interactive REPL on a virtual board, or on the board at --port.
//
// Input is cut into requests by the image (sxs_split; with --port, a local copy of the image): while it answers with a parse error
// starting `@"parse: unclosed`, another line is read. Log lines and watched events are
// shown as they arrive. Ctrl-C interrupts a running request; at an empty prompt it prints
// a hint, and a second one exits; Ctrl-D exits. With stdin not a TTY, lines are read the
// same way without prompts, and the REPL exits at end of input once everything has run.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as readline from "node:readline";
import { BoardError, type VirtualBoard } from "../board/virtual-board.js";
import { OPTIONAL_PORT_OPTIONS, WAIT_OPTION, drainAfterResult, openTarget, reportLinkFailure, waitOption, boardOutlives } from "../client/cli-support.js";
import { LinkError } from "../client/errors.js";
import { localSplitter, VirtualTarget, type BoardTarget } from "../client/target.js";
import { flag, intOption, stringOption } from "./args.js";
import { ENGINE_OPTION, withEngine } from "./engine.js";
import { BOARD_OPTIONS, parseWatch } from "./board-options.js";
import { ExitCode, UsageError, type CliCommand, type CliIO, type ParsedArgs } from "./command.js";
import { formatEvent, formatLog, formatResult, makeStyle, useColour, type Style } from "./output.js";

const PROMPT = "sxs> ";
const CONTINUE = "...> ";
const HISTORY_SIZE = 1000;
const UNCLOSED = '@"parse: unclosed';

const DIRECTIVE_HELP = [
  ".help                 this text",
  ".stats                the board's statistics",
  ".watch CH TOPIC       show events on channel CH (A..F) and TOPIC (0..65535 or *)",
  ".unwatch CH TOPIC     stop showing them",
  ".processor [N]        show or change the processor that runs your input",
  ".exit                 leave (Ctrl-D does too)",
].join("\n");

export const repl: CliCommand = {
  name: "repl",
  summary: "An interactive REPL on a virtual board (or a board: --port).",
  usage: "repl [options]",
  options: [
    { name: "processor", short: "p", type: "integer", valueName: "N", min: 0, max: 7, description: "the processor that runs your input (default 0)" },
    { name: "history", type: "string", valueName: "FILE", description: "history file (default $SXS_HISTORY, or ~/.sxs_history; an empty SXS_HISTORY disables it)" },
    { name: "no-history", type: "boolean", description: "do not read or write a history file" },
    { ...WAIT_OPTION, description: `${WAIT_OPTION.description}; at the end of piped input` },
    ...OPTIONAL_PORT_OPTIONS,
    ...BOARD_OPTIONS,
    ENGINE_OPTION,
  ],
  details: [
    "Each input is one request; it may span lines while a bracket or string is open.",
    "Results print as `=> VALUE`, log lines as `log: TEXT`, events as `event CH/TOPIC: PAYLOAD`.",
    "Directives (at the start of an input):",
    DIRECTIVE_HELP.replace(/^/gm, "  "),
    "",
    "Ctrl-C interrupts a running request (it answers @\"interrupted\"), or clears the input;",
    "twice at an empty prompt it exits, as does Ctrl-D. Without a TTY on stdin, input is",
    "read to its end without prompts (exit code 0, or 3 if the board fails).",
    "With --port the REPL talks to that board; a local copy of the image (--image) tells",
    "when an input is unfinished.",
  ].join("\n"),

  run(args, io) {
    return withEngine(args, io, (a) => replOn(a, io));
  },
};

async function replOn(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  let board: BoardTarget;
  let splitter: VirtualBoard;
  try {
    board = await openTarget(args, io, "real");
  } catch (e) {
    return reportLinkFailure(io, e);
  }
  if (board instanceof VirtualTarget) splitter = board.board;
  else {
    try {
      const image = stringOption(args, "image");
      splitter = await localSplitter(image !== undefined ? resolve(io.cwd, image) : undefined);
    } catch (e) {
      await board.close();
      return reportLinkFailure(io, e);
    }
  }
  const processor = intOption(args, "processor") ?? 0;
  if (processor >= board.processors) {
    await board.close();
    if (board.kind === "link") splitter.close();
    throw new UsageError(`no processor ${processor} (the board has ${board.processors}${board.kind === "virtual" ? "; see --processors" : ""})`);
  }
  // --history FILE, else $SXS_HISTORY (empty: none), else ~/.sxs_history; --no-history: none.
  const named = stringOption(args, "history") ?? io.env.SXS_HISTORY ?? join(homedir(), ".sxs_history");
  const historyFile = flag(args, "no-history") || named === "" ? null : resolve(io.cwd, named);
  // tasks already alive (an application on the board) are not waited for at the end
  let background = 0;
  try {
    background = await board.liveTasks();
  } catch {
    /* a failing board is reported when it is used */
  }
  return new Repl(board, splitter, io, processor, historyFile, { waitMs: waitOption(args), outlives: boardOutlives(args, board), background }).start();
}

class Repl {
  private readonly tty: boolean;
  private readonly style: Style;
  private rl!: readline.Interface;
  private buffer = "";
  private readonly lines: string[] = [];
  private pumping = false;
  private current: number | null = null; // request id while one runs
  private ended = false; // input ended (EOF / Ctrl-D / .exit)
  private hinted = false;
  private history: string[] = [];
  private finish!: (code: number) => void;
  private done = false;

  constructor(
    private readonly board: BoardTarget,
    private readonly splitter: VirtualBoard,
    private readonly io: CliIO,
    private processor: number,
    private readonly historyFile: string | null,
    private readonly atEnd: { waitMs: number; outlives: boolean; background: number },
  ) {
    this.tty = io.stdin.isTTY === true && io.stdout.isTTY === true;
    this.style = makeStyle(useColour(io.stdout, io.env));
  }

  start(): Promise<number> {
    const result = new Promise<number>((res) => (this.finish = res));
    const { io, board } = this;
    const loaded = this.tty && this.historyFile ? loadHistory(this.historyFile) : [];
    this.history = loaded;
    this.rl = readline.createInterface({
      input: io.stdin,
      output: this.tty ? io.stdout : undefined,
      terminal: this.tty,
      prompt: PROMPT,
      history: loaded,
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      crlfDelay: Infinity,
    });
    this.rl.on("history", (h: string[]) => (this.history = h));
    this.rl.on("line", (line) => {
      this.hinted = false;
      this.lines.push(line);
      void this.pump();
    });
    this.rl.on("close", () => {
      this.ended = true;
      if (this.tty && this.current === null && this.lines.length === 0) {
        this.print("\n");
        void this.exit(ExitCode.OK);
      } else void this.pump();
    });
    this.rl.on("SIGINT", () => this.onCtrlC());
    const offInterrupt = io.onInterrupt(() => this.onCtrlC());
    void result.then(offInterrupt);

    board.on("log", (text) => this.printAbove(formatLog(this.style, text) + "\n"));
    board.on("event", (ch, topic, payload) => this.printAbove(formatEvent(this.style, ch, topic, payload) + "\n"));
    board.on("failure", (e) => {
      io.stderr.write(e instanceof LinkError ? `sxs: ${e.message}\n` : `sxs: board failure: ${e.message}\n`);
      void this.exit(ExitCode.BOARD);
    });

    if (this.tty) {
      this.print(this.style.dim(`${board.label}. .help for help, Ctrl-D to exit.`) + "\n");
      this.rl.prompt();
    }
    return result;
  }

  private print(s: string): void {
    this.io.stdout.write(s);
  }

  /** Prints asynchronous output without mangling the line being typed. */
  private printAbove(s: string): void {
    if (this.tty && this.current === null && !this.ended && !this.pumping) {
      readline.cursorTo(this.io.stdout, 0);
      readline.clearLine(this.io.stdout, 0);
      this.print(s);
      this.rl.prompt(true);
    } else {
      this.print(s);
    }
  }

  private onCtrlC(): void {
    if (this.done) return;
    if (this.current !== null) {
      this.lines.length = 0; // drop type-ahead
      this.board.interrupt(this.current);
      return;
    }
    if (!this.tty) {
      void this.exit(ExitCode.INTERRUPTED);
      return;
    }
    if (this.buffer !== "" || this.rl.line !== "") {
      // Leave the abandoned text on screen, start a fresh prompt below it.
      this.buffer = "";
      this.rl.setPrompt(PROMPT);
      this.rl.write(null, { ctrl: true, name: "e" });
      this.print("\n");
      this.rl.write(null, { ctrl: true, name: "u" });
      this.rl.prompt();
      return;
    }
    if (this.hinted) {
      this.print("\n");
      void this.exit(ExitCode.OK);
      return;
    }
    this.hinted = true;
    this.print("\n" + this.style.dim("(To exit, press Ctrl-C again or Ctrl-D, or type .exit)") + "\n");
    this.rl.prompt();
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.done) return;
    this.pumping = true;
    try {
      while (this.lines.length > 0 && !this.done) {
        await this.handle(this.lines.shift()!);
      }
      if (this.done) return;
      if (this.ended) {
        // End of input: an unfinished input still goes to the board (it reports the error).
        if (this.buffer.trim() !== "") {
          const text = this.buffer;
          this.buffer = "";
          await this.submit(text);
        }
        if (!this.done) {
          try {
            await drainAfterResult(this.io, this.board, this.atEnd);
          } catch {
            // reported by the trap listener
          }
          await this.exit(this.board.failure ? ExitCode.BOARD : ExitCode.OK);
        }
        return;
      }
    } finally {
      this.pumping = false;
    }
    if (this.tty && !this.done) {
      this.rl.setPrompt(this.buffer === "" ? PROMPT : CONTINUE);
      this.rl.prompt();
    }
  }

  private async handle(line: string): Promise<void> {
    if (this.buffer === "") {
      const m = /^\s*\.(help|stats|watch|unwatch|processor|exit)(?:\s+(.*))?$/.exec(line);
      if (m) return this.directive(m[1]!, (m[2] ?? "").trim());
    }
    const text = this.buffer === "" ? line : this.buffer + "\n" + line;
    let split: ReturnType<VirtualBoard["split"]>;
    try {
      split = this.splitter.split(text);
    } catch (e) {
      if (!(e instanceof BoardError)) throw e;
      // On the virtual board a trap ends the board (the failure listener reports and exits).
      if (e.code !== "out-of-memory" && this.board.kind === "virtual") return;
      split = { forms: [text] }; // cannot tell: let the board answer the text itself
    }
    if ("error" in split && split.error.startsWith(UNCLOSED)) {
      this.buffer = text;
      return;
    }
    this.buffer = "";
    if ("forms" in split && split.forms.length === 0) return; // blank or only comments
    await this.submit(text);
  }

  private async submit(text: string): Promise<void> {
    const sub = this.board.submit(text, { processor: this.processor });
    this.current = sub.req;
    const onResult = (req: number, value: string): void => {
      if (req === sub.req) this.print(formatResult(this.style, value) + "\n");
    };
    this.board.on("result", onResult);
    try {
      await sub.result;
    } catch (e) {
      if (e instanceof BoardError) {
        if (e.code !== "trap" && e.code !== "closed") this.print(this.style.error(`sxs: ${e.message}`) + "\n");
      } else if (e instanceof LinkError) {
        // a failed link is reported by the failure listener; a refusal (ERROR) is shown here
        if (!this.board.failure && !this.done) this.print(this.style.error(`sxs: ${e.message}`) + "\n");
      } else throw e;
    } finally {
      this.board.off("result", onResult);
      this.current = null;
    }
  }

  private async directive(name: string, rest: string): Promise<void> {
    const say = (s: string): void => this.print(s + "\n");
    try {
      switch (name) {
        case "help":
          say(DIRECTIVE_HELP);
          say("Anything else is SLP, run as one request on the board.");
          return;
        case "stats": {
          const rows = await this.board.stats();
          const width = Math.max(...rows.map(([k]) => k.length));
          for (const [k, v] of rows) say(`${k.padEnd(width)}  ${v}`);
          return;
        }
        case "watch":
        case "unwatch": {
          const parts = rest.split(/\s+/).filter(Boolean);
          if (parts.length !== 2) {
            say(this.style.error(`usage: .${name} CH TOPIC  (CH A..F, TOPIC 0..65535 or *)`));
            return;
          }
          const w = parseWatch(`${parts[0]}:${parts[1]}`);
          await this.board.watch(w.channel, w.topic, name === "watch");
          say(this.style.dim(`${name === "watch" ? "watching" : "stopped watching"} ${w.channel}/${w.topic}`));
          return;
        }
        case "processor": {
          if (rest === "") {
            say(`processor ${this.processor} of ${this.board.processors}`);
            return;
          }
          const n = Number(rest);
          if (!Number.isInteger(n) || n < 0 || n >= this.board.processors) {
            say(this.style.error(`no processor ${rest} (0..${this.board.processors - 1})`));
            return;
          }
          this.processor = n;
          say(this.style.dim(`input now runs on processor ${n}`));
          return;
        }
        case "exit":
          this.ended = true;
          this.lines.length = 0;
          void this.exit(ExitCode.OK);
          return;
      }
    } catch (e) {
      if (e instanceof UsageError || (e instanceof BoardError && e.code === "watch") || (e instanceof LinkError && !this.board.failure) || e instanceof RangeError) {
        say(this.style.error(e.message));
        return;
      }
      throw e;
    }
  }

  private async exit(code: number): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.tty && this.historyFile) saveHistory(this.historyFile, this.history);
    this.rl.close();
    await this.board.close();
    if (this.board.kind === "link") this.splitter.close();
    this.finish(code);
  }
}

/** The history file, newest first as readline wants it (at most HISTORY_SIZE lines). */
function loadHistory(file: string): string[] {
  try {
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
    return lines.slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, newestFirst: string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const lines = newestFirst.slice(0, HISTORY_SIZE).reverse();
    writeFileSync(file, lines.join("\n") + (lines.length ? "\n" : ""), { mode: 0o600 });
  } catch {
    // history is a convenience: never fail the REPL over it
  }
}
