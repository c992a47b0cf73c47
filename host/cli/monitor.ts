// sxs monitor --port P: stream a board's events and log lines, with timestamps, until Ctrl-C.

import { openClient, REQUIRED_PORT_OPTIONS, reportLinkFailure, timestamp } from "../client/cli-support.js";
import { hex8 } from "../client/board-client.js";
import { flag, stringOption } from "./args.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { formatEvent, jsonLine, makeStyle, useColour } from "./output.js";

export const monitor: CliCommand = {
  name: "monitor",
  summary: "Stream a board's events and log lines with timestamps until Ctrl-C.",
  usage: "monitor --port PATH [--channel C [--topic T]] [options]",
  options: [
    ...REQUIRED_PORT_OPTIONS,
    { name: "channel", type: "string", valueName: "C", description: "only events on channel C (A..F; default: every channel)" },
    { name: "topic", type: "string", valueName: "T", description: "only events on topic T (0..65535 or *; default *)" },
    { name: "no-log", type: "boolean", description: "do not show log lines" },
    { name: "json", type: "boolean", description: "one JSON object per line: {\"time\",\"log\"} or {\"time\",\"event\":{channel,topic,payload}}" },
  ],
  details: [
    "Watches are asked again when the board resets, so the monitor keeps going across",
    "resets and new images. Ctrl-C (or end of the link) stops it.",
    "Exit codes: 0 stopped by Ctrl-C, 2 usage error, 3 the board could not be reached or the link failed.",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const json = flag(args, "json");
    const noLog = flag(args, "no-log");
    const chOpt = stringOption(args, "channel");
    const topicOpt = stringOption(args, "topic");
    let channels = ["A", "B", "C", "D", "E", "F"];
    if (chOpt !== undefined) {
      if (!/^[A-Fa-f]$/.test(chOpt)) throw new UsageError(`bad --channel ${JSON.stringify(chOpt)}: A..F`);
      channels = [chOpt.toUpperCase()];
    }
    let topic: number | "*" = "*";
    if (topicOpt !== undefined && topicOpt !== "*") {
      if (!/^\d+$/.test(topicOpt) || Number(topicOpt) > 65535) throw new UsageError(`bad --topic ${JSON.stringify(topicOpt)}: 0..65535 or *`);
      topic = Number(topicOpt);
    }
    const style = makeStyle(!json && useColour(io.stdout, io.env));
    let client;
    try {
      client = await openClient(args, io);
    } catch (e) {
      return reportLinkFailure(io, e);
    }
    const out = (s: string): void => void io.stdout.write(s);
    const stamp = (): string => style.dim(timestamp());
    let finish!: (code: number) => void;
    const done = new Promise<number>((r) => (finish = r));
    const offInterrupt = io.onInterrupt(() => finish(ExitCode.OK));
    client.on("failure", (e) => {
      io.stderr.write(`sxs: ${e.message}\n`);
      finish(ExitCode.BOARD);
    });
    if (!noLog)
      client.on("log", (text) => out(json ? jsonLine({ time: new Date().toISOString(), log: text }) : `${stamp()} log: ${text}\n`));
    client.on("session", (i) =>
      out(
        json
          ? jsonLine({ time: new Date().toISOString(), session: { image: hex8(i.imageCrc), slot: i.activeSlot, bootReason: i.bootReason } })
          : `${stamp()} ${style.dim(`board restarted: image ${hex8(i.imageCrc)} in slot ${i.activeSlot}`)}\n`,
      ),
    );
    try {
      for (const ch of channels) {
        await client.subscribe(ch, topic, (payload, _bytes, c, t) =>
          out(
            json
              ? jsonLine({ time: new Date().toISOString(), event: { channel: c, topic: t, payload } })
              : `${stamp()} ${formatEvent(style, c, t, payload)}\n`,
          ),
        );
      }
      if (!json) {
        const what = `${channels.length === 6 ? "every channel" : `channel ${channels[0]}`}, ${topic === "*" ? "every topic" : `topic ${topic}`}`;
        io.stderr.write(`sxs monitor: ${client.transport.path}: watching ${what}${noLog ? "" : " and log lines"}; Ctrl-C stops\n`);
      }
      return await done;
    } catch (e) {
      return reportLinkFailure(io, e);
    } finally {
      offInterrupt();
      await client.close();
    }
  },
};
