#!/usr/bin/env node
// The sxs command line. The compiled TypeScript lives in dist/ (`npm run build:host`).
let cli;
try {
  ({ cli } = await import("../dist/host/cli/main.js"));
} catch (e) {
  if (e && e.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("main.js")) {
    console.error("sxs: the command line is not built yet: run `npm run build` (or `npm run build:host`)");
    process.exit(3);
  }
  throw e;
}
await cli();
