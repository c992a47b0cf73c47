// sxs interrupt --port P: INTERRUPT every request on the board (or one by id).

import { REQUIRED_PORT_OPTIONS, withClient } from "../client/cli-support.js";
import { flag, intOption } from "./args.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { jsonLine, writeAsync } from "./output.js";

export const interrupt: CliCommand = {
  name: "interrupt",
  summary: "Interrupt the requests running on a board (a runaway script).",
  usage: "interrupt --port PATH [options]",
  options: [
    ...REQUIRED_PORT_OPTIONS,
    { name: "req", type: "integer", valueName: "ID", min: 1, max: 2 ** 31 - 1, description: "only this request id (default: every unanswered request)" },
    { name: "json", type: "boolean", description: "print {\"interrupted\": N}" },
  ],
  details: [
    "Interrupted requests end with @\"interrupted\"; the board then answers the next request.",
    "Exit codes: 0 ok, 2 usage error, 3 the board could not be reached.",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const json = flag(args, "json");
    return withClient(args, io, async (client) => {
      const n = await client.interrupt(intOption(args, "req") ?? 0);
      await writeAsync(io.stdout, json ? jsonLine({ interrupted: n }) : `interrupted ${n} request${n === 1 ? "" : "s"}\n`);
      return ExitCode.OK;
    });
  },
};
