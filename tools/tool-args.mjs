// Reading a campaign tool's arguments (tools/fuzz-engines.mjs, tools/soak.mjs): --help and
// -h print the usage; an unknown argument or a missing value is a usage error (the message,
// the usage, exit 2).

/**
 * Reads `argv` for tool `name` with `options`, a map from each option to a function that
 * takes its value: `v.num()` (a number >= 0) or `v.str()` (any value); a flag takes none.
 * `usage(code)` prints the usage and exits.
 */
export function readOptions(name, argv, usage, options) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") usage(0);
    const take = Object.hasOwn(options, arg) ? options[arg] : undefined;
    if (!take) {
      console.error(`${name}: unknown argument ${arg}`);
      usage(2);
    }
    const missing = (what) => {
      console.error(`${name}: ${arg} needs ${what}`);
      usage(2);
    };
    take({
      num() {
        const v = Number(argv[++i]);
        if (argv[i] === undefined || !Number.isFinite(v) || v < 0) missing("a number");
        return v;
      },
      str() {
        if (argv[++i] === undefined) missing("a value");
        return argv[i];
      },
    });
  }
}
