#!/usr/bin/env node
// Runs every FILE.slp of the given folders through `sxs run --transcript` and compares
// the output with FILE.out byte for byte. Exit 1 on any difference.
//
//   node tools/conformance.mjs [--engine v8] DIR [DIR...]

import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
  console.log("usage: node tools/conformance.mjs [--engine ENGINE] DIR [DIR...]\n\nRuns each DIR/*.slp with `sxs run --transcript` and compares with DIR/*.out.");
  process.exit(args.length === 0 ? 2 : 0);
}
const extra = [];
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--engine") extra.push("--engine", args[++i]);
  else dirs.push(args[i]);
}
let passed = 0;
let failed = 0;
for (const dir of dirs) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".slp")).sort();
  for (const f of files) {
    const slp = path.join(dir, f);
    const expected = fs.readFileSync(slp.replace(/\.slp$/, ".out"));
    const r = spawnSync(process.execPath, [path.join(root, "bin/sxs.mjs"), "run", ...extra, "--transcript", slp], { maxBuffer: 64 << 20 });
    if (r.status === 0 && Buffer.compare(r.stdout, expected) === 0) {
      passed++;
      continue;
    }
    failed++;
    console.log(`FAIL ${slp} (exit ${r.status})`);
    const got = r.stdout.toString().split("\n");
    const want = expected.toString().split("\n");
    for (let i = 0; i < Math.max(got.length, want.length); i++) {
      if (got[i] !== want[i]) {
        console.log(`  line ${i + 1}: expected ${JSON.stringify(want[i])}`);
        console.log(`  line ${i + 1}:      got ${JSON.stringify(got[i])}`);
        break;
      }
    }
    if (r.stderr.length) console.log("  stderr: " + r.stderr.toString().trim().split("\n").slice(0, 3).join("\n  "));
  }
}
console.log(`conformance: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
