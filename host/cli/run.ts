// sxs run FILE: run a script on a fresh virtual board.

import { runTranscript } from "../board/transcript.js";
import { VirtualBoard } from "../board/virtual-board.js";
import { flag, listOption } from "./args.js";
import { BOARD_OPTIONS, boardOptions, parseWatch, readSource, reportFailure } from "./board-options.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { ENGINE_OPTION, engineOption, runFirmwareTranscript } from "./engine.js";
import { formatEvent, formatResult, isErrorValue, jsonLine, makeStyle, useColour, writeAsync } from "./output.js";

export const run: CliCommand = {
  name: "run",
  summary: "Run a script on a fresh virtual board.",
  usage: "run [options] FILE",
  options: [
    { name: "transcript", type: "boolean", description: "print the run's transcript (docs/language.md: virtual clock, one request per form)" },
    { name: "json", type: "boolean", description: "print one JSON object per line: {\"log\"}, {\"event\"}, {\"result\"}" },
    { name: "watch", type: "string", valueName: "CH:TOPIC", repeatable: true, description: "also print events on channel CH (A..F) and TOPIC (or *)" },
    ...BOARD_OPTIONS,
    ENGINE_OPTION,
  ],
  details: [
    "Without --transcript the whole file is one request: log lines are printed as they",
    "happen, then `=> VALUE` (the script's value), then whatever handlers log until the",
    "board is idle (real clock). FILE `-` reads standard input.",
    "",
    "Exit codes: 0 ok, 1 the script returned an error value, 2 usage error, 3 board failure.",
    "With --transcript the exit code is 0 whatever the values (the transcript is the output).",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError(args.positionals.length === 0 ? "missing FILE" : "run takes one FILE");
    const transcript = flag(args, "transcript");
    const json = flag(args, "json");
    const watches = listOption(args, "watch").map((w) => parseWatch(String(w)));
    if (transcript && json) throw new UsageError("--json and --transcript do not go together");
    if (transcript && watches.length > 0) throw new UsageError("--watch and --transcript do not go together");
    if (engineOption(args) === "wasm3") {
      if (!transcript) throw new UsageError("--engine wasm3 runs transcripts only for now (add --transcript)");
      if (args.positionals[0] === "-") throw new UsageError("--engine wasm3 needs a FILE, not -");
      return await runFirmwareTranscript(args.positionals[0]!, args, io);
    }
    const source = await readSource(io, args.positionals[0]!);

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
    let board: VirtualBoard;
    try {
      board = await VirtualBoard.create(boardOptions(args, io, "real"));
    } catch (e) {
      return reportFailure(io, e);
    }
    const out = (s: string): void => void io.stdout.write(s);
    board.on("log", (text) => out(json ? jsonLine({ log: text }) : text + "\n"));
    board.on("event", (channel, topic, payload) =>
      out(json ? jsonLine({ event: { channel, topic, payload } }) : formatEvent(style, channel, topic, payload) + "\n"),
    );
    let interrupts = 0;
    let stopped = false;
    const offInterrupt = io.onInterrupt(() => {
      interrupts++;
      if (interrupts === 1 && board.pending().length > 0) {
        board.interrupt();
        return;
      }
      stopped = true;
      board.close();
    });
    try {
      for (const w of watches) board.watch(w.channel, w.topic, true);
      const sub = board.submit(source);
      board.on("result", (req, text) => {
        if (req === sub.req) out(json ? jsonLine({ result: text }) : formatResult(style, text) + "\n");
      });
      const value = await sub.result;
      await board.drain();
      await writeAsync(io.stdout, "");
      if (stopped) return ExitCode.INTERRUPTED;
      return isErrorValue(value) ? ExitCode.ERROR_VALUE : ExitCode.OK;
    } catch (e) {
      if (stopped) return ExitCode.INTERRUPTED;
      return reportFailure(io, e);
    } finally {
      offInterrupt();
      board.close();
    }
  },
};
