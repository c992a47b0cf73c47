// sxs info --port P: the board's description (INFO).

import { REQUIRED_PORT_OPTIONS, withClient } from "../client/cli-support.js";
import { hex8 } from "../client/board-client.js";
import { infoRows } from "../client/target.js";
import { flag } from "./args.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { jsonLine, makeStyle, useColour, writeAsync } from "./output.js";

export const info: CliCommand = {
  name: "info",
  summary: "Show a board's firmware, image, slot, memory and link figures.",
  usage: "info --port PATH [options]",
  options: [...REQUIRED_PORT_OPTIONS, { name: "json", type: "boolean", description: "print the INFO fields as one JSON object" }],
  details: "Exit codes: 0 ok, 2 usage error, 3 the board could not be reached.",

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const json = flag(args, "json");
    return withClient(args, io, async (client) => {
      const i = await client.info();
      if (json) {
        await writeAsync(io.stdout, jsonLine({ ...i, image: hex8(i.imageCrc), port: client.transport.path }));
      } else {
        const style = makeStyle(useColour(io.stdout, io.env));
        const rows = infoRows(i);
        const width = Math.max(...rows.map(([k]) => k.length));
        for (const [k, v] of rows) io.stdout.write(`${style.dim(k.padEnd(width))}  ${v}\n`);
        await writeAsync(io.stdout, "");
      }
      return ExitCode.OK;
    });
  },
};
