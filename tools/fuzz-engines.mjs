#!/usr/bin/env node
// Differential fuzzing of the two engines: the same image must give the same output under
// V8 (the virtual board, in this process) and under wasm3: the Linux firmware (sxs-fw,
// 64-bit), or with --engine qemu the firmware on the emulated 32-bit RISC-V board, whose
// wasm3 is built for a 32-bit target as on the ESP32.
//
// Each round writes a script of generated forms (tools/fuzz-gen.mjs: all twelve commands,
// errors, events, awaits with their timeouts, evals of stored code, memory hogs, nesting
// bombs) and runs it as a transcript (SPEC.md section 8: one request per form, virtual
// clock) on both, with the same random limits: processors, linear memory pages, and on
// the firmware a wasm3 stack of 8 KiB (the ESP32 without PSRAM) or 64 KiB. The QEMU board
// has its port's limits (1 page, an 8 KiB wasm3 stack): only processors vary there. The two
// transcripts must be identical byte for byte: every result, every log line, in the same
// order. A trap on either side, a firmware that exits non-zero or hangs, is a failure too.
//
//   node tools/fuzz-engines.mjs [--engine wasm3|qemu] [--seconds N] [--seed S] [--rounds R]
//                               [--round R] [--forms N] [--image PATH] [--firmware PATH]
//                               [--keep DIR] [--verbose]
//
// Rounds are deterministic: a failure is replayed with `--seed S --round R`, and its script
// is kept (in --keep DIR, else the temporary directory) with the firmware command that
// runs it. Prints one summary line; exits 1 on a difference, 2 on a usage error, 3
// when the image, the host library or the firmware has not been built.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Gen, latin1, prng } from "./fuzz-gen.mjs";
import { readOptions } from "./tool-args.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NAME = "fuzz-engines";

// the transcript's steps per sxs_run call, the same on both sides: a slice cut short by
// the budget yields, so a different budget could order tasks differently
const BUDGET = 10000;
// limits drawn for a round (the ESP32 settings are 1 page and an 8 KiB wasm3 stack)
const PROCESSORS = [1, 1, 2, 3];
const PAGES = [1, 1, 2, 4, 256];
const STACKS = [8192, 65536];

function usage(code) {
  (code ? console.error : console.log)(`usage: node tools/${NAME}.mjs [--engine wasm3|qemu] [--seconds N] [--seed S] [--rounds R]
                               [--round R] [--forms N] [--image PATH] [--firmware PATH]
                               [--keep DIR] [--verbose]

Runs generated scripts as transcripts under V8 and under wasm3 and compares them.
  --engine E       wasm3 (default): the Linux firmware, sxs-fw; qemu: the firmware on the
                   emulated RISC-V board (32-bit wasm3), through sxs run --engine qemu
  --seconds N      stop starting new rounds after N seconds (default 60)
  --seed S         the seed (default: from the clock; printed in the summary)
  --rounds R       stop after R rounds
  --round R        run only round R (to replay a failure)
  --forms N        at most N forms per script (default 40)
  --image PATH     the image (default build/sxs.wasm, or $SXS_IMAGE)
  --firmware PATH  the Linux firmware (default firmware/target/release/sxs-fw, or $SXS_FIRMWARE;
                   with --engine qemu the ELF, default as sxs run finds it)
  --keep DIR       write a failing round's script here (default: the temporary directory)
  --verbose        one line per round`);
  process.exit(code);
}

const opts = {
  engine: "wasm3",
  seconds: 60,
  seed: null,
  rounds: Infinity,
  round: null,
  forms: 40,
  image: process.env.SXS_IMAGE || join(ROOT, "build", "sxs.wasm"),
  firmware: null,
  keep: null,
  verbose: false,
};
{
  readOptions(NAME, process.argv.slice(2), usage, {
    "--engine": (v) => (opts.engine = v.str()),
    "--seconds": (v) => (opts.seconds = v.num()),
    "--seed": (v) => (opts.seed = v.num() >>> 0),
    "--rounds": (v) => (opts.rounds = v.num()),
    "--round": (v) => (opts.round = v.num()),
    "--forms": (v) => (opts.forms = Math.max(1, Math.floor(v.num()))),
    "--image": (v) => (opts.image = resolve(v.str())),
    "--firmware": (v) => (opts.firmware = resolve(v.str())),
    "--keep": (v) => (opts.keep = resolve(v.str())),
    "--verbose": () => (opts.verbose = true),
  });
  if (opts.engine !== "wasm3" && opts.engine !== "qemu") {
    console.error(`${NAME}: --engine is wasm3 or qemu, not ${opts.engine}`);
    usage(2);
  }
  if (opts.seed === null) opts.seed = (Date.now() ^ (process.pid << 16)) >>> 0;
  opts.firmware ??=
    opts.engine === "qemu"
      ? process.env.SXS_QEMU_FIRMWARE || join(ROOT, "firmware", "target", "qemu-rv32", "sxs-fw.elf")
      : process.env.SXS_FIRMWARE || join(ROOT, "firmware", "target", "release", "sxs-fw");
}

const transcriptJs = join(ROOT, "dist", "host", "board", "transcript.js");
for (const [what, path, how] of [
  ["the image", opts.image, "npm run build:image"],
  ["the host library", transcriptJs, "npm run build:host"],
  ["the firmware", opts.firmware, "npm run build:firmware"],
  ...(opts.engine === "qemu" ? [["the CLI", join(ROOT, "dist", "host", "cli", "main.js"), "npm run build:host"]] : []),
]) {
  if (!existsSync(path)) {
    console.error(`${NAME}: ${what} (${path}) is missing: build it with \`${how}\``);
    process.exit(3);
  }
}
const { runTranscript, transcriptOn } = await import(transcriptJs);
const { VirtualBoard } = await import(join(ROOT, "dist", "host", "board", "virtual-board.js"));
// A form that does not parse would make the whole script one parse error: the forms are
// checked with the image's own sxs_split first, and such forms left out.
const splitter = await VirtualBoard.create({ imagePath: opts.image, flash: false });
const parses = (text) => !("error" in splitter.splitBytes(latin1(text)));

// ---------------------------------------------------------------------------------------
// One round

/** A data list of numbers from random bits: reals (shortest round-trip form) and integers. */
function numbers(r) {
  const bits = () => (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  const f64 = new Float64Array(1);
  const u64 = new BigUint64Array(f64.buffer);
  const items = [];
  for (let n = 1 + r.int(12); n > 0; n--) {
    if (r.chance(0.5)) {
      u64[0] = bits();
      const x = f64[0];
      items.push(Number.isFinite(x) ? String(x) : r.pick(["0.0", "-0.0", "1e308", "2.2250738585072014e-308"]));
    } else {
      const x = BigInt.asIntN(r.pick([8, 16, 32, 33, 53, 64]), bits());
      items.push(String(x));
    }
  }
  // printed as the form's value, or stored where the generated gets and iterates look
  const list = `[${items.join(" ")}]`;
  return r.chance(0.5) ? list : `(core/kv/set k${r.int(10)} ${list})`;
}

/** The round's script and limits, all from (seed, round). */
function makeRound(round) {
  const r = prng((opts.seed ^ Math.imul(round + 1, 0x9e3779b1)) >>> 0);
  const processors = r.pick(PROCESSORS);
  let maxPages = r.pick(PAGES);
  let stack = r.pick(STACKS);
  if (opts.engine === "qemu") {
    // the port's own limits (firmware/ports/qemu-rv32/README.md)
    maxPages = 1;
    stack = 8192;
  }
  const gen = new Gen(r, processors);
  let script;
  if (r.chance(0.03)) {
    // whole requests of the generator, random bytes included: mostly a file that does
    // not parse, whose transcript is the one parse error line
    script = Buffer.concat([gen.request(), latin1("\n"), gen.request()]);
  } else {
    const forms = [];
    for (let n = 1 + r.int(opts.forms), tries = 0; forms.length < n && tries < 4 * n; tries++) {
      const f = r.chance(0.1) ? numbers(r) : gen.form(0);
      if (parses(f)) forms.push(f);
    }
    script = latin1(forms.join(r.pick(["\n", " ", "\n; a comment\n"])) + "\n");
  }
  return { processors, maxPages, stack, script };
}

async function underV8(rd) {
  const chunks = [];
  const write = (c) => chunks.push(Buffer.from(c));
  const limits = { processors: rd.processors, maxPages: rd.maxPages, imagePath: opts.image, runBudget: BUDGET };
  try {
    if (opts.engine === "qemu") {
      // as sxs run --engine qemu does: the forms are cut by a local image, and only
      // they reach the board (sxs-fw --transcript, like runTranscript, cuts them in the
      // board's own image, the whole file staged there)
      const board = await VirtualBoard.create({ ...limits, clock: "virtual" });
      try {
        await transcriptOn(board, rd.script, write, splitter);
      } finally {
        board.close();
      }
    } else {
      await runTranscript(rd.script, write, limits);
    }
  } catch (e) {
    chunks.push(latin1(`!! V8 board failed: ${e && e.message ? e.message : e}\n`));
  }
  return Buffer.concat(chunks);
}

/** The firmware's command for a round: sxs-fw itself, or the CLI on the QEMU board. */
function firmwareCommand(rd, file) {
  if (opts.engine === "qemu") {
    return [process.execPath, [join(ROOT, "bin", "sxs.mjs"), "run", "--engine", "qemu", "--image", opts.image,
      "--processors", String(rd.processors), "--transcript", file]];
  }
  return [opts.firmware, ["--image", opts.image, "--processors", String(rd.processors), "--max-pages", String(rd.maxPages),
    "--stack", String(rd.stack), "--budget", String(BUDGET), "--transcript", file]];
}

function underWasm3(rd, file) {
  writeFileSync(file, rd.script);
  const [cmd, argv] = firmwareCommand(rd, file);
  const env = opts.engine === "qemu" ? { ...process.env, SXS_QEMU_FIRMWARE: opts.firmware } : process.env;
  const p = spawnSync(cmd, argv, { timeout: 120_000, maxBuffer: 256 << 20, env });
  let out = p.stdout ?? Buffer.alloc(0);
  if (p.error || p.status !== 0) {
    const why = p.error ? p.error.message : p.signal ? `killed by ${p.signal}` : `exit ${p.status}`;
    const err = (p.stderr ?? Buffer.alloc(0)).toString("latin1").trim().split("\n").slice(-3).join(" | ");
    const who = opts.engine === "qemu" ? "sxs run --engine qemu" : "sxs-fw";
    out = Buffer.concat([out, latin1(`!! ${who} failed: ${why}${err ? `: ${err}` : ""}\n`)]);
  }
  return out;
}

/** The first line where a and b differ: [line number, a's line, b's line]. */
function firstDifference(a, b) {
  const la = a.toString("latin1").split("\n");
  const lb = b.toString("latin1").split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return [i + 1, la[i] ?? "(end)", lb[i] ?? "(end)"];
  }
  return [0, "", ""];
}

const clip = (s) => JSON.stringify(s.length > 200 ? s.slice(0, 200) + "…" : s);

// ---------------------------------------------------------------------------------------
// The campaign

const stats = { rounds: 0, lines: 0, results: 0, errors: 0, logs: 0, bytes: 0 };
const work = mkdtempSync(join(tmpdir(), "sxs-fuzz-engines-"));
const t0 = Date.now();
let failed = null;
try {
  const first = opts.round ?? 0;
  const last = opts.round ?? Infinity;
  for (let round = first; round <= last && stats.rounds < opts.rounds; round++) {
    if (opts.round === null && Date.now() - t0 >= opts.seconds * 1000) break;
    const rd = makeRound(round);
    const file = join(work, `round-${round}.slp`);
    const v8 = await underV8(rd);
    const w3 = underWasm3(rd, file);
    stats.rounds++;
    const text = v8.toString("latin1");
    stats.lines += text.split("\n").length - 1;
    stats.results += (text.match(/^=> /gm) ?? []).length;
    stats.errors += (text.match(/^=> @/gm) ?? []).length;
    stats.logs += (text.match(/^log: /gm) ?? []).length;
    stats.bytes += v8.length;
    const trapped = /^!! /m.test(text) || /^!! /m.test(w3.toString("latin1"));
    if (opts.verbose) {
      console.log(`round ${round}: ${rd.processors} processors, ${rd.maxPages} pages, stack ${rd.stack}: ${v8.length} bytes ${v8.equals(w3) && !trapped ? "identical" : "DIFFERENT"}`);
    }
    if (!v8.equals(w3) || trapped) {
      const keepDir = opts.keep ?? tmpdir();
      mkdirSync(keepDir, { recursive: true });
      const kept = join(keepDir, `sxs-engines-seed${opts.seed}-round${round}.slp`);
      writeFileSync(kept, rd.script);
      const [line, a, b] = v8.equals(w3) ? firstDifference(Buffer.alloc(0), w3) : firstDifference(v8, w3);
      failed = [
        `${NAME}: FAILED: seed ${opts.seed} round ${round} (${opts.engine}, ${rd.processors} processors, ${rd.maxPages} pages, wasm3 stack ${rd.stack})`,
        v8.equals(w3) ? `  both transcripts report a failure (line ${line})` : `  transcripts differ at line ${line}`,
        `  V8:    ${clip(a)}`,
        `  wasm3: ${clip(b)}`,
        `  script: ${kept}`,
        `  replay: node tools/${NAME}.mjs --engine ${opts.engine} --seed ${opts.seed} --round ${round}`,
        `          ${firmwareCommand(rd, kept).flat().join(" ")}`,
      ].join("\n");
      break;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  splitter.close();
}

const secs = ((Date.now() - t0) / 1000).toFixed(1);
if (failed) {
  console.error(failed);
  process.exit(1);
}
console.log(
  `${NAME}: ok: seed ${opts.seed}, ${secs} s, ${stats.rounds} rounds, ` +
    `${stats.lines} transcript lines (${stats.bytes} bytes) identical under V8 and ${opts.engine === "qemu" ? "wasm3 on QEMU" : "wasm3"} ` +
    `(${stats.results - stats.errors} values, ${stats.errors} errors, ${stats.logs} log lines), no traps`,
);
