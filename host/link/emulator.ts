// A serial line in-process: two Duplex streams joined by two one-way wires that pace
// bytes at a baud rate, add latency, and flip or drop bytes at chosen rates with a
// seeded generator. For tests and the bench (docs/link.md section 13).

import { Duplex } from "node:stream";
import { Prng } from "./prng.js";

export interface WireOptions {
  /** Line rate in baud; 10 bits per byte (8N1). Default 921600. Infinity: no pacing. */
  baud?: number;
  /** One-way latency added to every byte, in ms (a USB-serial adapter: about 16). Default 0. */
  latencyMs?: number;
  /** Probability that a byte gets one bit flipped. Default 0. */
  flipRate?: number;
  /** Probability that a byte is lost. Default 0. */
  dropRate?: number;
  /** Bytes handed over together at most (like USB packets). Default 64. */
  sliceBytes?: number;
  /** Seed of the noise. Default 1. */
  seed?: number;
}

export interface WireStats {
  bytesIn: number; // written into the wire
  bytesOut: number; // delivered at the far end
  flipped: number;
  dropped: number;
}

/** Where a wire gets its time and timers: real ones by default, a virtual clock in tests. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * A virtual clock for deterministic tests: time moves only in `run`/`advance`, and
 * timers fire in due order (equal times in the order they were set).
 */
export class VirtualTimers implements Timers {
  private t = 0;
  private seq = 0;
  private q: { at: number; seq: number; fn: () => void; id: number }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.q.push({ at: this.t + Math.max(0, ms), seq: id, fn, id });
    this.q.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return id;
  }
  clearTimeout(h: unknown): void {
    this.q = this.q.filter((e) => e.id !== h);
  }
  /** Fire timers in order until none is due at or before `until`; then set the time to `until`. */
  advance(until: number): void {
    while (this.q.length > 0 && this.q[0]!.at <= until) {
      const e = this.q.shift()!;
      this.t = Math.max(this.t, e.at);
      e.fn();
    }
    this.t = Math.max(this.t, until);
  }
  /** Fire timers until there are none or `limit` ms of virtual time have passed. */
  run(limit = Infinity): void {
    const end = this.t + limit;
    while (this.q.length > 0 && this.q[0]!.at <= end) {
      const e = this.q.shift()!;
      this.t = Math.max(this.t, e.at);
      e.fn();
    }
    if (Number.isFinite(end)) this.t = Math.max(this.t, end);
  }
  get pending(): number {
    return this.q.length;
  }
}

interface Slice {
  due: number;
  bytes: Uint8Array;
}

/** One direction of the line. */
export class Wire {
  readonly bytesPerMs: number;
  readonly latencyMs: number;
  private readonly flipRate: number;
  private readonly dropRate: number;
  private readonly sliceBytes: number;
  private readonly rng: Prng;
  private lineFreeAt = 0;
  private queue: Slice[] = [];
  private timer: unknown;
  private closed = false;
  readonly stats: WireStats = { bytesIn: 0, bytesOut: 0, flipped: 0, dropped: 0 };

  private readonly now: () => number;

  constructor(
    opts: WireOptions,
    private readonly deliver: (b: Uint8Array) => void,
    private readonly timers: Timers = realTimers,
  ) {
    this.now = () => timers.now();
    const baud = opts.baud ?? 921600;
    this.bytesPerMs = baud / 10 / 1000;
    this.latencyMs = opts.latencyMs ?? 0;
    this.flipRate = opts.flipRate ?? 0;
    this.dropRate = opts.dropRate ?? 0;
    this.sliceBytes = opts.sliceBytes ?? 64;
    this.rng = new Prng(opts.seed ?? 1);
  }

  /** Milliseconds the line needs for n bytes. */
  wireTime(n: number): number {
    return n / this.bytesPerMs;
  }

  write(data: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesIn += data.length;
    const t0 = Math.max(this.now(), this.lineFreeAt);
    for (let off = 0; off < data.length; off += this.sliceBytes) {
      const end = Math.min(off + this.sliceBytes, data.length);
      const due = t0 + this.wireTime(end) + this.latencyMs;
      this.queue.push({ due, bytes: this.noise(data.subarray(off, end)) });
    }
    this.lineFreeAt = t0 + this.wireTime(data.length);
    this.arm();
  }

  private noise(b: Uint8Array): Uint8Array {
    if (this.flipRate === 0 && this.dropRate === 0) return b.slice();
    const out: number[] = [];
    for (const v of b) {
      if (this.dropRate > 0 && this.rng.next() < this.dropRate) {
        this.stats.dropped++;
        continue;
      }
      if (this.flipRate > 0 && this.rng.next() < this.flipRate) {
        this.stats.flipped++;
        out.push(v ^ (1 << this.rng.int(8)));
      } else out.push(v);
    }
    return Uint8Array.from(out);
  }

  private arm(): void {
    if (this.timer !== undefined || this.queue.length === 0 || this.closed) return;
    const wait = Math.max(0, this.queue[0]!.due - this.now());
    this.timer = this.timers.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    const t = this.now();
    const parts: Uint8Array[] = [];
    while (this.queue.length > 0 && this.queue[0]!.due <= t + 0.5) parts.push(this.queue.shift()!.bytes);
    let n = 0;
    for (const p of parts) n += p.length;
    if (n > 0) {
      const b = new Uint8Array(n);
      let o = 0;
      for (const p of parts) {
        b.set(p, o);
        o += p.length;
      }
      this.stats.bytesOut += n;
      this.deliver(b);
    }
    this.arm();
  }

  /** Bytes written but not delivered yet. */
  get backlog(): number {
    let n = 0;
    for (const s of this.queue) n += s.bytes.length;
    return n;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

/** One end of the emulated line: what you write goes to the other end. */
export class EmulatedPort extends Duplex {
  out!: Wire;
  constructor() {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.out.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    cb();
  }
  override _read(): void {}
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.out.close();
    cb(err);
  }
}

export interface LinkPair {
  /** The host's end. */
  a: EmulatedPort;
  /** The board's end. */
  b: EmulatedPort;
  /** a -> b */
  ab: Wire;
  /** b -> a */
  ba: Wire;
  close(): void;
}

/**
 * A serial line between two in-process ends. `aToB` and `bToA` override the common
 * options per direction (a different seed, say, or noise one way only).
 */
export function createLinkPair(opts: WireOptions & { aToB?: WireOptions; bToA?: WireOptions; timers?: Timers } = {}): LinkPair {
  const a = new EmulatedPort();
  const b = new EmulatedPort();
  const ab = new Wire({ ...opts, ...opts.aToB }, (d) => b.push(Buffer.from(d)), opts.timers);
  const ba = new Wire({ ...opts, seed: (opts.seed ?? 1) + 1, ...opts.bToA }, (d) => a.push(Buffer.from(d)), opts.timers);
  a.out = ab;
  b.out = ba;
  return {
    a,
    b,
    ab,
    ba,
    close() {
      ab.close();
      ba.close();
      a.destroy();
      b.destroy();
    },
  };
}
