// sxs reset --port P: a soft reset of the board (RESET), then wait for it to come back.

import { REQUIRED_PORT_OPTIONS, withClient } from "../client/cli-support.js";
import { hex8 } from "../client/board-client.js";
import { flag } from "./args.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { jsonLine, writeAsync } from "./output.js";

export const reset: CliCommand = {
  name: "reset",
  summary: "Soft-reset a board and wait until it is back.",
  usage: "reset --port PATH [options]",
  options: [
    ...REQUIRED_PORT_OPTIONS,
    { name: "safe-mode", type: "boolean", description: "come back in safe mode: the `boot` key does not run" },
    { name: "text", type: "boolean", description: "come back in text mode (for a terminal) instead of framed mode" },
    { name: "json", type: "boolean", description: "print the new session's HELLO as one JSON object" },
  ],
  details: "Exit codes: 0 ok, 2 usage error, 3 the board could not be reached or did not come back.",

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const json = flag(args, "json");
    const text = flag(args, "text");
    return withClient(args, io, async (client) => {
      const t0 = performance.now();
      const back = await client.reset({ safeMode: flag(args, "safe-mode"), textMode: text });
      const ms = Math.round(performance.now() - t0);
      if (json) await writeAsync(io.stdout, jsonLine(back ? { ...back, image: hex8(back.imageCrc), ms } : { text: true, ms }));
      else if (!back) await writeAsync(io.stdout, "board reset; it comes back in text mode\n");
      else
        await writeAsync(
          io.stdout,
          `board reset; back after ${ms} ms: image ${hex8(back.imageCrc)} in slot ${back.activeSlot}${back.stateFlags & 1 ? " (safe mode)" : ""}\n`,
        );
      return ExitCode.OK;
    });
  },
};
