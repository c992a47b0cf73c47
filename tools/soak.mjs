#!/usr/bin/env node
// Soak: one board, one session, the same work again and again, over the serial link. Where
// the fuzzers look for a wrong answer, this looks for what only shows with time: memory
// that is not given back, state that drifts, a queue or a task that is never emptied.
//
// The board is `sxs sim --engine E` (v8, wasm3 or qemu) on a pseudo-terminal with a flash
// file, so the K/V log fills and is compacted again and again. Once, subscriptions are set
// up (a handler that writes, one that logs, one that fails, one that publishes on) and the
// host watches a channel. Then each cycle runs about a hundred requests: pipelined batches
// on two processors (every command, values of every type, errors of every kind, events,
// awaits that answer and that time out, EXEC, evals of stored code, a 6 KB log line, a
// request over the longest input), reads back what the handlers wrote, deletes every key
// and waits until the board is idle. There are PERIOD different cycles, repeated in turn.
//
// A cycle must give the same answers, the same log lines and the same host events as the
// cycle one period before it, and leave no key, no queued entry and no live task behind.
// The image's heap in use must stop growing: after a warm-up period, its largest value in
// the second and in the last third of the run may not both exceed the one in the third
// before by more than HEAP_SLACK (a key index or a queue ring that reaches a new size once
// is not a leak; a leak grows in every third). The firmware's own memory must not grow:
// the resident size of sxs-fw (wasm3; the sim's process with v8) may not end above its
// largest in the first half of the run by more than a tolerance, and the QEMU board's free
// native heap may not end below its smallest in the first half.
//
//   node tools/soak.mjs [--engine v8|wasm3|qemu] [--seconds N] [--cycles N] [--processors N]
//                       [--baud N] [--json] [--verbose] [--inject-leak] [--inject-drift]
//
// Prints a line per cycle with --verbose (a progress line on a terminal), then a summary;
// --json prints the summary as one JSON object. Exits 0 when every check held, 1 when one
// failed (what and in which cycle), 2 on a usage error, 3 when something is not built.
// --inject-leak adds one subscription per cycle, which the board keeps: the heap then grows
// as with a leak, and the run must fail; --inject-drift adds a request whose answer is the
// cycle's number, which must fail the comparison (how the tests prove that the checks can).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { prng } from "./fuzz-gen.mjs";
import { readOptions } from "./tool-args.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NAME = "soak";
/** Distinct cycles: cycle k is compared with cycle k - PERIOD. */
const PERIOD = 3;
/** A warm-up period and three periods, one per third of the heap's trend. */
const MIN_CYCLES = 4 * PERIOD;
/** Requests in flight at once within a batch (the link's window paces them further). */
const PIPELINE = 16;
/**
 * Growth of the heap in use from one third of the run to the next that is not yet a leak:
 * what is kept for reuse settles at sizes that depend on timing (the queue rings double,
 * 24 bytes an entry, when pipelined requests and events happen to pile up higher than
 * before: one ring from 16 to 32 entries is 384 bytes), and which free block an
 * allocation gets varies by a few bytes. A leak grows in every third, by more in a longer run.
 */
const HEAP_SLACK = 1024;
/** Growth of a process's resident size that is not counted as a leak (allocator and GC slack). */
const RSS_SLACK_KB = { v8: 32768, wasm3: 512 };

function usage(code) {
  (code ? console.error : console.log)(`usage: node tools/${NAME}.mjs [--engine v8|wasm3|qemu] [--seconds N] [--cycles N] [--processors N]
                       [--baud N] [--json] [--verbose] [--inject-leak] [--inject-drift]

Runs the same cycles of work on one board over the serial link for a long time and checks
that nothing drifts: answers, logs, events, the image's heap and keys, the firmware's memory.
  --engine E       v8 (the virtual board, default), wasm3 (the Linux firmware) or qemu
  --seconds N      stop starting new cycles after N seconds (default 60)
  --cycles N       stop after N cycles (at least ${MIN_CYCLES}: a warm-up and three for the heap's trend)
  --processors N   the board's processors (default 2; requests go to processors 0 and 1)
  --baud N         the line rate the host paces its frames at (a pty has none): default
                   921600, 115200 with qemu (what its emulated UART keeps up with)
  --json           print the summary as JSON
  --verbose        one line per cycle
  --inject-leak    add a subscription per cycle, a leak of ~1 KB (the run must fail: a test of the checks)
  --inject-drift   add a request whose answer is the cycle's number (the run must fail at cycle ${PERIOD})`);
  process.exit(code);
}

const opts = { engine: "v8", seconds: 60, cycles: Infinity, processors: 2, baud: undefined, json: false, verbose: false, injectLeak: false, injectDrift: false };
{
  readOptions(NAME, process.argv.slice(2), usage, {
    "--engine": (v) => (opts.engine = v.str()),
    "--seconds": (v) => (opts.seconds = v.num()),
    "--cycles": (v) => (opts.cycles = Math.floor(v.num())),
    "--processors": (v) => (opts.processors = Math.floor(v.num())),
    "--baud": (v) => (opts.baud = Math.max(300, Math.floor(v.num()))),
    "--json": () => (opts.json = true),
    "--verbose": () => (opts.verbose = true),
    "--inject-leak": () => (opts.injectLeak = true),
    "--inject-drift": () => (opts.injectDrift = true),
  });
  if (!["v8", "wasm3", "qemu"].includes(opts.engine)) {
    console.error(`${NAME}: --engine is v8, wasm3 or qemu, not ${opts.engine}`);
    usage(2);
  }
  if (opts.cycles < MIN_CYCLES) {
    console.error(`${NAME}: --cycles must be at least ${MIN_CYCLES}`);
    usage(2);
  }
  // QEMU's emulated UART moves fewer bytes than 921600 baud would: a host pacing at that
  // rate piles data up in the pty, the ACKs wait behind it, and the board retransmits
  opts.baud ??= opts.engine === "qemu" ? 115200 : 921600;
  if (opts.processors < 2 || opts.processors > 8) {
    console.error(`${NAME}: --processors is 2 to 8`);
    usage(2);
  }
}

const clientJs = join(ROOT, "dist", "host", "client", "index.js");
const cliJs = join(ROOT, "bin", "sxs.mjs");
for (const [what, path, how] of [
  ["the image", join(ROOT, "build", "sxs.wasm"), "npm run build:image"],
  ["the host library", clientJs, "npm run build:host"],
  ...(opts.engine === "wasm3" ? [["the firmware", join(ROOT, "firmware", "target", "release", "sxs-fw"), "npm run build:firmware"]] : []),
  ...(opts.engine === "qemu" ? [["the RISC-V firmware", join(ROOT, "firmware", "target", "qemu-rv32", "sxs-fw.elf"), "npm run build:firmware"]] : []),
]) {
  if (!existsSync(path)) {
    console.error(`${NAME}: ${what} (${path}) is missing: build it with \`${how}\``);
    process.exit(3);
  }
}
const { openBoard } = await import(clientJs);

// ---------------------------------------------------------------------------------------
// The work

const SETUP = [
  "(core/event/sub $CHANNEL_B 1 {(core/kv/set ev/b1 $data)})",
  '(core/event/sub $CHANNEL_B 2 {(core/util/log "b2:" $data)})',
  "(core/event/sub $CHANNEL_C 3 {(core/event/pub $CHANNEL_D 4 $data)})",
  "(core/event/sub $CHANNEL_D 4 {(core/kv/set ev/d4 $data)})",
  "(core/event/sub $CHANNEL_E 5 {(core/kv/get ev/none)})",
];
const WATCH = ["F", 6];

/** A value of one of SLP's types, seeded. */
function value(r, i) {
  switch (r.int(7)) {
    case 0: return String(r.int(2000000) - 1000000);
    case 1: return `"${"abcdefghij".repeat(1 + r.int(30)).slice(0, 1 + r.int(300))}"`;
    case 2: return `'(a ${i} "s" 2.5 [x y])`;
    case 3: return `{(core/kv/get k/${i})}`;
    case 4: return `${r.int(1000)}.${r.int(1000)}`;
    case 5: return "9007199254740993";
    default: return `"\\x00\\n\\"${i}"`;
  }
}

/** Cycle `c`'s requests: batches (each pipelined, each request with its processor). */
function cycleWork(c, maxInput) {
  const r = prng(0x50a4 + (c % PERIOD) * 7919);
  const p0 = [];
  const keys = 40;
  for (let i = 0; i < keys; i++) p0.push(`(core/kv/set k/${i} ${value(r, i)})`);
  p0.push(`(core/kv/iterate "k/" ${r.int(10)} 10 {(core/kv/exists $key)})`);
  for (let i = 0; i < 20; i++) p0.push(`(core/kv/get k/${r.int(keys)})`);
  p0.push("(core/kv/snx k/snx 1)", "(core/kv/snx k/snx 2)", "(core/kv/cas k/snx 1 3)", "(core/kv/cas k/snx 1 4)");
  for (let i = 0; i < 5; i++) p0.push(`(core/kv/del k/${r.int(keys)})`);
  p0.push(`(core/kv/exists k/${r.int(keys)})`);
  p0.push(`(core/expr/eval "(core/kv/get k/${r.int(keys)})")`);
  p0.push('(core/kv/set code/1 {(core/kv/exists k/1) (core/util/log "code" $result)})', "(core/expr/eval (core/kv/get code/1))");
  // errors of every kind: arguments, unknown commands, keys, types, parse, limits
  p0.push("(core/kv/get)", "(core/nope 1)", '(core/kv/set "" 1)', "(core/kv/get ev/none)", "(core/kv/set k/x", `(core/kv/set k/big "${"v".repeat(1100)}")`);
  p0.push("(core/event/pub $CHANNEL_G 1 1)", "(core/expr/await 1)");
  // events: a handler that writes, one that logs, a chain, a failing handler, the host's watch
  p0.push(`(core/event/pub $CHANNEL_B 1 ${value(r, 1)})`, `(core/event/pub $CHANNEL_B 2 "${c % PERIOD}")`);
  p0.push(`(core/event/pub $CHANNEL_C 3 ${r.int(100000)})`, "(core/event/pub $CHANNEL_E 5 0)", `(core/event/pub $CHANNEL_F 6 '(${c % PERIOD} x))`);
  p0.push(`(core/expr/await (core/event/pub $CHANNEL_A 9 ${r.int(1000)}) $CHANNEL_A 9 2000)`, "(core/expr/await 1 $CHANNEL_A 10 20)");
  p0.push(`(core/event/pub EXEC 1 "(core/kv/set ex/1 ${r.int(100)})")`, '(core/event/pub EXEC 1 "(core/nope)")');
  p0.push(`(core/util/log "cycle" ${c % PERIOD} '(1 2.5 "s" [a]))`, `(core/util/log "${"L".repeat(6000)}")`);
  p0.push(`"${"o".repeat(maxInput + 1)}"`);
  if (opts.injectDrift) p0.push(String(c));
  // processor 1, at the same time: keys of its own
  const p1 = [];
  for (let i = 0; i < 15; i++) p1.push(`(core/kv/set y/${i} ${value(r, i)})`);
  for (let i = 0; i < 10; i++) p1.push(`(core/kv/get y/${r.int(15)})`);
  p1.push('(core/kv/iterate "y/" 0 100 {(core/kv/del $key)})');
  return [
    [...p0.map((t) => [0, t]), ...p1.map((t) => [1, t])],
    // after the board is idle: what the handlers and EXEC wrote, then every key deleted
    [[0, "(core/kv/get ev/b1)"], [0, "(core/kv/get ev/d4)"], [0, "(core/kv/get ex/1)"]],
    [[0, '(core/kv/iterate "" 0 100000 {(core/kv/del $key)})']],
    // a subscription holds its body until the board restarts: one more per cycle grows
    // the heap as a leak would, without a key or a different answer
    ...(opts.injectLeak ? [[[0, `(core/event/sub $CHANNEL_F 200 {(core/util/log "${"z".repeat(1000)}")})`]]] : []),
    // the same last request on each processor, one at a time: what a processor keeps
    // between requests ($result, the buffers it reuses) is then the same after every cycle
    ...Array.from({ length: opts.processors }, (_, p) => [[opts.processors - 1 - p, "0"]]),
  ];
}

// ---------------------------------------------------------------------------------------
// The board

function startBoard(flash) {
  const argv = [cliJs, "sim", "--engine", opts.engine, "--flash", flash, "--processors", String(opts.processors)];
  const child = spawn(process.execPath, argv, { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  // its last lines only: a long run must not grow this process either
  child.stderr.setEncoding("utf8").on("data", (d) => (err = (err + d).slice(-4096)));
  const exited = new Promise((r) => child.on("close", (code, signal) => r({ code, signal })));
  return new Promise((resolveBoard, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.on("close", (code) => reject(new Error(`sxs sim exited (${code}) before serving: ${err.trim()}`)));
    lines.once("line", (path) => {
      lines.on("line", () => {});
      resolveBoard({ path: path.trim(), child, exited, stderr: () => err });
    });
  });
}

/**
 * The pid whose memory counts: the firmware under `sxs sim --engine wasm3`, the sim itself
 * with v8; none with qemu (QEMU's own size says nothing: the board reports its free heap).
 */
function boardPid(simPid) {
  if (opts.engine === "v8") return simPid;
  if (opts.engine === "qemu") return undefined;
  const seen = [simPid];
  for (let i = 0; i < seen.length; i++) {
    let kids = "";
    try {
      kids = readFileSync(`/proc/${seen[i]}/task/${seen[i]}/children`, "utf8");
    } catch {
      continue;
    }
    for (const k of kids.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        if (readFileSync(`/proc/${k}/comm`, "utf8").trim() === "sxs-fw") return k;
      } catch {}
      seen.push(k);
    }
  }
  return undefined;
}

function rssKb(pid) {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// The run

const tty = process.stderr.isTTY && !opts.json;
const dir = mkdtempSync(join(tmpdir(), "sxs-soak-"));
const failures = [];
const cycles = [];
let board;
let client;
const started = Date.now();
let requests = 0;

function fail(cycle, what) {
  failures.push({ cycle, what });
}

try {
  board = await startBoard(join(dir, "flash.bin"));
  client = await openBoard(board.path, { baud: opts.baud, timeoutMs: 30000, requestTimeoutMs: 30000 });
  const hello = await client.info();
  let logs = [];
  let events = [];
  client.on("log", (text) => logs.push(text));
  client.on("event", (ch, topic, payload) => events.push(`${ch}/${topic} ${payload}`));
  await client.watch(...WATCH);
  for (const t of SETUP) {
    const a = await client.exec(t);
    if (a !== "true") throw new Error(`setup: ${t} answered ${a}`);
  }
  await client.settle({ timeoutMs: 30000 });
  const pid = boardPid(board.child.pid);

  for (let c = 0; c < opts.cycles && (Date.now() - started) / 1000 < opts.seconds; c++) {
    const t0 = Date.now();
    logs = [];
    events = [];
    const answers = [];
    for (const batch of cycleWork(c, hello.maxInput)) {
      for (let i = 0; i < batch.length; i += PIPELINE) {
        const part = batch.slice(i, i + PIPELINE);
        answers.push(...(await Promise.all(part.map(([processor, text]) => client.exec(text, { processor, timeoutMs: 60000 })))));
      }
      requests += batch.length;
      await client.settle({ timeoutMs: 60000 });
    }
    const info = await client.info();
    const rec = {
      cycle: c,
      ms: Date.now() - t0,
      requests: answers.length,
      answers,
      logs: [...logs].sort(),
      events: [...events].sort(),
      heapUsed: info.heapUsed,
      wasmMemory: info.wasmMemory,
      kvEntries: info.kvEntries,
      freeHeap: info.freeHeap,
      rssKb: rssKb(pid),
      badFrames: info.badFrames,
      retransmits: info.retransmits,
    };
    if (info.queued !== 0 || (info.liveTasks ?? 0) !== 0) fail(c, `not idle after the cycle: queued ${info.queued}, live tasks ${info.liveTasks}`);
    if (rec.kvEntries !== 0) fail(c, `${rec.kvEntries} keys left after deleting them all`);
    const prev = cycles[c - PERIOD];
    if (prev) {
      const firstDiff = (a, b) => a.findIndex((x, i) => x !== b[i]);
      if (rec.answers.length !== prev.answers.length || firstDiff(rec.answers, prev.answers) >= 0) {
        const i = firstDiff(rec.answers, prev.answers);
        fail(c, `answer ${i} differs from cycle ${prev.cycle}: ${JSON.stringify(String(rec.answers[i]).slice(0, 120))} against ${JSON.stringify(String(prev.answers[i]).slice(0, 120))}`);
      }
      if (rec.logs.join("\n") !== prev.logs.join("\n")) fail(c, `log lines differ from cycle ${prev.cycle} (${rec.logs.length} against ${prev.logs.length})`);
      if (rec.events.join("\n") !== prev.events.join("\n")) fail(c, `host events differ from cycle ${prev.cycle} (${rec.events.length} against ${prev.events.length})`);
      if (rec.wasmMemory !== prev.wasmMemory) fail(c, `linear memory ${rec.wasmMemory} after the cycle, ${prev.wasmMemory} after cycle ${prev.cycle}`);
      // what it was compared by is no longer needed: a long run keeps only the figures
      prev.answers = prev.logs = prev.events = null;
    }

    cycles.push(rec);
    const line = `cycle ${c}: ${rec.requests} requests in ${rec.ms} ms; heap in use ${rec.heapUsed}, keys ${rec.kvEntries}, linear memory ${rec.wasmMemory}${rec.rssKb !== undefined ? `, RSS ${rec.rssKb} KB` : ""}${opts.engine === "qemu" ? `, free native heap ${rec.freeHeap}` : ""}`;
    if (opts.verbose && !opts.json) console.log(line);
    else if (tty) process.stderr.write(`\r${line}\x1b[K`);
    if (failures.length) break;
  }
  if (tty) process.stderr.write("\r\x1b[K");
  if (cycles.length < MIN_CYCLES && !failures.length) fail(cycles.length, `only ${cycles.length} cycles ran: at least ${MIN_CYCLES} are needed (raise --seconds)`);

  // the image's heap: after the first period (which warms up), the largest heap in use of
  // each third of the run; growth from one third to the next in both is a leak
  if (!failures.length) {
    const warm = cycles.slice(PERIOD);
    const n = Math.floor(warm.length / (3 * PERIOD)) * PERIOD;
    const m = [0, 1, 2].map((i) => Math.max(...warm.slice(i * n, (i + 1) * n).map((x) => x.heapUsed)));
    if (m[1] > m[0] + HEAP_SLACK && m[2] > m[1] + HEAP_SLACK) {
      fail(cycles.at(-1).cycle, `heap in use keeps growing: at most ${m[0]}, then ${m[1]}, then ${m[2]} bytes in the thirds of the run after cycle ${PERIOD - 1}`);
    }
  }

  // the firmware's own memory: no growth past the first half of the run
  const half = cycles.slice(Math.floor(cycles.length / 2));
  const first = cycles.slice(0, Math.floor(cycles.length / 2));
  const rss = cycles.map((x) => x.rssKb).filter((x) => x !== undefined);
  if (!failures.length && rss.length === cycles.length && first.length) {
    const limit = Math.max(...first.map((x) => x.rssKb)) + RSS_SLACK_KB[opts.engine];
    const last = half.at(-1).rssKb;
    if (last > limit) fail(half.at(-1).cycle, `resident size grew to ${last} KB (at most ${Math.max(...first.map((x) => x.rssKb))} KB in the first half)`);
  }
  if (!failures.length && opts.engine === "qemu" && first.length) {
    const low = Math.min(...first.map((x) => x.freeHeap));
    const last = half.at(-1).freeHeap;
    if (last < low) fail(half.at(-1).cycle, `the board's free native heap fell to ${last} bytes (at least ${low} in the first half)`);
  }
  await client.close();
  client = undefined;
} catch (e) {
  fail(cycles.length, `${e.message}${board ? ` ${board.stderr().trim()}` : ""}`.trim());
} finally {
  if (client) await client.dispose().catch(() => {});
  if (board) {
    board.child.kill("SIGTERM");
    const t = setTimeout(() => board.child.kill("SIGKILL"), 3000);
    await board.exited;
    clearTimeout(t);
  }
  rmSync(dir, { recursive: true, force: true });
}

const seconds = (Date.now() - started) / 1000;
const pick = (k) => cycles.map((x) => x[k]).filter((x) => x !== undefined);
const summary = {
  engine: opts.engine,
  ok: failures.length === 0,
  cycles: cycles.length,
  requests,
  seconds: Math.round(seconds * 10) / 10,
  requestsPerSecond: Math.round(requests / seconds),
  heapUsed: { first: cycles[0]?.heapUsed, last: cycles.at(-1)?.heapUsed },
  rssKb: pick("rssKb").length ? { first: pick("rssKb")[0], max: Math.max(...pick("rssKb")), last: pick("rssKb").at(-1) } : null,
  freeNativeHeap: opts.engine === "qemu" && cycles.length ? { first: cycles[0].freeHeap, min: Math.min(...pick("freeHeap")), last: cycles.at(-1).freeHeap } : null,
  cycleMs: cycles.length ? { first: cycles[0].ms, last: cycles.at(-1).ms, max: Math.max(...pick("ms")) } : null,
  badFrames: cycles.at(-1)?.badFrames ?? 0,
  retransmits: cycles.at(-1)?.retransmits ?? 0,
  failures,
};
if (opts.json) console.log(JSON.stringify(summary));
else {
  const mem = [
    `heap in use ${summary.heapUsed.first} -> ${summary.heapUsed.last}`,
    summary.rssKb ? `RSS ${summary.rssKb.first} -> ${summary.rssKb.last} KB (max ${summary.rssKb.max})` : null,
    summary.freeNativeHeap ? `free native heap ${summary.freeNativeHeap.first} -> ${summary.freeNativeHeap.last} (min ${summary.freeNativeHeap.min})` : null,
  ].filter(Boolean).join(", ");
  console.log(
    `${NAME} (${opts.engine}): ${summary.ok ? "ok" : "FAILED"}: ${cycles.length} cycles, ${requests.toLocaleString("en-US")} requests in ${summary.seconds} s (${summary.requestsPerSecond}/s); ${mem}; cycle ${summary.cycleMs?.first} -> ${summary.cycleMs?.last} ms; ${summary.badFrames} bad frames, ${summary.retransmits} retransmits`,
  );
  for (const f of failures) console.log(`  cycle ${f.cycle}: ${f.what}`);
}
process.exit(failures.length ? 1 : 0);
