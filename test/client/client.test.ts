// The host library (host/client) against a fake board over the link emulator (real
// timers), and the serial transport over real pseudo-terminals.
import { afterEach, describe, expect, it } from "vitest";
import { createLinkPair, type LinkPair, type WireOptions } from "../../host/link/emulator.js";
import { buildImage } from "../../host/link/image-header.js";
import { crc32 } from "../../host/link/crc32.js";
import { ErrorCode } from "../../host/link/messages.js";
import { connectBoard, openBoard, type BoardClient, type ConnectOptions, type FlashProgress } from "../../host/client/board-client.js";
import {
  BoardNotAnsweringError,
  BoardRefusedError,
  BoardResetError,
  ImageRejectedError,
  PortBusyError,
  PortNotFoundError,
  TimeoutError,
} from "../../host/client/errors.js";
import { openSerialTransport, streamTransport, isPty } from "../../host/client/transport.js";
import { prepareImage } from "../../host/client/image-file.js";
import { FakeBoard, type FakeBoardOptions } from "./fake-board.js";
import { openPty, type Pty } from "./pty.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(o: { board?: FakeBoardOptions; wire?: WireOptions; client?: ConnectOptions } = {}): Promise<{ board: FakeBoard; client: BoardClient; pair: LinkPair }> {
  const pair = createLinkPair({ baud: 921600, latencyMs: 1, ...o.wire });
  const board = new FakeBoard(o.board);
  board.attach((b) => pair.b.write(Buffer.from(b)));
  pair.b.on("data", (d: Buffer) => board.input(new Uint8Array(d)));
  cleanups.push(() => pair.close(), () => board.close());
  const client = await connectBoard(streamTransport(pair.a, { path: "emulated", baud: 921600 }), { timeoutMs: 3000, ...o.client });
  cleanups.push(() => client.dispose());
  return { board, client, pair };
}

function wasm(n: number, marker = ""): Uint8Array {
  const body = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
  const m = new TextEncoder().encode(marker);
  body.set(m, 100);
  return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...body]);
}

describe("connect and requests", () => {
  it("ENTER, HELLO, exec; the HELLO describes the board", async () => {
    const { client, board } = await setup();
    expect(board.enters).toBe(1);
    expect(client.hello.firmware).toBe("fake-board 1");
    expect(client.processors).toBe(2);
    expect(await client.exec("hello")).toBe("ok hello");
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => client.exec(`r${i}`)));
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => `ok r${i}`));
  });

  it("a request larger than a frame is fragmented", async () => {
    const { client } = await setup();
    const text = "x".repeat(20000);
    expect(await client.exec(text)).toBe(`ok ${text}`);
  });

  it("log lines and events reach their listeners; subscribe/unsubscribe drive WATCH", async () => {
    const { client, board } = await setup();
    const logs: string[] = [];
    client.on("log", (t) => logs.push(t));
    const got: string[] = [];
    const off = await client.subscribe("A", 5, (payload, _b, ch, topic) => got.push(`${ch}/${topic} ${payload}`));
    const all: string[] = [];
    const offAll = await client.subscribe("B", "*", (payload, _b, ch, topic) => all.push(`${ch}/${topic} ${payload}`));
    expect(board.watches).toEqual(new Set(["1:5", "2:-1"]));
    await client.exec("log:first line");
    await client.exec('event:A:5:"hi"');
    await client.exec("event:A:6:not watched");
    await client.exec("event:B:9:[1 2]");
    expect(logs).toEqual(["first line"]);
    expect(got).toEqual(['A/5 "hi"']);
    expect(all).toEqual(["B/9 [1 2]"]);
    await off();
    await offAll();
    expect(board.watches.size).toBe(0);
    await client.exec('event:A:5:"again"');
    expect(got).toHaveLength(1);
  });

  it("an event right behind the WATCH's OK reaches the new subscriber", async () => {
    const { client } = await setup({ board: { eventOnWatch: "first" } });
    const got: string[] = [];
    await client.subscribe("C", 7, (payload) => got.push(payload));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(["first"]);
  });

  it("ERROR for an EXEC rejects it with the board's code", async () => {
    const { client } = await setup();
    const e = await client.exec("x", { processor: 5 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BoardRefusedError);
    expect((e as BoardRefusedError).code).toBe(ErrorCode.NO_PROCESSOR);
    expect(await client.exec("still fine")).toBe("ok still fine");
  });

  it("interrupt stops a runaway request and the board answers the next one", async () => {
    const { client } = await setup();
    const run = client.submit("sleep:100000");
    await new Promise((r) => setTimeout(r, 50));
    expect(await client.interrupt(run.req)).toBe(1);
    expect(await run.result).toBe('@"interrupted"');
    expect(await client.exec("next")).toBe("ok next");
    // 0 = everything
    const a = client.submit("sleep:100000");
    const b = client.submit("sleep:100000");
    await new Promise((r) => setTimeout(r, 50));
    expect(await client.interrupt()).toBe(2);
    expect(await Promise.all([a.result, b.result])).toEqual(['@"interrupted"', '@"interrupted"']);
  });

  it("info and ping", async () => {
    const { client } = await setup({ board: { reportTasks: true } });
    const i = await client.info();
    expect(i.imageCrc).toBe(0x1111aaaa);
    expect(i.liveTasks).toBe(0);
    expect(await client.ping(new Uint8Array([1, 2, 3]))).toBeGreaterThanOrEqual(0);
  });

  it("reset: a new session; watches are asked again; unanswered requests fail with BoardResetError", async () => {
    const { client, board } = await setup();
    const got: string[] = [];
    await client.subscribe("C", 1, (p) => got.push(p));
    const sessions: number[] = [];
    client.on("session", (i) => sessions.push(i.session));
    const before = client.hello.session;
    const back = await client.reset();
    expect(back!.session).not.toBe(before);
    expect(back!.bootReason).toBe(1);
    expect(sessions).toEqual([back!.session]);
    await new Promise((r) => setTimeout(r, 50));
    expect(board.watches).toEqual(new Set(["3:1"]));
    await client.exec("event:C:1:after reset");
    expect(got).toEqual(["after reset"]);
    const pending = client.exec("sleep:100000");
    await new Promise((r) => setTimeout(r, 30));
    board.startSession(); // as if another tool sent ENTER, or the board rebooted
    await expect(pending).rejects.toBeInstanceOf(BoardResetError);
    expect(await client.exec("ok?")).toBe("ok ok?");
  });

  it("close sends LEAVE: the board goes back to text mode", async () => {
    const { client, board } = await setup();
    await client.exec("x");
    await client.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(board.received.at(-1)?.type).toBe("LEAVE");
    expect(board.mode).toBe("text");
    await expect(client.exec("y")).rejects.toThrow(/closed/);
  });
});

describe("idle (settle)", () => {
  it("with live_tasks in INFO: waits for a pending timer's output", async () => {
    const { client } = await setup({ board: { reportTasks: true } });
    const logs: string[] = [];
    client.on("log", (t) => logs.push(t));
    await client.exec("after:300:late");
    expect(logs).toEqual([]);
    const t0 = performance.now();
    await client.settle();
    expect(logs).toEqual(["late"]);
    expect(performance.now() - t0).toBeGreaterThan(200);
  });
  it("without it: a quiet period after queued reaches 0", async () => {
    const { client } = await setup();
    const logs: string[] = [];
    client.on("log", (t) => logs.push(t));
    await client.exec("after:40:soon");
    await client.settle({ quietMs: 150 });
    expect(logs).toEqual(["soon"]);
  });
});

describe("flash", () => {
  it("transfers with progress callbacks, reboots, reports the new hash and the rate", async () => {
    const { client } = await setup({ wire: { baud: 460800, latencyMs: 4 } });
    const w = wasm(40_000);
    const image = buildImage(w, { abiVersion: 2 });
    const seen: FlashProgress[] = [];
    const r = await client.flash(image, { onProgress: (p) => seen.push(p) });
    expect(r.hash).toBe(crc32(w));
    expect(r.slot).toBe(1);
    expect(r.bytes).toBe(image.length);
    expect(r.rate).toBeGreaterThan(1000);
    expect(r.info!.bootReason).toBe(2);
    const transfer = seen.filter((p) => p.phase !== "reboot");
    expect(transfer.length).toBeGreaterThan(5);
    for (let i = 1; i < transfer.length; i++) expect(transfer[i]!.bytes).toBeGreaterThanOrEqual(transfer[i - 1]!.bytes);
    expect(transfer.at(-1)!.bytes).toBe(image.length);
    expect(seen.at(-1)!.phase).toBe("reboot");
    expect(transfer.some((p) => p.etaMs !== undefined && p.rate > 0)).toBe(true);
    expect((await client.info()).imageCrc).toBe(crc32(w));
    expect(await client.exec("after flash")).toBe("ok after flash");
  });

  it("a bare .wasm gets a header", () => {
    const w = wasm(100);
    const p = prepareImage(w);
    expect(p.wrapped).toBe(true);
    expect(p.bytes.length).toBe(w.length + 32);
    const again = prepareImage(p.bytes);
    expect(again.wrapped).toBe(false);
  });

  it("refuses bad images before sending; with check off the board refuses them and keeps its image", async () => {
    const { client, board } = await setup();
    const good = buildImage(wasm(3000), { abiVersion: 2 });
    const cases: Array<[string, Uint8Array, number]> = [
      ["wrong ABI", buildImage(wasm(3000), { abiVersion: 9 }), ErrorCode.IMAGE_BAD_ABI],
      ["truncated", good.slice(0, good.length - 10), ErrorCode.IMAGE_BAD_HEADER],
      ["not wasm", buildImage(new Uint8Array(500).fill(7), { abiVersion: 2 }), ErrorCode.IMAGE_NOT_WASM],
      ["bad CRC", (() => { const b = good.slice(); b[500]! ^= 1; return b; })(), ErrorCode.IMAGE_BAD_CRC],
    ];
    for (const [what, img, code] of cases) {
      const local = await client.flash(img).catch((e: unknown) => e);
      expect(local, what).toBeInstanceOf(ImageRejectedError);
      expect((local as ImageRejectedError).stage).toBe("local");
      expect((local as ImageRejectedError).code, what).toBe(code);
      const remote = await client.flash(img, { check: false }).catch((e: unknown) => e);
      expect(remote, what).toBeInstanceOf(ImageRejectedError);
      expect((remote as ImageRejectedError).stage, what).toBe("board");
      expect((remote as ImageRejectedError).code, what).toBe(code);
      expect((await client.info()).imageCrc).toBe(0x1111aaaa);
    }
    expect(board.slot).toBe(0);
    expect(await client.exec("still serving")).toBe("ok still serving");
  });

  it("an image that fails to start is reported as rolled back", async () => {
    const { client } = await setup({ board: { trapMarker: "TRAP!" } });
    const e = await client.flash(buildImage(wasm(5000, "TRAP!"), { abiVersion: 2 })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImageRejectedError);
    expect((e as ImageRejectedError).stage).toBe("rollback");
    expect((e as Error).message).toMatch(/rolled back to slot 0/);
    expect((await client.info()).imageCrc).toBe(0x1111aaaa);
  });
});

describe("typed errors", () => {
  it("a board that never answers: BoardNotAnsweringError within the timeout", async () => {
    const t0 = performance.now();
    const e = await setup({ board: { mute: true }, client: { timeoutMs: 1200 } }).catch((x: unknown) => x);
    const ms = performance.now() - t0;
    expect(e).toBeInstanceOf(BoardNotAnsweringError);
    expect((e as Error).message).toMatch(/^no answer from a board on emulated \(\d tr(y|ies) in \d+ ms\)/);
    expect(ms).toBeGreaterThanOrEqual(1100);
    expect(ms).toBeLessThan(4000);
  });

  it("a line that goes dead after connecting: requests fail with BoardNotAnsweringError", async () => {
    const { client, pair } = await setup({ client: { window: { rtoInitial: 50, rtoMin: 20, rtoMax: 100, maxRetries: 3 } } });
    const failures: Error[] = [];
    client.on("failure", (e) => failures.push(e));
    pair.ab.close();
    await expect(client.exec("lost")).rejects.toBeInstanceOf(BoardNotAnsweringError);
    expect(failures).toHaveLength(1);
  });

  it("a request that outlasts its limit: TimeoutError", async () => {
    const { client } = await setup();
    const e = await client.exec("sleep:100000", { timeoutMs: 200 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect((e as Error).message).toMatch(/no answer within 200 ms/);
    expect(await client.interrupt()).toBe(1);
    expect(await client.exec("next")).toBe("ok next");
  });

  it("a port path that does not exist", async () => {
    const e = await openBoard("/dev/does-not-exist-sxs", { timeoutMs: 500 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PortNotFoundError);
    expect((e as Error).message).toBe("no serial port at /dev/does-not-exist-sxs (`sxs ports` lists the ports this system sees)");
  });

  it("a port that is busy: the same pty opened twice with lock true", async () => {
    const pty = openPty();
    cleanups.push(() => pty.close());
    expect(isPty(pty.path)).toBe(true);
    const first = await openSerialTransport(pty.path, { lock: true });
    cleanups.push(() => first.close());
    const e = await openSerialTransport(pty.path, { lock: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PortBusyError);
    expect((e as Error).message).toMatch(/is busy/);
  });

  it("over a real pty with nobody behind it: BoardNotAnsweringError", async () => {
    const pty = openPty();
    cleanups.push(() => pty.close());
    const e = await openBoard(pty.path, { timeoutMs: 800 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BoardNotAnsweringError);
    // the ENTER sequence went out, nothing else (no frame before a HELLO)
    await new Promise((r) => setTimeout(r, 50));
    const got = pty.received();
    expect(got.length % 6).toBe(0);
    expect([...got.subarray(0, 6)]).toEqual([0, 0xff, 0x53, 0x58, 0x53, 0]);
  });
});

describe("over a real pty with the fake board on the other side", () => {
  let pty: Pty;
  it("exec, events, flash", async () => {
    pty = openPty();
    cleanups.push(() => pty.close());
    const board = new FakeBoard();
    board.attach((b) => pty.write(b));
    pty.onData((b) => board.input(b));
    cleanups.push(() => board.close());
    const client = await openBoard(pty.path, { baud: 921600, timeoutMs: 3000 });
    cleanups.push(() => client.dispose());
    expect(await client.exec("over a pty")).toBe("ok over a pty");
    const w = wasm(20_000);
    const r = await client.flash(buildImage(w, { abiVersion: 2 }));
    expect(r.hash).toBe(crc32(w));
    await client.close();
  });
});
