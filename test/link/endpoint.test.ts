// The whole link (endpoint + windows + framing) between a host and a toy board over
// emulated wires on a virtual clock: pacing, latency, noise, backpressure.
import { describe, expect, it } from "vitest";
import { connect, setup, te } from "./harness.js";
import { buildImage } from "../../host/link/image-header.js";
import { crc32 } from "../../host/link/crc32.js";
import { execMessage } from "../../host/link/messages.js";
import { Prng } from "../../host/link/prng.js";

function runUntil(s: ReturnType<typeof setup>, done: () => boolean, limitMs = 600_000): void {
  const end = s.timers.now() + limitMs;
  while (!done() && s.timers.now() < end && s.timers.pending > 0) s.timers.run(10);
  if (!done()) throw new Error(`not done after ${s.timers.now()} virtual ms`);
}

function checkExactlyOnce(s: ReturnType<typeof setup>, n: number, first = 1): void {
  for (let r = first; r < first + n; r++) {
    expect(s.host.results.get(r), `req ${r}`).toEqual([`ok cmd-${r}`]);
    expect(s.board.executed.get(r), `req ${r} executions`).toBe(1);
  }
}

describe("session start", () => {
  it("ENTER then HELLO opens a session", () => {
    const s = setup();
    connect(s);
    expect(s.host.sessions).toEqual([1]);
    expect(s.host.messages[0]!.type).toBe("HELLO");
  });
  it("while HELLOs are lost the host has no session and sends nothing; each ENTER restarts the board's session", () => {
    const s = setup({ boardToHost: { dropRate: 1 } });
    s.host.enter();
    s.timers.advance(1000);
    s.host.enter();
    s.timers.advance(2000);
    expect(s.host.sessions).toEqual([]);
    expect(s.board.session).toBe(2);
    expect(s.host.ep.stats.framesOut).toBe(0);
  });
  it("a board that starts a new session (reboot) is noticed by the host", () => {
    const s = setup();
    connect(s);
    s.board.startSession();
    runUntil(s, () => s.host.sessions.length === 2);
    expect(s.host.sessions).toEqual([1, 2]);
  });
});

describe("clean line", () => {
  it("answers every request once, in order", () => {
    const s = setup({ wire: { baud: 115200, latencyMs: 2 } });
    connect(s);
    for (let r = 1; r <= 300; r++) s.host.send(execMessage(r, 0, `cmd-${r}`));
    runUntil(s, () => s.host.results.size === 300);
    checkExactlyOnce(s, 300);
    const order = s.host.messages.filter((m) => m.type === "RESULT").map((m) => m.req);
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(s.host.ep.tx.stats.retransmitted).toBe(0);
    expect(s.board.ep.tx.stats.retransmitted).toBe(0);
  });

  it("a 16 KiB request passes through an 8 KiB window in fragments", () => {
    const s = setup({ wire: { latencyMs: 16 } });
    connect(s);
    const text = new Uint8Array(16384).fill(0x61);
    s.host.send(execMessage(7, 0, text));
    runUntil(s, () => s.host.results.size === 1);
    expect(s.host.results.get(7)![0]!.length).toBe(3 + 16384);
    expect(s.board.maxBuffered).toBeLessThanOrEqual(8192);
  });
});

describe("noise", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`flips and drops (seed ${seed}): every request answered exactly once`, () => {
      const s = setup({ wire: { baud: 921600, latencyMs: 4, flipRate: 2e-4, dropRate: 2e-4, seed } });
      connect(s);
      const n = 400;
      const rng = new Prng(seed);
      let sent = 0;
      // send in bursts at random times
      const burst = () => {
        const k = Math.min(n - sent, 1 + rng.int(40));
        for (let i = 0; i < k; i++) {
          sent++;
          s.host.send(execMessage(sent, 0, `cmd-${sent}`));
        }
        if (sent < n) s.timers.setTimeout(burst, rng.int(20));
      };
      burst();
      runUntil(s, () => s.host.results.size === n);
      s.timers.run(2000); // let stray retransmissions settle
      checkExactlyOnce(s, n);
      const noise = s.hb.stats.flipped + s.hb.stats.dropped + s.bh.stats.flipped + s.bh.stats.dropped;
      expect(noise).toBeGreaterThan(0);
      expect(s.host.ep.deframer.droppedFrames + s.board.ep.deframer.droppedFrames).toBeGreaterThan(0);
      expect(s.host.down || s.board.ep.down).toBe(false);
    });
  }

  it("heavy noise (1 % of bytes) still delivers exactly once", () => {
    const s = setup({ wire: { baud: 115200, latencyMs: 1, flipRate: 5e-3, dropRate: 5e-3, seed: 99 } });
    connect(s);
    for (let r = 1; r <= 100; r++) s.host.send(execMessage(r, 0, `cmd-${r}`));
    runUntil(s, () => s.host.results.size === 100, 3_600_000);
    s.timers.run(5000);
    checkExactlyOnce(s, 100);
    expect(s.host.ep.tx.stats.retransmitted).toBeGreaterThan(0);
  });

  it("a dead line is declared down after the retries", () => {
    const s = setup({ wire: { latencyMs: 1 } });
    connect(s);
    s.hb.close();
    s.host.send(execMessage(1, 0, "x"));
    s.timers.run(120_000);
    expect(s.host.down).toBe(true);
    expect(s.host.ep.tx.stats.timeouts).toBe(9);
  });
});

describe("backpressure", () => {
  it("a busy board pushes back; the host never overruns its buffer", () => {
    const s = setup({ wire: { baud: 921600, latencyMs: 16 }, board: { queue: 8, execMs: 3 } });
    connect(s);
    for (let r = 1; r <= 400; r++) s.host.send(execMessage(r, 0, `cmd-${r}`));
    runUntil(s, () => s.host.results.size === 400);
    checkExactlyOnce(s, 400);
    expect(s.board.maxQueued).toBe(8);
    expect(s.board.maxBuffered).toBeLessThanOrEqual(8192);
    expect(s.board.ep.rx.stats.overruns).toBe(0);
    // 400 requests at 3 ms each cannot finish sooner than 1.2 s: the board set the pace
    expect(s.timers.now()).toBeGreaterThan(1200);
  });

  it("the smallest board window (1042 bytes) and a slow board: the credit runs out and reopens", () => {
    const s = setup({ wire: { latencyMs: 2 }, board: { queue: 1, execMs: 50, rxCapacity: 1042 } });
    connect(s);
    for (let r = 1; r <= 60; r++) s.host.send(execMessage(r, 0, `cmd-${r}`.padEnd(100, " ")));
    runUntil(s, () => s.host.results.size === 60);
    for (let r = 1; r <= 60; r++) expect(s.host.results.get(r)).toEqual([`ok ${`cmd-${r}`.padEnd(100, " ")}`]);
    expect(s.board.maxBuffered).toBeLessThanOrEqual(1042);
    expect(s.board.ep.rx.stats.overruns).toBe(0);
  });
});

describe("throughput (921600 baud, 16 ms latency each way)", () => {
  const BPMS = 92.16; // bytes per ms

  it("flashing 32 KiB takes at most 1.25x the raw wire time", () => {
    const s = setup({ wire: { baud: 921600, latencyMs: 16 } });
    connect(s);
    const rng = new Prng(7);
    const image = buildImage(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...rng.bytes(32768 - 40)]), { abiVersion: 1 });
    const t0 = s.timers.now();
    const req = 500;
    let done: number | undefined;
    s.host.onMessage = (m) => {
      if (m.type === "OK" && m.req === req && m.value === crc32(image)) done = s.timers.now();
    };
    // pipelined: BEGIN, all DATA, COMMIT without waiting for answers
    s.host.send({ type: "FLASH_BEGIN", req, size: image.length, crc: crc32(image), slot: 0xff });
    for (let off = 0; off < image.length; off += 1020)
      s.host.send({ type: "FLASH_DATA", req, offset: off, data: image.subarray(off, Math.min(off + 1020, image.length)) });
    s.host.send({ type: "FLASH_COMMIT", req, flags: 0 });
    runUntil(s, () => done !== undefined);
    const took = done! - t0;
    const raw = image.length / BPMS;
    const ratio = took / raw;
    console.log(`flash ${image.length} B: ${took.toFixed(1)} ms, raw ${raw.toFixed(1)} ms, ratio ${ratio.toFixed(3)}`);
    expect(ratio).toBeLessThanOrEqual(1.25);
  });

  it("20-byte commands keep the line at least 80 % busy", () => {
    const s = setup({ wire: { baud: 921600, latencyMs: 16 } });
    connect(s);
    const n = 2000;
    const text = (r: number) => `(core/kv/get k${String(r).padStart(5, "0")})`.slice(0, 20);
    expect(text(1).length).toBe(20);
    const t0 = s.timers.now();
    const bytes0 = s.host.ep.stats.bytesOut;
    for (let r = 1; r <= n; r++) s.host.send(execMessage(r, 0, text(r)));
    runUntil(s, () => s.host.results.size === n);
    const took = s.timers.now() - t0;
    const perCmd = 45; // wire bytes of one 20-byte EXEC frame
    const util = (n * perCmd) / BPMS / took;
    const stopAndWait = perCmd / BPMS / (perCmd / BPMS + 32 + 24 / BPMS);
    console.log(
      `${n} x 20-byte EXEC: ${took.toFixed(1)} ms, ${((n / took) * 1000).toFixed(0)} cmd/s, line use ${util.toFixed(3)}` +
        ` (host sent ${s.host.ep.stats.bytesOut - bytes0} B); stop-and-wait would reach ${stopAndWait.toFixed(3)}`,
    );
    expect(util).toBeGreaterThanOrEqual(0.8);
  });
});
