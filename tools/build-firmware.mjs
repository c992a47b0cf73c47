#!/usr/bin/env node
// npm run build:firmware: builds the Linux firmware (firmware/, wasm3 embedded) with cargo.
// Part of npm run build; where cargo is not installed it says so and skips, because the
// virtual board does not need it (the wasm3 tests then fail in CI, where cargo is present).

import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log("usage: node tools/build-firmware.mjs [--require]\n\nBuilds firmware/target/release/sxs-fw and sxs-fw-test with cargo.\n  --require  fail instead of skipping when cargo is missing");
  process.exit(0);
}
const probe = spawnSync("cargo", ["--version"], { encoding: "utf8" });
if (probe.error || probe.status !== 0) {
  const msg = "build:firmware: cargo not found: skipping the Linux firmware (wasm3). Install Rust to build it.";
  if (process.argv.includes("--require") || process.env.CI === "true") {
    console.error(msg.replace("skipping", "cannot build"));
    process.exit(1);
  }
  console.log(msg);
  process.exit(0);
}
const r = spawnSync("cargo", ["build", "--release", "--quiet", "--manifest-path", path.join(root, "firmware", "Cargo.toml")], { stdio: "inherit" });
process.exit(r.status ?? 1);
