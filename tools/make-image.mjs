#!/usr/bin/env node
// Write an image file: the 32-byte header of docs/link.md section 12 followed by the Wasm
// module. The ABI version comes from the module itself (its sxs_abi_version export, called
// on an instance whose imports are stubs); the image id is the CRC-32 of the Wasm bytes.
// The header is written by the host library's one implementation of the format
// (host/link/image-header.ts, from dist/: npm run build compiles host/ before this runs).
//
//   node tools/make-image.mjs [IN.wasm] [OUT.img] [--abi N] [--build-time SECONDS] [--help]
//
// Defaults: build/sxs.wasm -> build/sxs.img. The build time is SOURCE_DATE_EPOCH when set
// (reproducible builds), else now. Exit status: 0 ok, 1 failure, 2 bad usage.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM_PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

let lib;
try {
  lib = {
    ...(await import(join(ROOT, "dist", "host", "link", "image-header.js"))),
    ...(await import(join(ROOT, "dist", "host", "link", "crc32.js"))),
  };
} catch (e) {
  process.stderr.write(`make-image: the host library is not built (npm run build:host): ${e.message}\n`);
  process.exit(1);
}
const { buildImage, crc32, IMAGE_HEADER_LEN } = lib;

const USAGE = `Usage: node tools/make-image.mjs [IN.wasm] [OUT.img] [options]

Writes an sxs image file: a 32-byte header (magic SXSI, format 1, ABI version, Wasm
length, CRC-32 of the Wasm = the image id, build time, header CRC; docs/link.md
section 12) followed by the Wasm module.

  IN.wasm                the module (default build/sxs.wasm)
  OUT.img                the image file (default build/sxs.img)
  --abi N                the ABI version to write (default: the module's sxs_abi_version())
  --build-time SECONDS   Unix time to record (default: SOURCE_DATE_EPOCH, else now)
  -h, --help             show this help
`;

/** The module's ABI version: sxs_abi_version() on an instance with stub imports. */
export async function abiVersionOf(wasm) {
  const module = await WebAssembly.compile(wasm);
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== "function") throw new Error(`the module imports ${imp.kind} ${imp.module}.${imp.name}; an sxs image imports functions only`);
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = () => {
      throw new Error(`${imp.module}.${imp.name} called while reading the ABI version`);
    };
  }
  const instance = await WebAssembly.instantiate(module, imports);
  const f = instance.exports.sxs_abi_version;
  if (typeof f !== "function") throw new Error("the module does not export sxs_abi_version");
  const v = f();
  if (!Number.isInteger(v) || v < 0) throw new Error(`sxs_abi_version() returned ${v}`);
  return v;
}

function parse(argv) {
  const pos = [];
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") o.help = true;
    else if (a === "--abi" || a === "--build-time") {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${a} needs a non-negative integer`);
      o[a === "--abi" ? "abi" : "buildTime"] = Number(v);
    } else if (a.startsWith("--abi=") || a.startsWith("--build-time=")) {
      const [k, v] = a.slice(2).split("=");
      if (!/^\d+$/.test(v)) throw new Error(`--${k} needs a non-negative integer`);
      o[k === "abi" ? "abi" : "buildTime"] = Number(v);
    } else if (a.startsWith("-") && a !== "-") throw new Error(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length > 2) throw new Error("too many arguments");
  return { pos, o };
}

async function main() {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`make-image: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const inPath = resolve(args.pos[0] ?? join(ROOT, "build", "sxs.wasm"));
  const outPath = resolve(args.pos[1] ?? join(ROOT, "build", "sxs.img"));
  let wasm;
  try {
    wasm = new Uint8Array(readFileSync(inPath));
  } catch (e) {
    process.stderr.write(`make-image: cannot read ${inPath}: ${e.message}\n`);
    return 1;
  }
  if (wasm.length < 8 || WASM_PREAMBLE.some((b, i) => wasm[i] !== b)) {
    process.stderr.write(`make-image: ${inPath} is not a Wasm version-1 module\n`);
    return 1;
  }
  let abiVersion = args.o.abi;
  if (abiVersion === undefined) {
    try {
      abiVersion = await abiVersionOf(wasm);
    } catch (e) {
      process.stderr.write(`make-image: cannot read the ABI version of ${inPath}: ${e.message}\n`);
      return 1;
    }
  }
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const buildTime = args.o.buildTime ?? (epoch && /^\d+$/.test(epoch) ? Number(epoch) : Math.floor(Date.now() / 1000));
  const image = buildImage(wasm, { abiVersion, buildTime });
  try {
    writeFileSync(outPath, image);
  } catch (e) {
    process.stderr.write(`make-image: cannot write ${outPath}: ${e.message}\n`);
    return 1;
  }
  const id = crc32(wasm).toString(16).padStart(8, "0");
  process.stdout.write(`${outPath}: image ${id}, ABI ${abiVersion}, ${wasm.length} bytes of Wasm + ${IMAGE_HEADER_LEN}-byte header\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
