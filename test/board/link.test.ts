// The board side of the link (host/board/link-server.ts) over the in-process emulator,
// driven by a host/link endpoint: HELLO/INFO, EXEC/RESULT/LOG, WATCH/EVENT, INTERRUPT,
// PING, RESET, LEAVE and text mode, backpressure, noise, and image transfer with
// verification, slot switching and rollback.

import { afterEach, describe, expect, it } from "vitest";
import { NorFlash } from "../../host/board/flash.js";
import { crc32 } from "../../host/link/crc32.js";
import { buildImage } from "../../host/link/image-header.js";
import { BootReason, CommitFlag, ErrorCode, ResetFlag, RollbackReason, StateFlag, type Message } from "../../host/link/messages.js";
import { ABI_VERSION } from "../../host/image/image.js";
import { fakeImage, rig, sleep, td, te, until, wasmBytes, type Rig } from "./helpers.js";
import { playTextSession } from "./text-session.js";

let current: Rig | undefined;
async function open(o: Parameters<typeof rig>[0] = {}): Promise<Rig> {
  current = await rig(o);
  return current;
}
afterEach(() => {
  current?.close();
  current = undefined;
});

const text = (m: Message): string => {
  if (m.type === "RESULT") return td.decode(m.value);
  if (m.type === "ERROR") return `ERROR ${m.code} ${td.decode(m.message)}`;
  if (m.type === "LOG") return `LOG ${td.decode(m.text)}`;
  return m.type;
};

/** build/sxs.wasm with a custom section appended: the same runtime, another image id. */
function variantImage(tag: string): Uint8Array {
  const name = te.encode("sxs-test");
  const payload = te.encode(tag);
  const body = [name.length, ...name, ...payload];
  const w = wasmBytes();
  const out = new Uint8Array(w.length + 2 + body.length);
  out.set(w);
  out.set([0, body.length, ...body], w.length);
  return buildImage(out, { abiVersion: ABI_VERSION });
}

const idOf = (img: Uint8Array): number => new DataView(img.buffer, img.byteOffset).getUint32(16, true);

/** Sends an image as the host library would (pipelined) and waits for the COMMIT answer. */
async function flashImage(r: Rig, img: Uint8Array, o: { slot?: number; flags?: number; crc?: number; size?: number } = {}): Promise<Message> {
  const req = r.client.req();
  const c = r.client;
  const begin = c.waitFor((m) => m.req === req && (m.type === "OK" || m.type === "ERROR"), 5000, "FLASH_BEGIN's answer");
  c.send({ type: "FLASH_BEGIN", req, size: o.size ?? img.length, crc: o.crc ?? crc32(img), slot: o.slot ?? 0xff });
  const b = await begin;
  if (b.type === "ERROR") return b;
  const done = c.waitFor((m) => m.req === req && (m.type === "ERROR" || m.type === "OK"), 15000, "the transfer's answer");
  for (let off = 0; off < img.length; off += 1020) c.send({ type: "FLASH_DATA", req, offset: off, data: img.subarray(off, Math.min(off + 1020, img.length)) });
  c.send({ type: "FLASH_COMMIT", req, flags: o.flags ?? 0 });
  return done;
}

describe("sessions", () => {
  it("answers ENTER with HELLO describing the board", async () => {
    const r = await open({ processors: 2 });
    const hello = await r.client.connect();
    expect(hello).toMatchObject({
      proto: 1,
      bootReason: BootReason.POWER_ON,
      activeSlot: 0,
      rollbackReason: 0,
      abiVersion: ABI_VERSION,
      maxPayload: 1024,
      rxWindow: 8192,
      processors: 2,
      stateFlags: StateFlag.FIRST_HELLO,
      imageCrc: crc32(wasmBytes()),
      failedCrc: 0,
      slotSize: 512 * 1024,
      maxInput: 16384,
      linkIdleMs: 0,
      firmware: "sxs-sim",
    });
    expect(hello.heapUsed).toBeGreaterThan(0);
    expect(hello.wasmMemory).toBeGreaterThanOrEqual(65536);
    expect(hello.freeHeap).toBeGreaterThan(0);
    expect(r.server.mode).toBe("framed");
    // INFO answers GET_INFO with its req; the first-HELLO flag is gone
    const info = await r.client.call({ type: "GET_INFO", req: 77 });
    expect(info.type).toBe("INFO");
    if (info.type !== "INFO") throw new Error();
    expect(info.info.session).toBe(hello.session);
    expect(info.info.stateFlags & StateFlag.FIRST_HELLO).toBe(0);
    // PING
    const pong = await r.client.call({ type: "PING", req: 9, data: te.encode("hello") });
    expect(pong).toMatchObject({ type: "PONG", req: 9 });
    if (pong.type === "PONG") expect(td.decode(pong.data)).toBe("hello");
    // ENTER again: a new session
    const again = await r.client.connect();
    expect(again.session).not.toBe(hello.session);
  });

  it("appends u32 live_tasks (sxs_stat 7) after the firmware text of HELLO and INFO", async () => {
    const r = await open();
    await r.client.connect();
    const liveTasks = (p: Uint8Array): number => {
      const end = 69 + p[68]!;
      expect(p.length).toBe(end + 4);
      return new DataView(p.buffer, p.byteOffset).getUint32(end, true);
    };
    expect(liveTasks(r.client.infoPayloads[0]!)).toBe(0);
    const slow = te.encode("(core/expr/await 1 A 1 200)");
    const req = r.client.req();
    const result = r.client.waitFor((m) => m.req === req, 5000, "the await's result");
    r.client.send({ type: "EXEC", req, proc: 0, textLength: slow.length, text: slow });
    await sleep(50); // the request runs and waits in await
    await r.client.call({ type: "GET_INFO", req: 9001 });
    expect(liveTasks(r.client.infoPayloads.at(-1)!)).toBe(1);
    expect(text(await result)).toBe('@"core/expr/await: timeout"');
    await r.client.call({ type: "GET_INFO", req: 9002 });
    expect(liveTasks(r.client.infoPayloads.at(-1)!)).toBe(0);
  });

  it("runs EXEC and sends LOG and RESULT in order; checks request ids and processors", async () => {
    const r = await open();
    await r.client.connect();
    const res = await r.client.exec('(core/util/log "one") (core/util/log "two") (core/kv/set k 42) (core/kv/get k)');
    expect(text(res)).toBe("42");
    const seq = r.client.messages.filter((m) => m.type === "LOG" || m.type === "RESULT").map(text);
    expect(seq).toEqual(["LOG one", "LOG two", "42"]);
    expect(text(await r.client.call({ type: "EXEC", req: 0, proc: 0, textLength: 1, text: te.encode("1") }))).toMatch(/^ERROR 4 /);
    expect(text(await r.client.call({ type: "EXEC", req: 0x80000000, proc: 0, textLength: 1, text: te.encode("1") }))).toMatch(/^ERROR 4 /);
    expect(text(await r.client.call({ type: "EXEC", req: 5, proc: 3, textLength: 1, text: te.encode("1") }))).toMatch(/^ERROR 5 /);
    // an id in use
    const slow = te.encode("(core/expr/await 1 A 1 300)");
    r.client.send({ type: "EXEC", req: 50, proc: 0, textLength: slow.length, text: slow });
    const dup = await r.client.call({ type: "EXEC", req: 50, proc: 0, textLength: 1, text: te.encode("2") });
    expect(text(dup)).toMatch(/^ERROR 4 .*in use/);
    // a payload that does not match text_len
    const bad = await r.client.call({ type: "EXEC", req: 51, proc: 0, textLength: 5, text: te.encode("1") });
    expect(text(bad)).toMatch(/^ERROR 2 /);
    // a 20 KiB request passes through the 8 KiB window (fragments) and gets the image's answer
    const big = await r.client.exec(`"${"x".repeat(20000)}"`);
    expect(text(big)).toMatch(/^@"parse: input too large/);
    const ok = await r.client.exec(`(core/kv/set big "${"y".repeat(1000)}") (core/kv/get big)`);
    expect(text(ok)).toBe(`"${"y".repeat(1000)}"`);
    // unknown and board-to-host types
    expect(text(await r.client.call({ type: "OK", req: 60, value: 1 } as Message))).toMatch(/^ERROR 1 /);
  });

  it("sends watched events as EVENT, and stops when unwatched", async () => {
    const r = await open();
    await r.client.connect();
    expect(await r.client.call({ type: "WATCH", req: 1, channel: 2, on: true, topic: 7 })).toMatchObject({ type: "OK", value: 0 });
    expect(await r.client.call({ type: "WATCH", req: 2, channel: 3, on: true, topic: -1 })).toMatchObject({ type: "OK", value: 0 });
    await r.client.exec("(core/event/pub B 7 [1 2]) (core/event/pub B 8 x) (core/event/pub C 9 \"s\")");
    await until(() => r.client.messages.filter((m) => m.type === "EVENT").length >= 2, 2000, "events");
    const evs = r.client.messages.filter((m) => m.type === "EVENT").map((m) => (m.type === "EVENT" ? `${m.channel}/${m.topic} ${td.decode(m.data)}` : ""));
    expect(evs).toEqual(["2/7 [1 2]", '3/9 "s"']);
    expect(await r.client.call({ type: "WATCH", req: 3, channel: 2, on: false, topic: 7 })).toMatchObject({ type: "OK" });
    await r.client.exec("(core/event/pub B 7 again)");
    await sleep(50);
    expect(r.client.messages.filter((m) => m.type === "EVENT").length).toBe(2);
    expect(text(await r.client.call({ type: "WATCH", req: 4, channel: 9, on: true, topic: 1 }))).toMatch(/^ERROR 7 /);
    // a new session forgets the watches
    await r.client.connect();
    await r.client.exec("(core/event/pub C 1 late)");
    await sleep(50);
    expect(r.client.messages.filter((m) => m.type === "EVENT").length).toBe(2);
  });

  it("INTERRUPT stops a runaway request and the board answers the next one", async () => {
    const r = await open({ maxSteps: 2 ** 31 - 1 });
    await r.client.connect();
    await r.client.exec("(core/kv/set s:0 0) (core/kv/set s:1 1) (core/kv/set s:2 2) (core/kv/set s:3 3) (core/kv/set s:4 4) (core/kv/set s:5 5) (core/kv/set s:6 6) (core/kv/set s:7 7) (core/kv/set s:8 8) (core/kv/set s:9 9)");
    let loop = "1";
    for (let i = 0; i < 9; i++) loop = `(core/kv/iterate "s:" 0 10 {${loop}})`;
    const req = r.client.req();
    const result = r.client.waitFor((m) => m.req === req && m.type === "RESULT", 10000, "the runaway's result");
    r.client.send({ type: "EXEC", req, proc: 0, textLength: te.encode(loop).length, text: te.encode(loop) });
    await sleep(300);
    const ok = r.client.waitFor((m) => m.req === req && m.type === "OK", 5000, "INTERRUPT's OK");
    r.client.send({ type: "INTERRUPT", req });
    expect(await ok).toMatchObject({ type: "OK", value: 1 });
    expect(text(await result)).toBe('@"interrupted"');
    expect(text(await r.client.exec("(core/kv/get s:3)"))).toBe("3");
    // INTERRUPT for nothing: OK 0
    expect(await r.client.call({ type: "INTERRUPT", req: 999 } as Message)).toMatchObject({ type: "OK", value: 0 });
  });

  it("a busy board pushes back with credit: hundreds of requests, every one answered once", async () => {
    const r = await open({ queue: 2 });
    await r.client.connect();
    const n = 400;
    const first = r.client.req();
    const got = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const t = te.encode(`(core/util/log ${i}) ${i}`);
      r.client.send({ type: "EXEC", req: first + i, proc: 0, textLength: t.length, text: t });
    }
    r.client.nextReqSkip(n);
    await until(() => r.client.messages.filter((m) => m.type === "RESULT").length >= n, 20000, "all results");
    for (const m of r.client.messages) if (m.type === "RESULT") got.set(m.req, (got.get(m.req) ?? 0) + 1);
    for (let i = 0; i < n; i++) expect(got.get(first + i), `req ${first + i}`).toBe(1);
    for (const m of r.client.messages) if (m.type === "RESULT") expect(text(m)).toBe(String(m.req - first));
    expect(r.server.ep.rx.stats.overruns).toBe(0);
    expect(r.server.board!.queueFullRetries).toBeGreaterThan(0); // the image's queue did fill
    expect(r.client.messages.filter((m) => m.type === "ERROR")).toEqual([]);
  });

  it("output waits for the host: a script that logs in a loop while the host reads nothing keeps a bounded send queue", async () => {
    const r = await open();
    await r.client.connect();
    const n = 20000;
    const keys = Array.from({ length: 2000 }, (_, i) => `k${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 500) expect(text(await r.client.exec(keys.slice(i, i + 500).map((k) => `(core/kv/set ${k} 1)`).join(" ")))).toBe("true");
    // the host stops reading (so it acknowledges nothing) while the script logs 20,000
    // lines of 100 bytes (ten per key), 2 MB in all
    r.pair.a.pause();
    const line = "x".repeat(91);
    const body = Array.from({ length: 10 }, (_, j) => `(core/util/log $key ${j} "${line}")`).join(" ");
    const t = te.encode(`(core/kv/iterate "k" 0 2000 {${body}})`);
    const req = r.client.req();
    r.client.send({ type: "EXEC", req, proc: 0, textLength: t.length, text: t });
    let most = 0;
    for (let i = 0; i < 100; i++) {
      await sleep(10);
      most = Math.max(most, r.server.ep.tx.queuedBytes);
    }
    // the image runs in slices and is not run again while 32 KiB wait for the line: the
    // queue holds at most that plus one slice's output, a fraction of the 2 MB
    expect(most).toBeGreaterThan(32 * 1024);
    expect(most).toBeLessThan(n * 118 * 0.5);
    expect(r.client.messages.some((m) => m.type === "RESULT" && m.req === req)).toBe(false);
    // the host reads again: every line arrives, in order, then the result
    r.pair.a.resume();
    await until(() => r.client.messages.filter((m) => m.type === "LOG").length >= n, 60000, "all log lines");
    const logs = r.client.messages.filter((m) => m.type === "LOG").map((m) => text(m));
    expect(logs).toEqual(keys.flatMap((k) => Array.from({ length: 10 }, (_, j) => `LOG ${k} ${j} ${line}`)));
    await until(() => r.client.messages.some((m) => m.type === "RESULT" && m.req === req), 10000, "the result");
  }, 90000);

  it("recovers from line noise: every request answered exactly once", async () => {
    const r = await open({ wire: { baud: 921600, latencyMs: 2, flipRate: 2e-4, dropRate: 1e-4, seed: 7 }, bytesPerMs: 92.16 });
    await r.client.connect();
    const n = 150;
    const first = r.client.req();
    for (let i = 0; i < n; i++) {
      const t = te.encode(`(core/kv/set n:${i} ${i}) (core/kv/get n:${i})`);
      r.client.send({ type: "EXEC", req: first + i, proc: 0, textLength: t.length, text: t });
    }
    r.client.nextReqSkip(n);
    await until(() => new Set(r.client.messages.filter((m) => m.type === "RESULT").map((m) => m.req)).size >= n, 30000, "all results");
    const results = r.client.messages.filter((m) => m.type === "RESULT");
    expect(results.length).toBe(n);
    for (const m of results) expect(text(m)).toBe(String(m.req - first));
    expect(r.pair.ab.stats.flipped + r.pair.ab.stats.dropped + r.pair.ba.stats.flipped + r.pair.ba.stats.dropped).toBeGreaterThan(0);
  }, 40000);
});

describe("RESET, LEAVE and text mode", () => {
  it("RESET: OK, then a new session from a fresh instance, with the K/V store kept", async () => {
    const r = await open();
    const h1 = await r.client.connect();
    await r.client.exec('(core/kv/set kept "yes")');
    const hello = r.client.waitFor((m) => m.type === "HELLO", 10000, "HELLO after RESET");
    expect(await r.client.call({ type: "RESET", req: 5, flags: 0 })).toMatchObject({ type: "OK", req: 5, value: 0 });
    const h2 = await hello;
    if (h2.type !== "HELLO") throw new Error();
    expect(h2.info.bootReason).toBe(BootReason.RESET);
    expect(h2.info.session).not.toBe(h1.session);
    expect(h2.info.stateFlags & StateFlag.FIRST_HELLO).toBe(StateFlag.FIRST_HELLO);
    await until(() => r.client.ep.session === h2.info.session, 2000, "the client to take the new session");
    expect(text(await r.client.exec("(core/kv/get kept)"))).toBe('"yes"');
  });

  it("autorun: the boot key runs after a reset and logs after HELLO; safe mode skips it", async () => {
    const r = await open();
    await r.client.connect();
    await r.client.exec('(core/kv/set boot {(core/util/log "booted") (core/kv/set count 1)})');
    let hello = r.client.waitFor((m) => m.type === "HELLO", 10000, "HELLO");
    await r.client.call({ type: "RESET", req: r.client.req(), flags: 0 });
    await hello;
    await until(() => r.client.messages.some((m) => m.type === "LOG" && td.decode(m.text) === "booted"), 2000, "the boot log");
    const i = r.client.messages.findIndex((m) => m.type === "LOG" && td.decode(m.text) === "booted");
    expect(r.client.messages.slice(0, i).some((m) => m.type === "HELLO" && m.info.bootReason === BootReason.RESET)).toBe(true);
    hello = r.client.waitFor((m) => m.type === "HELLO", 10000, "HELLO");
    await r.client.call({ type: "RESET", req: r.client.req(), flags: ResetFlag.SAFE_MODE });
    const h = await hello;
    if (h.type !== "HELLO") throw new Error();
    expect(h.info.stateFlags & StateFlag.SAFE_MODE).toBe(StateFlag.SAFE_MODE);
    await sleep(50);
    expect(r.client.messages.filter((m) => m.type === "LOG" && td.decode(m.text) === "booted").length).toBe(1);
  });

  it("RESET into text mode, LEAVE, and ENTER again", async () => {
    const r = await open();
    await r.client.connect();
    expect(await r.client.call({ type: "LEAVE", req: 3 })).toMatchObject({ type: "OK", req: 3 });
    await until(() => r.server.mode === "text", 2000, "text mode");
    const mark = r.raw().length;
    r.pair.a.write(Buffer.from("(core/kv/set t 1) (core/kv/get t)\r"));
    await until(() => r.raw().slice(mark).includes("=> 1\r\n> "), 2000, "the text answer");
    // ENTER in text mode, then RESET with bit 1: the board comes back in text mode
    await r.client.connect();
    expect(r.server.mode).toBe("framed");
    const mark2 = r.raw().length;
    await r.client.call({ type: "RESET", req: 4, flags: ResetFlag.TEXT_MODE });
    await until(() => r.raw().slice(mark2).includes("> "), 5000, "the banner");
    expect(r.server.mode).toBe("text");
    expect(r.raw().slice(mark2)).toMatch(/sxs sxs-sim abi 2 slot 0 image [0-9a-f]{8}\r\n> $/);
  });

  it("falls back to text mode when the host goes quiet (link_idle_ms)", async () => {
    const r = await open({ linkIdleMs: 150 });
    const h = await r.client.connect();
    expect(h.linkIdleMs).toBe(150);
    r.client.close(); // the tool dies: no more frames, not even ACKs
    await until(() => r.server.mode === "text", 3000, "text mode");
  });

  it("text mode: the session of test/board/text-session.ts, byte for byte", async () => {
    const r = await open();
    await until(() => r.raw().endsWith("> "), 2000, "the prompt");
    await playTextSession((b) => r.pair.a.write(b), () => r.raw(), until);
  });
});

describe("image transfer", () => {
  it("flashes a new image into the inactive slot, reboots into it, and the id in INFO changes", async () => {
    const r = await open();
    const h1 = await r.client.connect();
    await r.client.exec("(core/kv/set survives 1)");
    const img = variantImage("two");
    const hello = r.client.waitFor((m) => m.type === "HELLO" && m.info.session !== h1.session, 15000, "HELLO after the flash");
    const ok = await flashImage(r, img);
    expect(ok).toMatchObject({ type: "OK", value: idOf(img) });
    const h2 = await hello;
    if (h2.type !== "HELLO") throw new Error();
    expect(h2.info).toMatchObject({ bootReason: BootReason.NEW_IMAGE, activeSlot: 1, imageCrc: idOf(img), rollbackReason: 0 });
    await until(() => r.client.ep.session === h2.info.session, 2000, "the new session");
    const info = await r.client.call({ type: "GET_INFO", req: 1234 });
    if (info.type !== "INFO") throw new Error();
    expect(info.info.imageCrc).toBe(idOf(img));
    expect(text(await r.client.exec("(core/kv/get survives)"))).toBe("1");
    // the next one goes back to slot 0
    const img3 = variantImage("three");
    const hello3 = r.client.waitFor((m) => m.type === "HELLO" && m.info.imageCrc === idOf(img3), 15000, "HELLO 3");
    expect(await flashImage(r, img3)).toMatchObject({ type: "OK", value: idOf(img3) });
    const h3 = await hello3;
    if (h3.type === "HELLO") expect(h3.info.activeSlot).toBe(0);
    // the server restarts from the same flash: the image is still there
    r.server.close();
    const r2 = await rig({ flash: r.flash });
    try {
      const h = await r2.client.connect();
      expect(h).toMatchObject({ activeSlot: 0, imageCrc: idOf(img3), bootReason: BootReason.POWER_ON });
    } finally {
      r2.close();
    }
  });

  it("refuses bad transfers and corrupt images with the right code; the old image keeps serving", async () => {
    const r = await open();
    const h = await r.client.connect();
    const good = variantImage("good");
    const code = (m: Message): number => (m.type === "ERROR" ? m.code : -1);
    // FLASH_BEGIN checks
    expect(code(await r.client.call({ type: "FLASH_BEGIN", req: 1, size: 100, crc: 0, slot: 0 }))).toBe(ErrorCode.FLASH_BAD_SLOT);
    expect(code(await r.client.call({ type: "FLASH_BEGIN", req: 2, size: 100, crc: 0, slot: 7 }))).toBe(ErrorCode.FLASH_BAD_SLOT);
    expect(code(await r.client.call({ type: "FLASH_BEGIN", req: 3, size: 512 * 1024 + 1, crc: 0, slot: 0xff }))).toBe(ErrorCode.FLASH_TOO_LARGE);
    expect(await r.client.call({ type: "FLASH_BEGIN", req: 4, size: 100, crc: 0, slot: 1 })).toMatchObject({ type: "OK", value: 1 });
    // COMMIT checks
    expect(code(await r.client.call({ type: "FLASH_COMMIT", req: 99, flags: 0 }))).toBe(ErrorCode.FLASH_NO_TRANSFER);
    await r.client.call({ type: "FLASH_BEGIN", req: 5, size: 100, crc: 0, slot: 0xff });
    expect(code(await r.client.call({ type: "FLASH_COMMIT", req: 5, flags: 0 }))).toBe(ErrorCode.FLASH_INCOMPLETE);
    await r.client.call({ type: "FLASH_BEGIN", req: 6, size: 100, crc: 0, slot: 0xff });
    expect(code(await r.client.call({ type: "FLASH_DATA", req: 6, offset: 10, data: new Uint8Array(10) }))).toBe(ErrorCode.FLASH_BAD_OFFSET);
    expect(code(await r.client.call({ type: "FLASH_COMMIT", req: 6, flags: 0 }))).toBe(ErrorCode.FLASH_NO_TRANSFER);
    expect(code(await flashImage(r, good, { crc: 12345 }))).toBe(ErrorCode.FLASH_BAD_CRC);

    const badCrc = good.slice();
    badCrc[good.length - 5] ^= 0x55;
    expect(code(await flashImage(r, badCrc))).toBe(ErrorCode.IMAGE_BAD_CRC);
    expect(code(await flashImage(r, good.subarray(0, good.length - 200)))).toBe(ErrorCode.IMAGE_BAD_HEADER);
    expect(code(await flashImage(r, buildImage(wasmBytes(), { abiVersion: ABI_VERSION + 1 })))).toBe(ErrorCode.IMAGE_BAD_ABI);
    expect(code(await flashImage(r, buildImage(te.encode("#!/bin/sh\necho not wasm\n"), { abiVersion: ABI_VERSION })))).toBe(ErrorCode.IMAGE_NOT_WASM);
    expect(code(await flashImage(r, fakeImage({ abi: 1 })))).toBe(ErrorCode.IMAGE_REJECTED);
    expect(code(await flashImage(r, fakeImage({ initResult: -1 })))).toBe(ErrorCode.IMAGE_REJECTED);
    const errors = r.client.messages.filter((m) => m.type === "ERROR");
    for (const e of errors) if (e.type === "ERROR") expect(td.decode(e.message).length).toBeGreaterThan(5);

    // still the same board, image and session
    expect(r.server.slot).toBe(0);
    expect(r.client.hellos.length).toBe(1);
    const info = await r.client.call({ type: "GET_INFO", req: 50 });
    if (info.type !== "INFO") throw new Error();
    expect(info.info).toMatchObject({ imageCrc: h.imageCrc, activeSlot: 0, session: h.session });
    expect(text(await r.client.exec("(core/kv/set x 2) (core/kv/get x)"))).toBe("2");
  });

  it("an image that traps at start-up is rolled back automatically and the board says so", async () => {
    const r = await open();
    const h1 = await r.client.connect();
    const trap = fakeImage({ trapRun: true });
    const hello = r.client.waitFor((m) => m.type === "HELLO" && m.info.session !== h1.session, 15000, "HELLO after the flash");
    expect(await flashImage(r, trap)).toMatchObject({ type: "OK", value: idOf(trap) });
    const h2 = await hello;
    if (h2.type !== "HELLO") throw new Error();
    expect(h2.info).toMatchObject({
      bootReason: BootReason.ROLLBACK,
      activeSlot: 0,
      rollbackReason: RollbackReason.TRAP,
      failedCrc: idOf(trap),
      imageCrc: h1.imageCrc,
    });
    await until(() => r.client.messages.some((m) => m.type === "LOG" && /failed \(trap at start-up\); rolled back to slot 0/.test(td.decode(m.text))), 2000, "the rollback LOG");
    await until(() => r.client.ep.session === h2.info.session, 2000, "the new session");
    expect(text(await r.client.exec("(core/kv/set after 1)"))).toBe("true");
    // INFO keeps saying so until the next successful commit
    const info = await r.client.call({ type: "GET_INFO", req: 500 });
    if (info.type === "INFO") expect(info.info).toMatchObject({ rollbackReason: RollbackReason.TRAP, failedCrc: idOf(trap) });
    const img = variantImage("fine");
    const hello3 = r.client.waitFor((m) => m.type === "HELLO" && m.info.imageCrc === idOf(img), 15000, "HELLO 3");
    await flashImage(r, img);
    const h3 = await hello3;
    if (h3.type === "HELLO") expect(h3.info).toMatchObject({ bootReason: BootReason.NEW_IMAGE, rollbackReason: 0, failedCrc: 0, activeSlot: 1 });
  });

  it("FLASH_COMMIT with 'do not reboot' marks the slot; the next RESET boots it", async () => {
    const r = await open();
    await r.client.connect();
    const img = variantImage("later");
    expect(await flashImage(r, img, { flags: CommitFlag.NO_REBOOT })).toMatchObject({ type: "OK", value: idOf(img) });
    await sleep(100);
    expect(r.client.hellos.length).toBe(1);
    expect(text(await r.client.exec("1"))).toBe("1");
    const hello = r.client.waitFor((m) => m.type === "HELLO", 10000, "HELLO");
    await r.client.call({ type: "RESET", req: r.client.req(), flags: 0 });
    const h = await hello;
    if (h.type === "HELLO") expect(h.info).toMatchObject({ bootReason: BootReason.NEW_IMAGE, imageCrc: idOf(img), activeSlot: 1 });
  });
});

describe("crashes and a board without an image", () => {
  it("an image that traps while serving: ERROR INTERNAL and a LOG line, the image restarts in the same session (as the firmware does)", async () => {
    const r = await open({ install: fakeImage({ tag: 5 }) });
    const h1 = await r.client.connect();
    expect(text(await r.client.call({ type: "WATCH", req: r.client.req(), channel: 1, on: true, topic: 9 }))).toBe("OK");
    expect(text(await r.client.exec("hello"))).toBe("hello");
    const hellos = r.client.messages.filter((m) => m.type === "HELLO").length;
    expect(text(await r.client.exec("!boom"))).toMatch(/^ERROR 255 image trapped: /);
    await until(() => r.client.messages.some((m) => m.type === "LOG" && /^sxs: image trapped: .*; restarting$/.test(td.decode(m.text))), 2000, "the LOG line");
    expect(text(await r.client.exec("again"))).toBe("again");
    expect(r.server.mode).toBe("framed");
    expect(r.client.messages.filter((m) => m.type === "HELLO").length).toBe(hellos); // no reboot, no new session
    expect(r.server.describe()).toMatchObject({ activeSlot: 0, imageCrc: h1.imageCrc, bootReason: h1.bootReason });
    // text mode: the same line, then the prompt; the next line runs
    expect(text(await r.client.call({ type: "LEAVE", req: r.client.req() }))).toBe("OK");
    await until(() => r.server.mode === "text" && r.raw().endsWith("> "), 3000, "text mode");
    const mark = r.raw().length;
    r.pair.a.write(Buffer.from("!x\r"));
    await until(() => r.raw().slice(mark).endsWith("; restarting\r\n> "), 3000, "the trap line");
    expect(r.raw().slice(mark)).toMatch(/^!x\r\nsxs: image trapped: .*; restarting\r\n> $/);
    r.pair.a.write(Buffer.from("y\r"));
    await until(() => r.raw().slice(mark).endsWith("y\r\n=> y\r\n> "), 3000, "the next line's answer");
  });

  it("three quick traps: the image restarts in safe mode, and says so", async () => {
    const r = await open({ install: fakeImage({ tag: 6 }) });
    await r.client.connect();
    for (let i = 0; i < 3; i++) expect(text(await r.client.exec("!boom"))).toMatch(/^ERROR 255 image trapped: /);
    await until(() => r.client.messages.some((m) => m.type === "LOG" && /; restarting in safe mode$/.test(td.decode(m.text))), 3000, "safe mode");
    expect(r.server.safeMode).toBe(true);
    expect(text(await r.client.exec("fine"))).toBe("fine");
  });

  it("a blank flash and no image: INFO says so, EXEC and WATCH get NO_IMAGE, flashing brings one up", async () => {
    const r = await open({ install: undefined });
    await until(() => /slot none image none\r\nsxs: no image runs/.test(r.raw()), 2000, "the banner");
    const h = await r.client.connect();
    expect(h).toMatchObject({ activeSlot: 0xff, imageCrc: 0, processors: 0 });
    expect(text(await r.client.exec("1"))).toMatch(/^ERROR 9 /);
    expect(text(await r.client.call({ type: "WATCH", req: 2, channel: 1, on: true, topic: 1 }))).toMatch(/^ERROR 9 /);
    const img = variantImage("first");
    const hello = r.client.waitFor((m) => m.type === "HELLO" && m.info.imageCrc === idOf(img), 15000, "HELLO");
    expect(await flashImage(r, img)).toMatchObject({ type: "OK", value: idOf(img) });
    const h2 = await hello;
    if (h2.type === "HELLO") expect(h2.info).toMatchObject({ activeSlot: 0, bootReason: BootReason.NEW_IMAGE });
  });
});

describe("a fresh flash file", () => {
  it("keeps everything in the file", async () => {
    const { tempDir } = await import("../host/helpers.js");
    const { join } = await import("node:path");
    const path = join(tempDir("sxs-board"), "flash.bin");
    const flash = NorFlash.file(path);
    const r = await open({ flash });
    await r.client.connect();
    await r.client.exec("(core/kv/set f 9)");
    r.close();
    current = undefined;
    flash.close();
    const again = NorFlash.file(path);
    const r2 = await open({ flash: again });
    const h = await r2.client.connect();
    expect(h.bootReason).toBe(BootReason.POWER_ON);
    expect(text(await r2.client.exec("(core/kv/get f)"))).toBe("9");
    r2.close();
    current = undefined;
    again.close();
  });
});
