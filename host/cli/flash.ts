// sxs flash --port P IMAGE: write an image into the board's inactive slot, reboot into it,
// and check that the board comes back running it.

import { openClient, REQUIRED_PORT_OPTIONS, reportLinkFailure } from "../client/cli-support.js";
import { hex8, type FlashProgress } from "../client/board-client.js";
import { ImageRejectedError } from "../client/errors.js";
import { prepareImage } from "../client/image-file.js";
import { flag, intOption } from "./args.js";
import { readSource } from "./board-options.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { jsonLine, makeStyle, useColour, writeAsync } from "./output.js";
import { formatBytes, formatRate, ProgressBar } from "./progress.js";

export const flash: CliCommand = {
  name: "flash",
  summary: "Write an image to a board (inactive slot), reboot into it, verify.",
  usage: "flash --port PATH [options] IMAGE",
  options: [
    ...REQUIRED_PORT_OPTIONS,
    { name: "slot", type: "integer", valueName: "N", min: 0, max: 1, description: "write slot N (default: the inactive one)" },
    { name: "no-reboot", type: "boolean", description: "verify and mark the slot only; do not reboot into it" },
    { name: "no-check", type: "boolean", description: "skip the host's own image checks (let the board judge the file)" },
    { name: "json", type: "boolean", description: "print the result as one JSON object (progress still goes to stderr)" },
  ],
  details: [
    "IMAGE is an image file (header + Wasm, e.g. build/sxs.img from tools/make-image.mjs) or a",
    "bare .wasm module, which gets its header here. The file is checked before anything is",
    "sent; the board checks it again, loads it, reboots into it and is expected back with",
    "the new image id within 10 s. A board whose new image fails to start rolls back by",
    "itself; that is reported as a refusal. Progress goes to stderr: a bar on a TTY,",
    "plain lines otherwise.",
    "",
    "Exit codes: 0 ok, 2 usage error, 3 the image was refused (the reason is printed) or",
    "the board could not be reached.",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError(args.positionals.length === 0 ? "missing IMAGE" : "flash takes one IMAGE");
    const json = flag(args, "json");
    const file = await readSource(io, args.positionals[0]!);
    const image = prepareImage(file);
    const err = makeStyle(useColour(io.stderr, io.env));
    const style = makeStyle(!json && useColour(io.stdout, io.env));
    let client;
    try {
      client = await openClient(args, io);
    } catch (e) {
      return reportLinkFailure(io, e);
    }
    const bar = new ProgressBar(io.stderr, err, "flash");
    const before = client.hello;
    try {
      if (!json)
        io.stderr.write(
          `sxs flash: ${client.transport.path}: ${before.firmware}, image ${hex8(before.imageCrc)} in slot ${before.activeSlot}; ` +
            `sending ${image.bytes.length} bytes${image.wrapped ? " (a bare Wasm module: header added)" : ""}\n`,
        );
      const r = await client.flash(image.bytes, {
        ...(intOption(args, "slot") !== undefined ? { slot: intOption(args, "slot")! } : {}),
        noReboot: flag(args, "no-reboot"),
        check: !flag(args, "no-check"),
        onProgress: (p: FlashProgress) => {
          bar.update({ ...p, note: p.phase === "verify" ? "board verifying" : p.phase === "reboot" ? "waiting for the board to restart" : undefined });
        },
      });
      bar.done();
      const baud = client.transport.baud;
      const line = Number.isFinite(baud) ? baud / 10 : undefined;
      if (json) {
        await writeAsync(
          io.stdout,
          jsonLine({
            image: hex8(r.hash),
            previous: hex8(before.imageCrc),
            slot: r.slot,
            bytes: r.bytes,
            seconds: r.seconds,
            rate: Math.round(r.rate),
            lineRate: line,
            commitSeconds: r.commitSeconds,
            totalSeconds: r.totalSeconds,
            rebooted: r.info !== undefined,
          }),
        );
      } else {
        const share = line ? ` (${Math.round((r.rate / line) * 100)} % of the ${formatRate(line)} a ${baud}-baud line carries)` : "";
        io.stdout.write(`sent ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s: ${formatRate(r.rate)}${share}\n`);
        if (r.info)
          io.stdout.write(
            style.result(`board is back running image ${hex8(r.hash)} in slot ${r.slot}`) +
              ` (was ${hex8(before.imageCrc)} in slot ${before.activeSlot}; ${r.totalSeconds!.toFixed(2)} s in all)\n`,
          );
        else io.stdout.write(`image ${hex8(r.hash)} verified and marked in slot ${r.slot}; the board keeps running ${hex8(before.imageCrc)} until it reboots\n`);
        await writeAsync(io.stdout, "");
      }
      return ExitCode.OK;
    } catch (e) {
      bar.done();
      if (e instanceof ImageRejectedError) {
        if (json) await writeAsync(io.stdout, jsonLine({ refused: { code: e.code, name: e.codeName, message: e.detail, stage: e.stage } }));
        io.stderr.write(`sxs flash: ${err.error(e.message)}\n`);
        if (e.stage !== "local" && client.alive) {
          try {
            const now = await client.info();
            io.stderr.write(`sxs flash: the board keeps running image ${hex8(now.imageCrc)} in slot ${now.activeSlot}\n`);
          } catch {
            /* the refusal is what matters */
          }
        }
        return ExitCode.BOARD;
      }
      return reportLinkFailure(io, e);
    } finally {
      await client.close();
    }
  },
};
