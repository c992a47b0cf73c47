#!/usr/bin/env node
// (Re)generates test/vectors/slp-buffer.json: the SLP buffers (format version 1,
// assembly/slp/format.ts) that the current image builds for a list of texts, through
// the sxs_encode export of build/sxs.wasm (docs/abi.md). The texts cover every unit type,
// the INT32/INT64 boundary, symbol deduplication, nested lists and their offset tables,
// quote and error prefixes, strings with escapes, UTF-8 and the empty root.
//
// The file pins the format: test/core/buffer.test.ts checks that the image still builds
// exactly these bytes, and checks a few of them byte by byte against the layout that
// format.ts documents (so the file is not just "whatever the image did once"). The C
// firmware and any other reader of SLP buffers can use the same file.
//
//   node test/vectors/gen-slp-buffer.mjs          write the file
//   node test/vectors/gen-slp-buffer.mjs --check  exit 1 if the file differs from what it would write

import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, "slp-buffer.json");
const IMAGE = process.env.SXS_IMAGE || join(HERE, "..", "..", "build", "sxs.wasm");

/** Texts as latin1 strings (one character per byte). */
export const TEXTS = [
  // the empty root, comments and whitespace only
  "",
  " ; nothing but a comment\n",
  // INT32 and INT64, and the boundary between them
  "0",
  "42",
  "-1",
  "2147483647",
  "-2147483648",
  "2147483648",
  "-2147483649",
  "9223372036854775807",
  "-9223372036854775808",
  "42 -2147483649",
  // REAL
  "1.5",
  "-0.0",
  "[1.5 -0.0]",
  "1e-400",
  "5e-324",
  "1.7976931348623157e308",
  "0.1",
  // STRING, with every escape and raw bytes
  '""',
  '"hi"',
  '"a\\"b\\\\c\\n\\t\\r\\0\\x7f\\xff"',
  '"\xc3\xa9\xe2\x9c\x93"',
  '"line one\nline two"',
  // SYMBOL, and deduplication: each name is stored once per buffer
  "x",
  "x x",
  "(a b a)",
  "(a b a c b)",
  "[x y] (x y) {y x}",
  "core/kv/set core/kv/set core/kv/get",
  "\xc3\xa9t\xc3\xa9",
  // CALL, BODY, DATA: empty, nested, offsets
  "()",
  "{}",
  "[]",
  "() {} []",
  "(a (b [c {d}]) e)",
  "[[[]]]",
  "[1 [2 [3]] 4]",
  '[1 "two" 3.0 four (5) {6} [7]]',
  // QUOTE and ERROR
  "'x",
  "@x",
  '@"boom"',
  "''x",
  "@'(a)",
  "[@x 'y]",
  "['q @\"e\" \"\"]",
  "'(core/kv/get k)",
  // several forms: a request
  '(core/kv/set k "v") (core/kv/get k)',
  "(core/event/sub A 1 {(core/util/log $data)}) (core/event/pub A 1 [1 2])",
  // 64 levels, the deepest a text may nest
  "[".repeat(64) + "]".repeat(64),
];

async function loadImage() {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: build it with \`npm run build:image\``);
  const module = await WebAssembly.compile(readFileSync(IMAGE));
  // sxs_encode needs none of the imports; give every function import a stub (no flash
  // partition: host_flash_size answers 0, so the store stays in RAM)
  const env = { host_now: () => 0, host_flash_size: () => 0 };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "env" && imp.kind === "function" && !(imp.name in env)) env[imp.name] = () => 0;
  }
  const instance = await WebAssembly.instantiate(module, { env });
  const x = instance.exports;
  if (x.sxs_init() !== 0) throw new Error("sxs_init failed");
  return x;
}

function encodeWith(x, text) {
  const bytes = Buffer.from(text, "latin1");
  const p = x.sxs_input(bytes.length) >>> 0;
  if (p && bytes.length) new Uint8Array(x.memory.buffer).set(bytes, p);
  const block = x.sxs_encode(bytes.length) >>> 0;
  if (!block) throw new Error("sxs_encode returned 0");
  const dv = new DataView(x.memory.buffer);
  const status = dv.getInt32(block, true);
  const n = dv.getUint32(block + 4, true);
  const out = Buffer.from(new Uint8Array(x.memory.buffer).slice(block + 8, block + 8 + n));
  x.sxs_free(block);
  if (status < 0) throw new Error(`${JSON.stringify(text)} does not parse: ${out.toString("latin1")}`);
  return out;
}

export async function generate() {
  const x = await loadImage();
  const vectors = TEXTS.map((text) => ({ text, hex: encodeWith(x, text).toString("hex") }));
  return {
    description:
      "SLP buffer format version 1 (assembly/slp/format.ts): sxs_encode(text) for each text. `text` is a latin1 " +
      "string (one character per byte of the source text); `hex` is the buffer, whose root is a BODY of the " +
      "top-level forms. Regenerate with `node test/vectors/gen-slp-buffer.mjs`.",
    version: 1,
    vectors,
  };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const json = JSON.stringify(await generate(), null, 2) + "\n";
  if (process.argv.includes("--check")) {
    const cur = existsSync(OUT) ? readFileSync(OUT, "utf8") : "";
    if (cur !== json) {
      console.error(`${OUT} differs from what the current image builds`);
      process.exit(1);
    }
    console.log(`${OUT}: up to date (${TEXTS.length} vectors)`);
  } else {
    writeFileSync(OUT, json);
    console.log(`wrote ${OUT} (${TEXTS.length} vectors)`);
  }
}
