// sxs run FILE: run a script on a fresh virtual board (or on the board at --port).

import { resolve } from "node:path";
import { runTranscript } from "../board/transcript.js";
import type { VirtualBoard } from "../board/virtual-board.js";
import {
  OPTIONAL_PORT_OPTIONS,
  VIRTUAL_ONLY,
  WAIT_OPTION,
  openClient,
  openTarget,
  portOption,
  reportLinkFailure,
  runOnBoard,
  waitOption,
  boardOutlives,
} from "../client/cli-support.js";
import type { BoardClient } from "../client/board-client.js";
import { localSplitter, type BoardTarget } from "../client/target.js";
import { transcriptOverLink } from "../client/transcript.js";
import { flag, listOption, stringOption } from "./args.js";
import { BOARD_OPTIONS, boardOptions, parseWatch, readSource, reportFailure } from "./board-options.js";
import { ExitCode, UsageError, type CliCommand, type CliIO, type ParsedArgs } from "./command.js";
import { ENGINE_OPTION, withEngine } from "./engine.js";
import { formatEvent, formatResult, jsonLine, makeStyle, useColour, writeAsync } from "./output.js";

export const run: CliCommand = {
  name: "run",
  summary: "Run a script on a fresh virtual board (or a board: --port).",
  usage: "run [options] FILE",
  options: [
    { name: "transcript", type: "boolean", description: "print the run's transcript (docs/language.md: virtual clock, one request per form)" },
    { name: "json", type: "boolean", description: "print one JSON object per line: {\"log\"}, {\"event\"}, {\"result\"}" },
    { name: "watch", type: "string", valueName: "CH:TOPIC", repeatable: true, description: "also print events on channel CH (A..F) and TOPIC (or *)" },
    WAIT_OPTION,
    ...OPTIONAL_PORT_OPTIONS,
    ...BOARD_OPTIONS,
    ENGINE_OPTION,
  ],
  details: [
    "Without --transcript the whole file is one request: log lines are printed as they",
    "happen, then `=> VALUE` (the script's value), then whatever handlers log until the",
    "board is idle (real clock), but at most --wait MS: tasks that live on (a handler",
    "waiting on a timer, a loop) are then named on stderr, and keep running on a board",
    "(--port). FILE `-` reads standard input.",
    "",
    "Exit codes: 0 ok, 1 the script returned an error value, 2 usage error, 3 board failure.",
    "With --transcript the exit code is 0 whatever the values (the transcript is the output).",
    "",
    "With --engine wasm3 a fresh Linux firmware (wasm3) is started on a pseudo-terminal",
    "and the script runs on it over the serial link, as with --port.",
    "",
    "With --port the script runs on that board, whose state is kept (it is not a fresh",
    "board). --transcript then sends each form as its own request and waits after each",
    "result until the board is idle (INFO round trips); a local image (--image) cuts the",
    "file into forms.",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError(args.positionals.length === 0 ? "missing FILE" : "run takes one FILE");
    const transcript = flag(args, "transcript");
    const json = flag(args, "json");
    const watches = listOption(args, "watch").map((w) => parseWatch(String(w)));
    if (transcript && json) throw new UsageError("--json and --transcript do not go together");
    if (transcript && watches.length > 0) throw new UsageError("--watch and --transcript do not go together");
    if (transcript && args.options["wait"] !== undefined) throw new UsageError("--wait and --transcript do not go together (a transcript runs until the board is idle)");
    const source = await readSource(io, args.positionals[0]!);
    return withEngine(args, io, (a) => runOn(a, io, source, { transcript, json, watches }), { clock: transcript ? "virtual" : "real" });
  },
};

async function runOn(
  args: ParsedArgs,
  io: CliIO,
  source: Uint8Array,
  { transcript, json, watches }: { transcript: boolean; json: boolean; watches: ReturnType<typeof parseWatch>[] },
): Promise<number> {
  if (transcript && portOption(args) !== undefined) {
    for (const o of VIRTUAL_ONLY)
      if (args.options[o] !== undefined) throw new UsageError(`--${o} is for the in-process virtual board; it does not go with --port`);
    let splitter: VirtualBoard | undefined;
    let client: BoardClient | undefined;
    let offInterrupt: (() => void) | undefined;
    try {
      const image = stringOption(args, "image");
      splitter = await localSplitter(image !== undefined ? resolve(io.cwd, image) : undefined);
      client = await openClient(args, io);
      const c = client;
      let presses = 0;
      offInterrupt = io.onInterrupt(() => {
        // First Ctrl-C: interrupt what runs (the transcript goes on); second: stop.
        if (++presses === 1 && c.pending().length > 0) void c.interrupt(0).catch(() => {});
        else void c.close();
      });
      await transcriptOverLink(client, source, (chunk) => io.stdout.write(chunk), splitter);
    } catch (e) {
      if (client && !client.alive && !client.failure) return ExitCode.INTERRUPTED;
      return reportLinkFailure(io, e);
    } finally {
      offInterrupt?.();
      splitter?.close();
      await client?.close();
    }
    await writeAsync(io.stdout, "");
    return ExitCode.OK;
  }

  if (transcript) {
    const { clock: _clock, ...opts } = boardOptions(args, io, "virtual");
    try {
      await runTranscript(source, (chunk) => io.stdout.write(chunk), opts);
    } catch (e) {
      return reportFailure(io, e);
    }
    await writeAsync(io.stdout, "");
    return ExitCode.OK;
  }

  const style = makeStyle(!json && useColour(io.stdout, io.env));
  let board: BoardTarget;
  try {
    board = await openTarget(args, io, "real");
  } catch (e) {
    return reportLinkFailure(io, e);
  }
  const out = (s: string): void => void io.stdout.write(s);
  board.on("log", (text) => out(json ? jsonLine({ log: text }) : text + "\n"));
  board.on("event", (channel, topic, payload) =>
    out(json ? jsonLine({ event: { channel, topic, payload } }) : formatEvent(style, channel, topic, payload) + "\n"),
  );
  return runOnBoard(
    io,
    board,
    watches,
    () => {
      const sub = board.submit(source);
      board.on("result", (req, text) => {
        if (req === sub.req) out(json ? jsonLine({ result: text }) : formatResult(style, text) + "\n");
      });
      return sub.result;
    },
    { waitMs: waitOption(args), json, outlives: boardOutlives(args, board) },
  );
}
