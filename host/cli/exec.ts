// sxs exec 'FORM': run one request on a fresh virtual board (or on the board at --port)
// and print its result.

import { OPTIONAL_PORT_OPTIONS, WAIT_OPTION, openTarget, reportLinkFailure, runOnBoard, waitOption, boardOutlives } from "../client/cli-support.js";
import type { BoardTarget } from "../client/target.js";
import { flag, intOption, listOption } from "./args.js";
import { ENGINE_OPTION, withEngine } from "./engine.js";
import { BOARD_OPTIONS, parseWatch, readSource } from "./board-options.js";
import { ExitCode, UsageError, type CliCommand, type CliIO, type ParsedArgs } from "./command.js";
import { formatEvent, formatLog, isErrorValue, jsonLine, makeStyle, useColour, writeAsync } from "./output.js";

export const exec: CliCommand = {
  name: "exec",
  summary: "Run one request on a fresh virtual board (or a board: --port) and print its result.",
  usage: "exec [options] 'FORM...'",
  options: [
    { name: "json", type: "boolean", description: "print {\"result\": ...} (log lines and events go to stderr as JSON too)" },
    { name: "processor", short: "p", type: "integer", valueName: "N", min: 0, max: 7, description: "the processor that runs the request (default 0)" },
    { name: "watch", type: "string", valueName: "CH:TOPIC", repeatable: true, description: "also show events on channel CH (A..F) and TOPIC (or *)" },
    WAIT_OPTION,
    ...OPTIONAL_PORT_OPTIONS,
    ...BOARD_OPTIONS,
    ENGINE_OPTION,
  ],
  details: [
    "Several arguments are joined with spaces into one request; `-` reads it from stdin.",
    "The result goes to stdout; log lines and events go to stderr. After the result it",
    "waits until the board is idle, so handlers the request triggered still log; but at",
    "most --wait MS: a task that lives on (a handler waiting on a timer, a loop) is then",
    "named on stderr, and keeps running on a board (--port).",
    "With --port the request runs on that board (its state is kept: no fresh board).",
    "",
    "Exit codes: 0 ok, 1 the result is an error value (@...), 2 usage error, 3 board failure.",
  ].join("\n"),

  run(args, io) {
    return withEngine(args, io, (a) => execOn(a, io));
  },
};

async function execOn(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length === 0) throw new UsageError("missing FORM");
  const json = flag(args, "json");
  const processor = intOption(args, "processor") ?? 0;
  const watches = listOption(args, "watch").map((w) => parseWatch(String(w)));
  const text: Uint8Array | string =
    args.positionals.length === 1 && args.positionals[0] === "-" ? await readSource(io, "-") : args.positionals.join(" ");
  const style = makeStyle(!json && useColour(io.stdout, io.env));
  const errStyle = makeStyle(!json && useColour(io.stderr, io.env));

  let board: BoardTarget;
  try {
    board = await openTarget(args, io, "real");
  } catch (e) {
    return reportLinkFailure(io, e);
  }
  if (processor >= board.processors) {
    await board.close();
    throw new UsageError(`no processor ${processor} (the board has ${board.processors}${board.kind === "virtual" ? "; see --processors" : ""})`);
  }
  const err = (s: string): void => void io.stderr.write(s);
  board.on("log", (t) => err(json ? jsonLine({ log: t }) : formatLog(errStyle, t) + "\n"));
  board.on("event", (channel, topic, payload) =>
    err(json ? jsonLine({ event: { channel, topic, payload } }) : formatEvent(errStyle, channel, topic, payload) + "\n"),
  );
  return runOnBoard(
    io,
    board,
    watches,
    async () => {
      const value = await board.exec(text, { processor });
      await writeAsync(io.stdout, json ? jsonLine({ result: value }) : (isErrorValue(value) ? style.error(value) : value) + "\n");
      return value;
    },
    { waitMs: waitOption(args), json, outlives: boardOutlives(args, board) },
  );
}
