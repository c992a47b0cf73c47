// Reading a campaign tool's arguments (tools/fuzz-engines.mjs, tools/soak.mjs): an option's
// value at argv[i], or a usage error (the message, the usage, exit 2) when it is missing.

/** Readers over `argv` for tool `name`; `usage(code)` prints the usage and exits. */
export function argReader(name, argv, usage) {
  const missing = (i, what) => {
    console.error(`${name}: ${argv[i - 1]} needs ${what}`);
    usage(2);
  };
  return {
    /** A number >= 0. */
    num(i) {
      const v = Number(argv[i]);
      if (argv[i] === undefined || !Number.isFinite(v) || v < 0) missing(i, "a number");
      return v;
    },
    /** Any value. */
    str(i) {
      if (argv[i] === undefined) missing(i, "a value");
      return argv[i];
    },
  };
}
