// The streaming deframer under seeded random noise, and fragmentation/reassembly.
import { describe, expect, it } from "vitest";
import { Deframer } from "../../host/link/deframer.js";
import { encodeFrame, FLAG_MORE, MAX_PAYLOAD, type Frame } from "../../host/link/frame.js";
import { fragment, Reassembler } from "../../host/link/fragment.js";
import { Prng } from "../../host/link/prng.js";

function randomFrame(rng: Prng, i: number): Frame {
  const n = rng.next() < 0.2 ? rng.int(MAX_PAYLOAD + 1) : rng.int(40);
  const payload = rng.bytes(n);
  return { type: 0x10 + rng.int(0x19), flags: rng.int(4), seq: i & 0xffff, ack: rng.int(0x10000), credit: rng.int(0x10000), req: rng.u32(), payload };
}

const same = (a: Frame, b: Frame) =>
  a.type === b.type && a.flags === b.flags && a.seq === b.seq && a.ack === b.ack && a.credit === b.credit && a.req === b.req &&
  Buffer.from(a.payload).equals(Buffer.from(b.payload));

describe("deframer with noise", () => {
  for (const seed of [11, 22, 33, 44]) {
    it(`delivers every untouched frame, no false ones (seed ${seed})`, () => {
      const rng = new Prng(seed);
      const frames: Frame[] = [];
      const parts: Uint8Array[] = [];
      const intact: boolean[] = [];
      let prevDelimiterOk = true;
      for (let i = 0; i < 600; i++) {
        const f = randomFrame(rng, i);
        frames.push(f);
        const w = encodeFrame(f).slice();
        let ok = prevDelimiterOk;
        const r = rng.next();
        if (r < 0.05) {
          // flip one bit inside the encoded frame
          const k = rng.int(w.length - 1);
          w[k] = w[k]! ^ (1 << rng.int(8)) || 0x01; // keep it non-zero... usually
          ok = false;
        } else if (r < 0.08) {
          // drop one byte inside
          const k = rng.int(w.length - 1);
          parts.push(w.subarray(0, k));
          parts.push(w.subarray(k + 1));
          intact.push(false);
          prevDelimiterOk = true;
          continue;
        } else if (r < 0.11) {
          // garbage without a delimiter before the frame: glued to it
          parts.push(rng.bytes(1 + rng.int(30)).map((b) => b || 0x55));
          ok = false;
        } else if (r < 0.14) {
          // garbage that ends in a delimiter: its own bad frame, this one survives
          parts.push(rng.bytes(1 + rng.int(30)).map((b) => b || 0x55));
          parts.push(Uint8Array.of(0));
        }
        let delimiterOk = true;
        if (rng.next() < 0.02) {
          w[w.length - 1] = 0x42; // the delimiter is hit: this frame and the next merge
          delimiterOk = false;
          ok = false;
        }
        parts.push(w);
        intact.push(ok);
        prevDelimiterOk = delimiterOk;
        if (!delimiterOk) {
          /* the next frame is glued to this one */
        }
      }
      // a frame after a lost delimiter is lost too
      const stream = Buffer.concat(parts);
      const d = new Deframer();
      const got: Frame[] = [];
      for (let o = 0; o < stream.length; ) {
        const n = 1 + rng.int(200);
        for (const e of d.feed(stream.subarray(o, o + n))) if (e.kind === "frame") got.push(e.frame);
        o += n;
      }
      d.feed(Uint8Array.of(0));
      // no false frames: everything delivered was sent, in order
      let j = 0;
      for (const g of got) {
        while (j < frames.length && !same(frames[j]!, g)) j++;
        expect(j < frames.length, "a delivered frame that was never sent").toBe(true);
        j++;
      }
      // every frame whose bytes and both delimiters were intact came out
      const gotSeqs = new Set(got.map((f) => f.seq));
      let expected = 0;
      for (let i = 0; i < frames.length; i++) if (intact[i]) {
        expected++;
        expect(gotSeqs.has(frames[i]!.seq), `frame ${i}`).toBe(true);
      }
      expect(got.length).toBeGreaterThanOrEqual(expected);
      expect(d.droppedFrames).toBeGreaterThan(0);
      expect(d.stats.frames).toBe(got.length);
    });
  }

  it("finds no frame in pure noise", () => {
    const rng = new Prng(5);
    const d = new Deframer();
    let frames = 0;
    for (let i = 0; i < 200; i++) for (const e of d.feed(rng.bytes(1000))) if (e.kind === "frame") frames++;
    expect(frames).toBe(0);
    expect(d.droppedFrames).toBeGreaterThan(100);
  });

  it("drops an overlong run and resynchronises at the next delimiter", () => {
    const d = new Deframer();
    const f = encodeFrame({ type: 0x12, flags: 0, seq: 1, ack: 0, credit: 100, req: 1, payload: Uint8Array.of(1, 2, 3) });
    // without a delimiter the frame is glued to the run and lost with it
    let evs = d.feed(Buffer.concat([new Uint8Array(5000).fill(7), f]));
    expect(evs.map((e) => e.kind)).toEqual(["drop"]);
    expect(d.stats.droppedBytes).toBe(5000 + f.length - 1);
    evs = d.feed(Buffer.concat([new Uint8Array(5000).fill(7), Uint8Array.of(0), f]));
    expect(evs.map((e) => e.kind)).toEqual(["drop", "frame"]);
    expect(d.stats.dropped.overlong).toBe(2);
  });

  it("a smaller max payload refuses larger frames", () => {
    const d = new Deframer({ maxPayload: 256 });
    const big = encodeFrame({ type: 0x12, flags: 0, seq: 1, ack: 0, credit: 100, req: 1, payload: new Uint8Array(300).fill(1) });
    const evs = d.feed(big);
    expect(evs[0]).toMatchObject({ kind: "drop" });
  });
});

describe("fragmentation and reassembly", () => {
  it("round-trips messages of every size around the boundaries", () => {
    const rng = new Prng(3);
    const r = new Reassembler();
    for (const n of [0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 5000, 16389]) {
      const payload = rng.bytes(n);
      const fr = fragment({ type: 0x20, req: n + 1, payload });
      expect(fr.length).toBe(Math.max(1, Math.ceil(n / 1024)));
      fr.forEach((f, i) => {
        expect(f.payload.length).toBeLessThanOrEqual(1024);
        expect(!!(f.flags & FLAG_MORE)).toBe(i < fr.length - 1);
      });
      const evs = fr.flatMap((f) => r.push(f));
      expect(evs.length).toBe(1);
      expect(evs[0]!.kind).toBe("message");
      if (evs[0]!.kind === "message") {
        expect(evs[0]!.message.req).toBe(n + 1);
        expect(Buffer.from(evs[0]!.message.payload).equals(Buffer.from(payload))).toBe(true);
      }
    }
  });

  it("a smaller max payload gives more fragments", () => {
    expect(fragment({ type: 0x20, req: 1, payload: new Uint8Array(1000) }, 100).length).toBe(10);
  });

  it("reports a fragmented message cut short by another", () => {
    const r = new Reassembler();
    const a = fragment({ type: 0x20, req: 1, payload: new Uint8Array(3000) });
    r.push(a[0]!);
    const evs = r.push({ type: 0x22, flags: 0, req: 2, payload: Uint8Array.of(1) });
    expect(evs.map((e) => e.kind)).toEqual(["interleaved", "message"]);
    expect(evs[0]).toMatchObject({ type: 0x20, req: 1, received: 1024 });
  });

  it("drops a message larger than maxMessage and says so once, at its end", () => {
    const r = new Reassembler({ maxMessage: 2000 });
    const fr = fragment({ type: 0x20, req: 9, payload: new Uint8Array(5000).fill(1) });
    const evs = fr.flatMap((f) => r.push(f));
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ kind: "too-large", type: 0x20, req: 9, size: 5000 });
    expect(r.pending).toBe(false);
  });
});
