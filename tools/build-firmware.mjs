#!/usr/bin/env node
// npm run build:firmware: builds the firmware (firmware/, wasm3 embedded) for its two
// ports that run here:
//   posix     the Linux firmware, with cargo (firmware/Cargo.toml): sxs-fw, sxs-fw-test
//   qemu-rv32 the same C cross-compiled for a 32-bit RISC-V microcontroller, with make and
//             Debian's gcc-riscv64-unknown-elf + picolibc-riscv64-unknown-elf; it uses the
//             wasm3 sources the posix build unpacked, so it comes second
// Part of npm run build. Where a toolchain is missing it says so and skips that port,
// because the virtual board needs neither; with --require or in CI (CI=true) that fails.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(`usage: node tools/build-firmware.mjs [--require] [--only posix|qemu]

Builds firmware/target/release/sxs-fw and sxs-fw-test with cargo, then
firmware/target/qemu-rv32/sxs-fw.elf with make (the RISC-V port for --engine qemu).
  --require      fail instead of skipping a port whose toolchain is missing (default in CI)
  --only PORT    build one port`);
  process.exit(0);
}
const require = args.includes("--require") || process.env.CI === "true";
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

function has(cmd, argv = ["--version"]) {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return !r.error && r.status === 0;
}

function missing(msg) {
  if (require) {
    console.error(`build:firmware: ${msg}`);
    process.exit(1);
  }
  console.log(`build:firmware: ${msg} (skipped)`);
}

/** wasm3's sources as the posix build unpacked them (build.rs), the newest build first. */
function wasm3Source() {
  const dir = path.join(root, "firmware", "target", "release", "build");
  if (!existsSync(dir)) return undefined;
  const found = [];
  for (const b of readdirSync(dir)) {
    const src = path.join(dir, b, "out", "pywasm3", "pywasm3-0.5.0", "wasm3");
    if (existsSync(path.join(src, "wasm3.h"))) found.push({ src, at: statSync(src).mtimeMs });
  }
  found.sort((a, b) => b.at - a.at);
  return found[0]?.src;
}

if (only === undefined || only === "posix") {
  if (!has("cargo")) missing("cargo not found: cannot build the Linux firmware (wasm3). Install Rust to build it");
  else {
    const r = spawnSync("cargo", ["build", "--release", "--quiet", "--manifest-path", path.join(root, "firmware", "Cargo.toml")], { stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

if (only === undefined || only === "qemu") {
  const w3 = wasm3Source();
  if (!has("riscv64-unknown-elf-gcc") || !has("make"))
    missing("riscv64-unknown-elf-gcc not found: cannot build the qemu-rv32 port (apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc)");
  else if (!w3) missing("wasm3's sources are not unpacked yet: build the posix port first (node tools/build-firmware.mjs --only posix)");
  else {
    const r = spawnSync("make", ["-s", "-j2", "-C", path.join(root, "firmware", "ports", "qemu-rv32"), `W3=${w3}`], { stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) {
      console.error("build:firmware: the qemu-rv32 port did not build");
      process.exit(r.status ?? 1);
    }
    if (!has("qemu-system-riscv32")) missing("qemu-system-riscv32 not found: the qemu-rv32 port is built but cannot run (apt-get install qemu-system-misc)");
  }
}
