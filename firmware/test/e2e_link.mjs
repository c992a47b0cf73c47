#!/usr/bin/env node
// End-to-end check of the Linux firmware's link (docs/link.md) against the TypeScript
// host endpoint of host/link, over a real pseudo-terminal opened with serialport's real
// bindings: `sxs-fw --pty` prints the pty's path on its first line; this script opens it
// and talks to it in text mode and in framed mode: exec, logs, events, interrupt, line
// noise both ways, flashing (switch, corrupt images, rollback of an image that traps at
// start-up), reset, leave.
//
//   npm run build:host && npm run build:firmware      (dist/host/link and sxs-fw)
//   node firmware/test/e2e_link.mjs [--fw PATH] [--image PATH] [--verbose]
//
// Prints one line per check and `N passed, N failed`; exit status 1 on a failure.
// For vitest: `import { runE2E } from "../../firmware/test/e2e_link.mjs"` and
// `expect((await runE2E()).failed).toBe(0)` (each check is also returned by name).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const te = new TextEncoder();
const td = new TextDecoder("latin1");

async function loadLink() {
  const p = join(ROOT, "dist/host/link/index.js");
  if (!existsSync(p)) throw new Error(`${p} is missing: npm run build:host`);
  return import(p);
}

/** The newest build of a test fixture (firmware/test/fixtures/NAME.wat assembled by build.rs). */
function fixture(name) {
  const base = join(ROOT, "firmware/target/release/build");
  let best;
  for (const d of existsSync(base) ? readdirSync(base) : []) {
    const f = join(base, d, "out/fixtures", `${name}.wasm`);
    if (existsSync(f) && (!best || statSync(f).mtimeMs > statSync(best).mtimeMs)) best = f;
  }
  return best ? new Uint8Array(readFileSync(best)) : undefined;
}

/** A Wasm module with a custom section appended: the same code, another image id. */
function withCustomSection(wasm, tag) {
  const name = te.encode("sxs-e2e");
  const body = [...te.encode(tag)];
  const content = [name.length, ...name, ...body];
  const size = [];
  let n = content.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    size.push(b);
  } while (n);
  return Uint8Array.from([...wasm, 0, ...size, ...content]);
}

/** One firmware process on a pty. */
export async function startFirmware({ fw, image, flash, extra = [] }) {
  const proc = spawn(fw, ["--pty", "--flash", flash, "--image", image, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const path = await new Promise((res, rej) => {
    let out = "";
    const t = setTimeout(() => rej(new Error(`no pty path from sxs-fw: ${stderr}`)), 5000);
    proc.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(t);
        res(out.slice(0, nl));
      }
    });
    proc.on("exit", (c) => rej(new Error(`sxs-fw exited (${c}): ${stderr}`)));
  });
  return { proc, path, stderr: () => stderr };
}

/** A host on the port: raw text before ENTER, then host/link's endpoint. */
class Host {
  constructor(L, port, noise) {
    this.L = L;
    this.port = port;
    this.text = "";
    this.framed = false;
    this.msgs = [];
    this.waiters = [];
    this.sessions = 0;
    this.noise = noise; // { rate, prng } flips bits both ways when set
    this.ep = new L.LinkEndpoint({ role: "host" });
    this.driver = new L.LinkDriver(this.ep, (b) => this.write(b), {
      onMessage: (m) => this.onMessage(m),
      onEvent: (e) => {
        if (e.kind === "session") this.sessions++;
      },
    }, L.realTimers);
    port.on("data", (d) => this.onData(new Uint8Array(d)));
  }
  flip(b) {
    if (!this.noise?.rate) return b;
    const c = Uint8Array.from(b);
    for (let i = 0; i < c.length; i++) if (this.noise.prng.next() < this.noise.rate) (c[i] ^= 1 << Math.floor(this.noise.prng.next() * 8)), this.noise.flipped++;
    return c;
  }
  write(b) {
    this.port.write(Buffer.from(this.flip(b)));
  }
  onData(d) {
    if (this.framed) this.driver.input(this.flip(d));
    else this.text += td.decode(d);
  }
  onMessage(raw) {
    let m;
    try {
      m = this.L.decodeRaw(raw);
    } catch {
      return true;
    }
    this.msgs.push(m);
    for (const w of [...this.waiters]) if (w.match(m)) (this.waiters.splice(this.waiters.indexOf(w), 1), w.res(m));
    return true;
  }
  waitFor(match, ms = 3000, what = "message") {
    const found = this.msgs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((res, rej) => {
      const w = { match, res };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) (this.waiters.splice(i, 1), rej(new Error(`timeout waiting for ${what}`)));
      }, ms);
    });
  }
  async waitText(s, ms = 3000) {
    const end = Date.now() + ms;
    while (!this.text.includes(s)) {
      if (Date.now() > end) throw new Error(`timeout waiting for ${JSON.stringify(s)} in ${JSON.stringify(this.text.slice(-200))}`);
      await sleep(5);
    }
  }
  typeText(s) {
    this.port.write(Buffer.from(te.encode(s)));
  }
  /** ENTER, then wait for the HELLO of a new session (1000 ms, 5 tries). */
  async enter() {
    this.framed = true;
    for (let t = 0; t < 5; t++) {
      this.ep.reset();
      this.msgs = [];
      const before = this.sessions;
      this.port.write(Buffer.from(this.L.ENTER_SEQUENCE));
      try {
        return await this.hello(before, 1000);
      } catch {}
    }
    throw new Error("board not answering (no HELLO)");
  }
  async hello(before, ms) {
    const end = Date.now() + ms;
    while (this.sessions <= before) {
      if (Date.now() > end) throw new Error("timeout waiting for HELLO");
      await sleep(2);
    }
    const end2 = Date.now() + 1000;
    for (;;) {
      for (let i = this.msgs.length; i-- > 0; ) if (this.msgs[i].type === "HELLO") return this.msgs[i];
      if (Date.now() > end2) throw new Error("timeout waiting for HELLO");
      await sleep(2);
    }
  }
  send(m) {
    this.driver.send(this.L.encodeMessage(m));
  }
  control(type, req) {
    this.ep.send({ type, req, payload: new Uint8Array(0) });
    this.driver.kick();
  }
  answer(req, types = ["RESULT", "ERROR", "OK", "INFO", "PONG"], ms) {
    return this.waitFor((m) => m.req === req && types.includes(m.type), ms, `answer to ${req}`);
  }
  exec(req, text, ms) {
    this.send(this.L.execMessage(req, 0, text));
    return this.answer(req, ["RESULT", "ERROR"], ms);
  }
  async flash(id, file, { flags = 0, slot = 0xff, crc } = {}) {
    const L = this.L;
    this.send({ type: "FLASH_BEGIN", req: id, size: file.length, crc: crc ?? L.crc32(file), slot });
    for (let o = 0; o < file.length; o += 1020) this.send({ type: "FLASH_DATA", req: id, offset: o, data: file.subarray(o, o + 1020) });
    this.send({ type: "FLASH_COMMIT", req: id, flags });
    // the first OK answers BEGIN; an ERROR or the second OK ends it
    return this.waitFor((m) => m.req === id && (m.type === "ERROR" || (m.type === "OK" && this.msgs.filter((x) => x.req === id && x.type === "OK").length >= 2)), 20000, `flash ${id}`);
  }
  async expectError(p, code) {
    const m = await p;
    if (m.type !== "ERROR" || m.code !== code) throw new Error(`expected ERROR ${code}, got ${m.type} ${m.code ?? ""} ${m.message ? td.decode(m.message) : ""}`);
    return m;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export async function runE2E({ fw = join(ROOT, "firmware/target/release/sxs-fw"), image = join(ROOT, "build/sxs.wasm"), verbose = false, log = console.log } = {}) {
  const L = await loadLink();
  const { SerialPort } = await import("serialport");
  const dir = mkdtempSync(join(tmpdir(), "sxs-e2e-"));
  const flash = join(dir, "flash.bin");
  const results = [];
  const fwproc = await startFirmware({ fw, image, flash });
  const port = await new Promise((res, rej) => {
    const p = new SerialPort({ path: fwproc.path, baudRate: 115200, lock: false, hupcl: false, autoOpen: false });
    p.open((e) => (e ? rej(e) : res(p)));
  });
  const host = new Host(L, port, { rate: 0, prng: new L.Prng(7), flipped: 0 });
  const wasm = new Uint8Array(readFileSync(image));
  let n = 1000;
  const check = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      results.push({ name, ok: true });
      log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push({ name, ok: false, error: e.message });
      log(`FAIL ${name}: ${e.message}`);
      if (verbose) log(fwproc.stderr());
    }
  };

  // (the boot banner went out before the port was open: serialport flushes pending
  // input on open, as a tool connecting to a running board misses it; it is checked
  // below after a RESET into text mode)
  await check("text mode: a blank line, a form, its result, the prompt", async () => {
    host.typeText("\r");
    await host.waitText("\r\n> ", 3000);
    host.text = "";
    host.typeText("(core/kv/set e2e 1)\r");
    await host.waitText("(core/kv/set e2e 1)\r\n=> true\r\n> ");
  });
  await check("text mode: Ctrl-C interrupts a running request", async () => {
    host.text = "";
    host.typeText("(core/expr/await 1 A 1 100000)\r");
    await sleep(100);
    host.typeText("\x03");
    await host.waitText('^C\r\n=> @"interrupted"\r\n> ');
  });
  let hello;
  await check("ENTER: HELLO with seq 0 and the board description", async () => {
    hello = await host.enter();
    const i = hello.info;
    assert(i.proto === 1 && i.activeSlot === 0 && i.maxPayload === 1024 && i.rxWindow === 8192, JSON.stringify(i));
    assert(i.imageCrc === L.crc32(wasm) && i.firmware.startsWith("sxs-fw "), `image ${i.imageCrc} firmware ${i.firmware}`);
  });
  await check("EXEC -> RESULT, LOG", async () => {
    const r = await host.exec(++n, '(core/util/log "e2e" 42)');
    assert(r.type === "RESULT" && td.decode(r.value) === "true", td.decode(r.value));
    await host.waitFor((m) => m.type === "LOG" && td.decode(m.text) === "e2e 42", 1000, "LOG");
  });
  await check("500 pipelined EXECs, each answered once, in order", async () => {
    const first = n + 1;
    const ps = [];
    for (let k = 0; k < 500; k++) ps.push(host.exec(++n, `(core/kv/set k${k % 10} ${k})`));
    const rs = await Promise.all(ps);
    assert(rs.every((r) => r.type === "RESULT" && td.decode(r.value) === "true"), "a request failed");
    const got = host.msgs.filter((m) => m.type === "RESULT" && m.req >= first && m.req <= n).map((m) => m.req);
    assert(got.length === 500 && new Set(got).size === 500, `${got.length} results`);
  });
  await check("a 12 KB EXEC (fragmented, through the 8 KiB window)", async () => {
    const r = await host.exec(++n, `(core/util/log "${"y".repeat(12000)}")`);
    assert(r.type === "RESULT", r.type);
  });
  await check("WATCH, then EVENT", async () => {
    host.send({ type: "WATCH", req: ++n, channel: 3, on: true, topic: 9 });
    const ok = await host.answer(n);
    assert(ok.type === "OK", ok.type);
    await host.exec(++n, '(core/event/pub C 9 "ping")');
    const ev = await host.waitFor((m) => m.type === "EVENT" && m.channel === 3 && m.topic === 9, 2000, "EVENT");
    assert(td.decode(ev.data) === '"ping"', td.decode(ev.data));
  });
  await check("PING, GET_INFO, unknown type", async () => {
    host.send({ type: "PING", req: ++n, data: Uint8Array.of(0, 1, 2, 255) });
    const p = await host.answer(n);
    assert(p.type === "PONG" && p.data.length === 4 && p.data[3] === 255, p.type);
    host.send({ type: "GET_INFO", req: ++n });
    const i = await host.answer(n);
    assert(i.type === "INFO" && i.info.session === hello.info.session, i.type);
    host.driver.send({ type: 0x7e, req: ++n, payload: new Uint8Array(0) });
    await host.expectError(host.answer(n), L.ErrorCode.UNKNOWN_TYPE);
  });
  await check("INTERRUPT stops a runaway request; the board answers the next one", async () => {
    const req = ++n;
    const p = host.exec(req, "(core/expr/await 1 A 1 100000)", 5000);
    await sleep(100);
    host.control(L.MsgType.INTERRUPT, req);
    const ok = await host.answer(req, ["OK"]);
    assert(ok.value === 1, `found ${ok.value}`);
    const r = await p;
    assert(td.decode(r.value) === '@"interrupted"', td.decode(r.value));
    const r2 = await host.exec(++n, "(core/kv/get e2e)");
    assert(td.decode(r2.value) === "1", td.decode(r2.value));
  });
  await check("line noise both ways: 200 requests answered exactly once", async () => {
    host.noise.rate = 0.0005;
    const first = n + 1;
    const ps = [];
    for (let k = 0; k < 200; k++) ps.push(host.exec(++n, `(core/kv/get k${k % 10})`, 30000));
    // garbage between frames too
    port.write(Buffer.from([0x41, 0x42, 0x43, 0, 0xff, 0xfe, 0]));
    await Promise.all(ps);
    host.noise.rate = 0;
    const got = host.msgs.filter((m) => m.type === "RESULT" && m.req >= first && m.req <= n).map((m) => m.req);
    assert(got.length === 200 && new Set(got).size === 200, `${got.length} results`);
    assert(host.noise.flipped > 0, "no noise was injected");
    host.send({ type: "GET_INFO", req: ++n });
    const i = await host.answer(n);
    if (verbose) log(`     ${host.noise.flipped} bits flipped; board: ${i.info.badFrames} bad frames, ${i.info.retransmits} retransmits`);
    assert(i.info.badFrames > 0, "the board saw no bad frame");
  });

  const fileB = L.buildImage(withCustomSection(wasm, "B"), { abiVersion: hello.info.abiVersion });
  const idB = L.crc32(fileB.subarray(32));
  await check("corrupt images are refused with their code; the old image keeps serving", async () => {
    const bad = Uint8Array.from(fileB);
    await host.expectError(host.flash(++n, bad, { crc: (L.crc32(bad) ^ 1) >>> 0 }), L.ErrorCode.FLASH_BAD_CRC);
    const abi = L.buildImage(wasm, { abiVersion: hello.info.abiVersion + 1 });
    await host.expectError(host.flash(++n, abi), L.ErrorCode.IMAGE_BAD_ABI);
    const notWasm = L.buildImage(te.encode("this is not wasm at all"), { abiVersion: hello.info.abiVersion });
    await host.expectError(host.flash(++n, notWasm), L.ErrorCode.IMAGE_NOT_WASM);
    const trunc = fileB.subarray(0, fileB.length - 100);
    await host.expectError(host.flash(++n, trunc), L.ErrorCode.IMAGE_BAD_HEADER);
    const flipped = Uint8Array.from(fileB);
    flipped[100] ^= 1;
    await host.expectError(host.flash(++n, flipped), L.ErrorCode.IMAGE_BAD_CRC);
    const r = await host.exec(++n, "(core/kv/get e2e)");
    assert(td.decode(r.value) === "1", "old image");
  });
  await check("flash a new image: OK with its id, reboot, HELLO boot_reason 2, slot 1", async () => {
    const before = host.sessions;
    const ok = await host.flash(++n, fileB);
    assert(ok.type === "OK" && ok.value === idB, `${ok.type} ${ok.value} vs ${idB}`);
    const h = await host.hello(before, 8000);
    assert(h.info.bootReason === 2 && h.info.activeSlot === 1 && h.info.imageCrc === idB, JSON.stringify(h.info));
    const r = await host.exec(++n, "(core/kv/get e2e)");
    assert(td.decode(r.value) === "1", "the K/V store survived the reboot: " + td.decode(r.value));
  });
  const trap = fixture("trap_boot");
  await check("an image that traps at start-up is rolled back by itself", async () => {
    assert(trap, "firmware/target/release/build/*/out/fixtures/trap_boot.wasm not found (cargo build)");
    const file = L.buildImage(trap, { abiVersion: hello.info.abiVersion });
    const before = host.sessions;
    const ok = await host.flash(++n, file);
    assert(ok.type === "OK", ok.type);
    const h = await host.hello(before, 10000);
    assert(h.info.bootReason === 3 && h.info.rollbackReason === 1 && h.info.activeSlot === 1 && h.info.imageCrc === idB &&
      h.info.failedCrc === L.crc32(trap), JSON.stringify(h.info));
    await host.waitFor((m) => m.type === "LOG" && td.decode(m.text).includes("rolled back to slot 1"), 2000, "rollback LOG");
    const r = await host.exec(++n, "(core/kv/get e2e)");
    assert(td.decode(r.value) === "1", "serving after the rollback");
  });
  await check("RESET: OK, then HELLO of a new session with boot_reason 1", async () => {
    const before = host.sessions, s = host.ep.session;
    host.send({ type: "RESET", req: ++n, flags: 0 });
    await host.answer(n, ["OK"]);
    const h = await host.hello(before, 5000);
    assert(h.info.bootReason === 1 && h.info.session !== s && h.info.rollbackReason === 1, JSON.stringify(h.info));
  });
  await check("RESET into text mode: OK, then the banner and a prompt", async () => {
    host.text = "";
    host.send({ type: "RESET", req: ++n, flags: 2 });
    await host.answer(n, ["OK"]);
    host.framed = false;
    await host.waitText("\r\n> ", 5000);
    const b = host.text.slice(host.text.indexOf("sxs "));
    assert(new RegExp(`^sxs sxs-fw [^\\r\\n]* abi ${hello.info.abiVersion} slot 1 image ${idB.toString(16).padStart(8, "0")}\\r\\n> `).test(b), `banner: ${JSON.stringify(host.text)}`);
    await host.enter();
  });
  await check("LEAVE: OK, then text mode", async () => {
    host.send({ type: "LEAVE", req: ++n });
    await host.answer(n, ["OK"]);
    await sleep(200);
    host.framed = false;
    host.text = "";
    host.typeText("(core/kv/get e2e)\r");
    await host.waitText("=> 1\r\n> ");
  });

  await new Promise((r) => port.close(() => r()));
  fwproc.proc.kill("SIGTERM");
  const code = await new Promise((r) => (fwproc.proc.exitCode !== null ? r(fwproc.proc.exitCode) : fwproc.proc.on("exit", (c) => r(c))));
  await check("SIGTERM ends the firmware cleanly", async () => assert(code === 0, `exit ${code}`));
  rmSync(dir, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const a = process.argv.slice(2);
  const opt = (k) => (a.includes(k) ? a[a.indexOf(k) + 1] : undefined);
  const r = await runE2E({ fw: opt("--fw"), image: opt("--image"), verbose: a.includes("--verbose") });
  console.log(`${r.passed} passed, ${r.failed} failed`);
  process.exit(r.failed ? 1 : 0);
}
