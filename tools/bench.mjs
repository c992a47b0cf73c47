#!/usr/bin/env node
// npm run bench: prints the project's figures, each with how it was measured and the
// target it is held to. Figures are measured here, in this run; nothing is assumed.
//
//   node tools/bench.mjs [--quick] [--json] [--only NAME[,NAME...]]
//
// Sections: size, throughput, parse, memory, scaling, wasm3, link. The image is driven through the
// host library's raw ABI wrapper (dist/host/image/image.js), the same path the virtual
// board uses, minus promises.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(`usage: node tools/bench.mjs [--quick] [--json] [--only size,throughput,parse,memory,scaling,wasm3,qemu,link]

Measures the image build/sxs.wasm under V8 and prints each figure with its method and target.
  --quick   shorter runs (CI smoke)
  --json    one JSON object at the end instead of the table
  --only    run only the named sections`);
  process.exit(0);
}
const quick = args.includes("--quick");
const json = args.includes("--json");
const onlyArg = args.indexOf("--only");
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(",")) : null;

const imagePath = path.join(root, "build/sxs.wasm");
const hostImage = path.join(root, "dist/host/image/image.js");
for (const f of [imagePath, hostImage]) {
  if (!fs.existsSync(f)) {
    console.error(`bench: ${path.relative(root, f)} is missing: run npm run build first`);
    process.exit(3);
  }
}
const { SxsImage, Limit, Stat } = await import(hostImage);
const { NorFlash, FlashPartition, PARTITIONS } = await import(path.join(root, "dist/host/board/flash.js"));

const results = [];
function report(section, name, value, unit, target, method) {
  results.push({ section, name, value, unit, target, method });
  if (!json) {
    const v = typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 2 }) : value;
    console.log(`  ${name}: ${v} ${unit}${target ? `   (target: ${target})` : ""}`);
    console.log(`      measured by: ${method}`);
  }
}
function heading(s) {
  if (!json) console.log(`\n${s}`);
}

/** A fresh image with result/log counters, its K/V log on an in-memory flash as on the default virtual board. */
async function freshImage(limits = {}, { flash = true } = {}) {
  const counters = { results: 0, logs: 0, last: null };
  const image = await SxsImage.load(
    {
      result(_req, bytes) {
        counters.results++;
        counters.last = bytes;
      },
      log() {
        counters.logs++;
      },
      event() {},
      now: () => 0,
      ...(flash ? { kvFlash: new FlashPartition(NorFlash.memory(), PARTITIONS.kv) } : {}),
    },
    { path: imagePath },
  );
  for (const [id, v] of Object.entries(limits)) {
    if (image.limit(Number(id), v) !== 0) throw new Error(`limit ${id}=${v} refused`);
  }
  if (image.init() !== 0) throw new Error("init failed");
  return { image, counters };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
let nextReq = 1;

/** Submits each line as its own request and runs the board until all are answered. */
function runLines(image, encoded) {
  for (const b of encoded) {
    let r = image.submitBytes(nextReq, 0, b);
    while (r === -1) {
      image.run(1 << 30);
      r = image.submitBytes(nextReq, 0, b);
    }
    if (r !== 0) throw new Error(`submit returned ${r}`);
    nextReq++;
  }
  while (image.run(1 << 30)) {}
}

function execOne(image, counters, text) {
  runLines(image, [enc.encode(text)]);
  return dec.decode(counters.last);
}

// ---------------------------------------------------------------------------------------

async function sectionSize() {
  heading("Image");
  const size = fs.statSync(imagePath).size;
  report("size", "build/sxs.wasm", size, "bytes", "<= 32768 bytes (release build, -Oz)", "fs.statSync(build/sxs.wasm).size after npm run build:image");
}

/** The mixed workload: set/get/cas/iterate/pub/sub-handler, one line per command. */
function mixedLines(n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const k = `user:${i % 100}:name`;
    switch (i % 6) {
      case 0: lines.push(`(core/kv/set ${k} "value-${i}")`); break;
      case 1: lines.push(`(core/kv/get ${k})`); break;
      case 2: lines.push(`(core/kv/cas ${k} "value-${i - 2}" "value-${i}")`); break;
      case 3: lines.push(`(core/kv/iterate "user:${i % 10}" 0 3 {(core/kv/exists $key)})`); break;
      case 4: lines.push(`(core/event/pub $CHANNEL_A 1 ${i})`); break;
      default: lines.push(`(core/kv/del ${k})`); break;
    }
  }
  return lines;
}

async function sectionThroughput() {
  heading("Throughput under V8");
  const { image, counters } = await freshImage();
  // the pub lines each wake this handler: its run is part of the work measured
  execOne(image, counters, "(core/event/sub $CHANNEL_A 1 {(core/kv/set last $data)})");
  const encoded = mixedLines(1200).map((l) => enc.encode(l));
  for (let i = 0; i < 30; i++) runLines(image, encoded); // warm up
  const seconds = quick ? 0.5 : 3;
  const steps0 = image.stat(Stat.STEPS);
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    runLines(image, encoded);
    n += encoded.length;
  }
  const dt = (performance.now() - t0) / 1000;
  const steps = image.stat(Stat.STEPS) - steps0;
  report(
    "throughput",
    "mixed commands per second",
    Math.round(n / dt),
    "commands/s",
    ">= 1,000,000 commands/s",
    `${n.toLocaleString("en-US")} requests of one command each (set/get/cas/iterate 3 keys/pub to a subscribed topic/del, cycling), each staged, submitted, parsed, dispatched, run and answered through host_result, in ${dt.toFixed(2)} s (${(steps / n).toFixed(2)} evaluation steps per command)`,
  );
}

/** Random records as SLP text and as the same data in JSON (symbols become strings). */
function parseCorpus(targetBytes) {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const words = ["alpha", "beta", "gamma", "delta", "user:1:name", "metrics:cpu:avg", "status", "ok"];
  const slp = [];
  const js = [];
  let size = 0;
  while (size < targetBytes) {
    const id = Math.floor(rnd() * 1e6);
    const score = Math.round(rnd() * 1e6) / 100;
    const name = words[Math.floor(rnd() * words.length)] + "-" + Math.floor(rnd() * 1000);
    const tag = words[Math.floor(rnd() * words.length)];
    const tags = [Math.floor(rnd() * 100), Math.floor(rnd() * 100), Math.floor(rnd() * 100)];
    const s = `[${id} ${score.toFixed(2)} "${name}" ${tag} [${tags.join(" ")}]]`;
    slp.push(s);
    js.push(`[${id},${score.toFixed(2)},"${name}","${tag}",[${tags.join(",")}]]`);
    size += s.length + 1;
  }
  return { slp: "[" + slp.join(" ") + "]", json: "[" + js.join(",") + "]" };
}

async function sectionParse() {
  heading("Parsing");
  const bytes = quick ? 200_000 : 1_000_000;
  const { slp, json } = parseCorpus(bytes);
  const { image } = await freshImage({ [Limit.MAX_INPUT]: 8 << 20, [Limit.MAX_PAGES]: 2048 });
  const slpBytes = enc.encode(slp);
  const rounds = quick ? 5 : 20;
  // warm up both
  for (let i = 0; i < 3; i++) {
    image.encode(slpBytes);
    JSON.parse(json);
  }
  let t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const r = image.encode(slpBytes);
    if (!r || !("bytes" in r)) throw new Error("parse failed");
  }
  const slpSec = (performance.now() - t0) / 1000;
  t0 = performance.now();
  for (let i = 0; i < rounds; i++) JSON.parse(json);
  const jsonSec = (performance.now() - t0) / 1000;
  const slpRate = (slpBytes.length * rounds) / slpSec / 1e6;
  const jsonRate = (json.length * rounds) / jsonSec / 1e6;
  report("parse", "SLP parse throughput", slpRate, "MB/s", ">= half of JSON.parse", `sxs_encode (text -> one SLP buffer, copied out) of a ${(slpBytes.length / 1e6).toFixed(2)} MB data list of records, ${rounds} rounds; staging copy included`);
  report("parse", "JSON.parse throughput (same run)", jsonRate, "MB/s", "", `JSON.parse of the same records written as JSON (${(json.length / 1e6).toFixed(2)} MB), ${rounds} rounds`);
  report("parse", "SLP / JSON.parse", slpRate / jsonRate, "ratio", ">= 0.5", "the two figures above");
}

async function sectionMemory() {
  heading("Memory");
  // 1,000 entries of 16-byte keys and 16-byte values, plus 64 subscriptions
  const lines = [];
  for (let i = 0; i < 1000; i++) lines.push(`(core/kv/set key-${String(i).padStart(12, "0")} "val-${String(i).padStart(12, "0")}")`);
  for (let i = 0; i < 64; i++) lines.push(`(core/event/sub $CHANNEL_B ${i} {(core/kv/set seen $data)})`);
  const encoded = lines.map((l) => enc.encode(l));
  const { image, counters } = await freshImage();
  let bad = 0;
  const before = image.stat(Stat.HEAP_USED);
  for (const b of encoded) {
    runLines(image, [b]);
    if (dec.decode(counters.last) !== "true") bad++;
  }
  const inUse = image.stat(Stat.HEAP_USED);
  const memBytes = image.stat(Stat.MEMORY_BYTES);
  report("memory", "heap in use for 1,000 entries + 64 subscriptions", inUse, "bytes", "", `sxs_stat(1) after 1,000 (core/kv/set <16-byte key> "<16-byte value>") and 64 subs (${bad} failed; ${before} bytes in use before)`);
  report("memory", "linear memory grown to", memBytes, `bytes (${memBytes / 65536} pages)`, "<= 131072 bytes (2 pages)", "sxs_stat(3) on a board with the default page ceiling after the same workload");
  // the same workload on a board capped at 2 pages: all of it must fit, and the board must keep serving
  const capped = await freshImage({ [Limit.MAX_PAGES]: 2 });
  let cappedBad = 0;
  for (const b of encoded) {
    runLines(capped.image, [b]);
    if (dec.decode(capped.counters.last) !== "true") cappedBad++;
  }
  const answer = execOne(capped.image, capped.counters, "(core/kv/get key-000000000999)");
  report("memory", "the same workload with LIMIT_MAX_PAGES = 2", cappedBad === 0 && answer === '"val-000000000999"' ? "fits" : `DOES NOT FIT (${cappedBad} failed)`, "", "fits in 2 pages", `sxs_limit(MAX_PAGES, 2), then the 1,064 requests and a get (largest free block left: ${capped.image.stat(Stat.LARGEST_FREE)} bytes)`);
}

async function sectionScaling() {
  heading("Scaling: one request of N commands");
  const sizes = quick ? [2000, 20000] : [2000, 20000, 200000];
  const rows = [];
  // warm up the engine's compiled code on a throwaway board first
  {
    const { image } = await freshImage({ [Limit.MAX_INPUT]: 1 << 20 });
    const warm = [];
    for (let i = 0; i < 3000; i++) warm.push(i % 3 === 0 ? `(core/kv/set w${i % 100} ${i})` : `(core/kv/exists w${i % 100})`);
    for (let r = 0; r < 5; r++) runLines(image, [enc.encode(warm.join("\n"))]);
  }
  for (const n of sizes) {
    // a bounded working set (1,000 keys): the store stays the same size, so the figure is about the request
    const parts = [];
    for (let i = 0; i < n; i++) {
      // each set is followed by a get and an exists of the key it just wrote
      const k = `k${(i - (i % 3)) % 1000}`;
      parts.push(i % 3 === 0 ? `(core/kv/set ${k} ${i})` : i % 3 === 1 ? `(core/kv/get ${k})` : `(core/kv/exists ${k})`);
    }
    const text = enc.encode(parts.join("\n"));
    const { image, counters } = await freshImage({ [Limit.MAX_INPUT]: 64 << 20, [Limit.MAX_PAGES]: 4096, [Limit.MAX_STEPS]: 0x7fffffff });
    const t0 = performance.now();
    runLines(image, [text]);
    const ms = performance.now() - t0;
    const answer = dec.decode(counters.last);
    if (answer.startsWith("@")) throw new Error(`scaling request failed: ${answer}`);
    rows.push({ n, ms, bytes: text.length });
  }
  for (const r of rows) {
    report("scaling", `${r.n.toLocaleString("en-US")} commands in one request`, r.ms, `ms (${((r.ms * 1000) / r.n).toFixed(2)} µs per command)`, "", `one request of ${(r.bytes / 1e6).toFixed(2)} MB (set/get/exists over 1,000 keys), submit to answer, MAX_INPUT and memory raised`);
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  const perCmdFirst = first.ms / first.n;
  const perCmdLast = last.ms / last.n;
  report("scaling", "time per command, largest / smallest request", perCmdLast / perCmdFirst, "ratio", "about 1 (linear growth)", "the figures above divided by N");
}

async function sectionWasm3() {
  heading("Under wasm3 (the Linux firmware, firmware/)");
  const fw = path.join(root, "firmware/target/release/sxs-fw");
  if (!fs.existsSync(fw)) {
    report("wasm3", "wasm3 figures", "not measured", "", "", "firmware/target/release/sxs-fw is missing: npm run build:firmware (needs cargo)");
    return;
  }
  const { spawnSync } = await import("node:child_process");
  const os = await import("node:os");
  const n = quick ? 12000 : 120000;
  const file = path.join(os.tmpdir(), `sxs-bench-${process.pid}.txt`);
  fs.writeFileSync(file, "(core/event/sub $CHANNEL_A 1 {(core/kv/set last $data)})\n" + mixedLines(n).join("\n") + "\n");
  const hasTime = fs.existsSync("/usr/bin/time");
  const cmd = hasTime ? "/usr/bin/time" : fw;
  const argv = hasTime ? ["-f", "%M", fw, "--image", imagePath] : ["--image", imagePath];
  // wall clock on a shared VM varies by tens of percent from run to run: the figure is
  // the median of three runs (one with --quick), each run's rate given in the method
  const input = fs.readFileSync(file);
  const runs = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, argv, { input, maxBuffer: 256 << 20 });
    const sec = (performance.now() - t0) / 1000;
    const answers = r.stdout.toString().split("\n").filter((l) => l.startsWith("=> ")).length;
    if (r.status !== 0 || answers !== n + 1) {
      fs.unlinkSync(file);
      throw new Error(`firmware run failed: exit ${r.status}, ${answers} answers, ${r.stderr.toString().slice(0, 200)}`);
    }
    const kb = hasTime ? Number(r.stderr.toString().trim().split("\n").pop()) : 0;
    runs.push({ rate: n / sec, kb });
  }
  fs.unlinkSync(file);
  const rates = runs.map((x) => x.rate);
  const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)];
  const each = rates.map((x) => Math.round(x).toLocaleString("en-US")).join(", ");
  report("wasm3", "mixed commands per second under wasm3", Math.round(median), "commands/s", ">= 100,000 commands/s", `sxs-fw (wasm3 0.5.0) text mode fed ${n.toLocaleString("en-US")} lines of the same mixed workload on stdin, one request per line, wall time including process start and stdio; ${runs.length > 1 ? `the median of ${runs.length} runs (${each} commands/s)` : "one run"}`);
  if (hasTime) {
    report("wasm3", "peak native memory of the Linux firmware", Math.max(...runs.map((x) => x.kb)), "KB (max RSS)", "", `/usr/bin/time -f %M over the run${runs.length > 1 ? "s" : ""} above (the largest)`);
  }
  // time from process start to HELLO: the link on stdio, the ENTER sequence written at
  // once; the clock stops when the HELLO frame has been decoded
  const { spawn } = await import("node:child_process");
  const { Deframer, ENTER_SEQUENCE } = await import(path.join(root, "dist/host/link/deframer.js"));
  const { MsgType } = await import(path.join(root, "dist/host/link/messages.js"));
  const helloOnce = () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(fw, ["--stdio", "--image", imagePath], { stdio: ["pipe", "pipe", "ignore"] });
      const deframer = new Deframer();
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("no HELLO from sxs-fw --stdio within 10 s"));
      }, 10000);
      child.stdout.on("data", (d) => {
        for (const ev of deframer.feed(new Uint8Array(d))) {
          if (ev.kind === "frame" && ev.frame.type === MsgType.HELLO) {
            const ms = performance.now() - t0;
            clearTimeout(timer);
            child.kill("SIGTERM");
            resolve(ms);
          }
        }
      });
      child.stdin.on("error", () => {});
      child.stdin.write(Buffer.from(ENTER_SEQUENCE));
    });
  const times = [];
  for (let i = 0; i < 5; i++) times.push(await helloOnce());
  times.sort((a, b) => a - b);
  report("wasm3", "start to HELLO", times[2], "ms (median of 5)", "", "spawn sxs-fw --stdio, write the ENTER sequence at once; until its HELLO frame is decoded (image loaded, m3_CompileModule, sxs_init, link up)");
}

/**
 * The serial link end to end: the host library (connectBoard) and the board side of the
 * virtual board (LinkServer running build/sxs.wasm on an in-memory NOR flash), joined by
 * the link emulator paced at 921600 baud with 16 ms latency each way, on real timers.
 */
async function sectionLink() {
  heading("Serial link (emulator: 921600 baud 8N1, 16 ms latency each way)");
  const lib = (f) => import(path.join(root, "dist/host", f));
  const { createLinkPair } = await lib("link/emulator.js");
  const { encodeFrame } = await lib("link/frame.js");
  const { encodeMessage, execMessage, MsgType } = await lib("link/messages.js");
  const { LinkServer } = await lib("board/link-server.js");
  const { connectBoard, streamTransport } = await lib("client/index.js");
  const { buildImage } = await lib("link/image-header.js");
  const { ABI_VERSION } = await lib("image/image.js");
  const BAUD = 921600;
  const BPMS = BAUD / 10 / 1000; // bytes per ms on an 8N1 line

  const pair = createLinkPair({ baud: BAUD, latencyMs: 16 });
  const wasm = fs.readFileSync(imagePath);
  const server = new LinkServer({ flash: NorFlash.memory(), install: buildImage(wasm, { abiVersion: ABI_VERSION }), bytesPerMs: BPMS });
  server.attach((b) => pair.b.write(Buffer.from(b)));
  pair.b.on("data", (d) => server.input(new Uint8Array(d)));
  await server.start();
  const client = await connectBoard(streamTransport(pair.a, { path: "emulator", baud: BAUD }), { timeoutMs: 10000 });
  try {
    // flash: a 32 KiB image file (the project's image padded with a custom section)
    const target = 32768;
    const headerLen = buildImage(wasm, { abiVersion: ABI_VERSION }).length - wasm.length;
    const padLen = target - headerLen - wasm.length - 3; // custom section: id, 2-byte LEB size, name "pad"
    if (padLen < 4 || padLen >= 1 << 14) throw new Error(`link bench: the image (${wasm.length} bytes) leaves no room to pad the file to ${target} bytes`);
    const pad = new Uint8Array(3 + padLen);
    pad[0] = 0;
    pad[1] = (padLen & 0x7f) | 0x80;
    pad[2] = padLen >> 7;
    const body = new Uint8Array(padLen);
    body[0] = 3;
    body.set([0x70, 0x61, 0x64], 1); // "pad"
    pad.set(body, 3);
    const file = buildImage(Uint8Array.from([...wasm, ...pad]), { abiVersion: ABI_VERSION });
    const res = await client.flash(file);
    const wire = file.length / BPMS / 1000;
    report("link", "flash a 32 KiB image", res.commitSeconds / wire, "x raw wire time", "<= 1.25", `client.flash(${file.length.toLocaleString("en-US")}-byte image file): ${res.commitSeconds.toFixed(3)} s from FLASH_BEGIN to the answered commit (CRC and load checks included) vs ${wire.toFixed(3)} s for its bytes on the wire; ${(res.rate / 1024).toFixed(1)} KiB/s; back up with the new image after ${res.totalSeconds?.toFixed(3)} s`);

    // 20-byte commands, pipelined
    const n = quick ? 1000 : 4000;
    const text = (i) => `(core/kv/get k${String(i % 100000).padStart(5, "0")})`;
    if (text(1).length !== 20) throw new Error("the command is not 20 bytes");
    const frameBytes = encodeFrame({ type: MsgType.EXEC, flags: 0, seq: 0, ack: 0, credit: 0, req: 1, payload: encodeMessage(execMessage(1, 0, text(1))).payload }).length;
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => client.exec(text(i), { timeoutMs: 60000 })));
    const sec = (performance.now() - t0) / 1000;
    const expected = '@"core/kv/get: key not found"';
    const wrong = answers.find((a) => a !== expected);
    if (wrong !== undefined) throw new Error(`link bench: unexpected answer ${wrong}`);
    const lineMax = (BPMS * 1000) / frameBytes;
    report("link", "20-byte commands over the link", n / sec / lineMax, "of what the wire carries", ">= 0.8", `${n.toLocaleString("en-US")} EXECs of ${text(1)} sent at once through client.exec: ${Math.round(n / sec).toLocaleString("en-US")} commands/s answered; the wire carries ${Math.round(lineMax).toLocaleString("en-US")}/s of these ${frameBytes}-byte frames`);
  } finally {
    await client.close();
    server.close();
    pair.close();
  }
}

async function sectionQemu() {
  heading("On the emulated RISC-V board (firmware/ports/qemu-rv32, QEMU)");
  const { qemuMissing } = await import(path.join(root, "dist/host/cli/qemu-board.js"));
  const missing = qemuMissing();
  if (missing) {
    report("qemu", "RAM figures of the RISC-V board", "not measured", "", "", missing);
    return;
  }
  // tools/qemu-measure.mjs runs the transcripts (slow under emulation) and the workload;
  // the bench runs the workload only: the board's peak is the engine's start either way
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(process.execPath, [path.join(root, "tools/qemu-measure.mjs"), "--json", "--workload-only"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`qemu-measure failed: ${r.stderr}`);
  const { max } = JSON.parse(r.stdout);
  const how = "the board's own --report (static data from the linker, the heap's span from sbrk, the stack painted at boot): node tools/qemu-measure.mjs --workload-only";
  report("qemu", "RAM of the board", max.ram, "bytes", "", "the linker script (a plain ESP32's free RAM less its UART driver)");
  report("qemu", "static data", max.static, "bytes", "", how);
  report("qemu", "heap span (the engine at 1 page, the 1,000-entry workload)", max.heapSpan, "bytes", "", how);
  report("qemu", "deepest native stack use, of 32,768", max.stackUsed, "bytes", "", how);
  report("qemu", "RAM the heap never reached", max.ram - max.static - max.heapSpan - 32768, "bytes", "> 0", "RAM - static - heap span - the 32 KiB stack");
}

const sections = { size: sectionSize, throughput: sectionThroughput, parse: sectionParse, memory: sectionMemory, scaling: sectionScaling, wasm3: sectionWasm3, qemu: sectionQemu, link: sectionLink };
if (!json) console.log(`sxs bench (${quick ? "quick" : "full"}) — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, fn] of Object.entries(sections)) {
  if (only && !only.has(name)) continue;
  await fn();
}
if (json) console.log(JSON.stringify({ node: process.version, quick, results }, null, 2));
