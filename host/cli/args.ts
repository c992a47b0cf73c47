// Command-line option parsing for the subcommands (no dependencies).

import { UsageError, type CliCommand, type OptionSpec, type ParsedArgs } from "./command.js";

/** The help option every command takes. */
export const HELP_OPTION: OptionSpec = { name: "help", short: "h", type: "boolean", description: "show this help" };

/**
 * Parses `argv` (the arguments after the subcommand name) against `specs`.
 * Accepts `--name`, `--name=value`, `--name value`, `-x`, `-x value`, `--no-name` for
 * booleans, and `--` to end options. A lone `-` is a positional (stdin, by convention).
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const all = [...specs, HELP_OPTION];
  const byLong = new Map(all.map((s) => [s.name, s]));
  const byShort = new Map(all.filter((s) => s.short).map((s) => [s.short!, s]));
  const options: ParsedArgs["options"] = {};
  const positionals: string[] = [];

  const set = (spec: OptionSpec, raw: string | undefined, shown: string): void => {
    let value: boolean | number | string;
    if (spec.type === "boolean") {
      if (raw !== undefined) throw new UsageError(`option ${shown} takes no value`);
      value = true;
    } else {
      if (raw === undefined) throw new UsageError(`option ${shown} needs a value`);
      if (spec.type === "integer") {
        if (!/^[+-]?\d+$/.test(raw)) throw new UsageError(`option ${shown}: ${JSON.stringify(raw)} is not an integer`);
        const n = Number(raw);
        if (!Number.isSafeInteger(n)) throw new UsageError(`option ${shown}: ${raw} is out of range`);
        if (spec.min !== undefined && n < spec.min) throw new UsageError(`option ${shown}: must be at least ${spec.min}`);
        if (spec.max !== undefined && n > spec.max) throw new UsageError(`option ${shown}: must be at most ${spec.max}`);
        value = n;
      } else {
        value = raw;
      }
    }
    if (spec.repeatable && typeof value !== "boolean") {
      const prev = options[spec.name];
      options[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      options[spec.name] = value;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      let spec = byLong.get(name);
      if (!spec && name.startsWith("no-")) {
        const neg = byLong.get(name.slice(3));
        if (neg && neg.type === "boolean" && eq < 0) {
          options[neg.name] = false;
          continue;
        }
      }
      if (!spec) throw new UsageError(`unknown option --${name}`);
      let raw: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (raw === undefined && spec.type !== "boolean") {
        if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
        raw = argv[++i]!;
      }
      set(spec, raw, `--${name}`);
      continue;
    }
    if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      // -x, -xyz (booleans bundled), -xVALUE / -x VALUE for the last one
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown option -${c}`);
        if (spec.type === "boolean") {
          set(spec, undefined, `-${c}`);
          continue;
        }
        let raw = a.slice(j + 1);
        if (raw === "") {
          if (i + 1 >= argv.length) throw new UsageError(`option -${c} needs a value`);
          raw = argv[++i]!;
        }
        set(spec, raw, `-${c}`);
        break;
      }
      continue;
    }
    positionals.push(a);
  }
  return { options, positionals };
}

/** Typed getters over ParsedArgs.options. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}
export function intOption(args: ParsedArgs, name: string): number | undefined {
  const v = args.options[name];
  return typeof v === "number" ? v : undefined;
}
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === "string" ? v : undefined;
}
export function listOption(args: ParsedArgs, name: string): Array<string | number> {
  const v = args.options[name];
  return Array.isArray(v) ? v : v === undefined || typeof v === "boolean" ? [] : [v];
}

/** The --help text of a command. */
export function commandHelp(cmd: CliCommand): string {
  const lines = [`Usage: sxs ${cmd.usage}`, "", cmd.summary, "", "Options:"];
  const rows = [...cmd.options, HELP_OPTION].map((o) => {
    const names = (o.short ? `-${o.short}, ` : "    ") + `--${o.name}` + (o.type !== "boolean" ? ` ${o.valueName ?? (o.type === "integer" ? "N" : "VALUE")}` : "");
    return [names, o.description] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length));
  for (const [n, d] of rows) lines.push(`  ${n.padEnd(width)}  ${d}`);
  if (cmd.details) lines.push("", cmd.details.trimEnd());
  return lines.join("\n") + "\n";
}
