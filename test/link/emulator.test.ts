// The link emulator: pacing, latency and seeded noise on a virtual clock, then the
// whole protocol over a Duplex pair on real timers.
import { describe, expect, it } from "vitest";
import { createLinkPair, realTimers, VirtualTimers, Wire } from "../../host/link/emulator.js";
import { execMessage } from "../../host/link/messages.js";
import { ToyBoard, ToyHost } from "./harness.js";

describe("Wire", () => {
  it("paces bytes at the baud rate and adds latency", () => {
    const t = new VirtualTimers();
    const got: { at: number; n: number }[] = [];
    const w = new Wire({ baud: 921600, latencyMs: 16 }, (b) => got.push({ at: t.now(), n: b.length }), t);
    w.write(new Uint8Array(9216)); // 100 ms of wire time
    t.run();
    expect(got.reduce((a, g) => a + g.n, 0)).toBe(9216);
    expect(got[0]!.at).toBeCloseTo(16 + 64 / 92.16, 1);
    expect(got[got.length - 1]!.at).toBeCloseTo(116, 1);
    // a second write queues behind the first
    w.write(new Uint8Array(92));
    const start = t.now();
    t.run();
    expect(got[got.length - 1]!.at - start).toBeCloseTo(1 + 16, 0);
  });

  it("flips and drops bytes at the chosen rates, the same way for the same seed", () => {
    const run = (seed: number) => {
      const t = new VirtualTimers();
      const out: number[] = [];
      const w = new Wire({ baud: Infinity, flipRate: 0.01, dropRate: 0.01, seed }, (b) => out.push(...b), t);
      w.write(new Uint8Array(100000).fill(0x55));
      t.run();
      return { out, stats: w.stats };
    };
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(a.out).toEqual(b.out);
    expect(a.stats).toEqual(b.stats);
    expect(a.out).not.toEqual(c.out);
    expect(a.stats.dropped).toBeGreaterThan(800);
    expect(a.stats.dropped).toBeLessThan(1200);
    expect(a.stats.flipped).toBeGreaterThan(800);
    expect(a.out.length).toBe(100000 - a.stats.dropped);
    expect(a.out.filter((x) => x !== 0x55).length).toBe(a.stats.flipped);
  });
});

describe("Duplex pair on real timers", () => {
  it("carries the protocol through noise: every request answered exactly once", async () => {
    const pair = createLinkPair({ baud: 921600, latencyMs: 2, flipRate: 3e-4, dropRate: 3e-4, seed: 42 });
    const host = new ToyHost(realTimers, { bytesPerMs: 92.16 });
    const board = new ToyBoard(realTimers, { window: { bytesPerMs: 92.16, txBuffer: 8192 } });
    host.attach((b) => pair.a.write(b));
    board.attach((b) => pair.b.write(b));
    pair.a.on("data", (d: Buffer) => host.driver.input(new Uint8Array(d)));
    pair.b.on("data", (d: Buffer) => board.input(new Uint8Array(d)));
    try {
      const deadline = Date.now() + 20000;
      while (host.sessions.length === 0 && Date.now() < deadline) {
        host.enter();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(host.sessions.length).toBeGreaterThan(0);
      const n = 300;
      for (let r = 1; r <= n; r++) host.send(execMessage(r, 0, `cmd-${r}`));
      while (host.results.size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      for (let r = 1; r <= n; r++) {
        expect(host.results.get(r), `req ${r}`).toEqual([`ok cmd-${r}`]);
        expect(board.executed.get(r)).toBe(1);
      }
      console.log("host tx", JSON.stringify(host.ep.tx.stats), "board tx", JSON.stringify(board.ep.tx.stats), "rto", host.ep.tx.rto, board.ep.tx.rto, "wire", JSON.stringify(pair.ab.stats), JSON.stringify(pair.ba.stats));
      expect(pair.ab.stats.flipped + pair.ab.stats.dropped + pair.ba.stats.flipped + pair.ba.stats.dropped).toBeGreaterThan(0);
    } finally {
      host.driver.close();
      board.driver.close();
      pair.close();
    }
  }, 30000);
});
