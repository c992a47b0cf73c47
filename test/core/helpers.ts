// Shared helpers for the core suites (test/core/*.test.ts): boards with byte-exact
// results, a raw wrapper over the image's exports (sxs_encode/sxs_decode/sxs_split need
// the bytes, not a UTF-8 decoding of them), a seeded PRNG, and a model of SPEC.md
// section 3's canonical form.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { VirtualBoard, type VirtualBoardOptions } from "../../host/board/virtual-board.js";
import { compileImage, type RawExports } from "../../host/image/image.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The image under test: build/sxs.wasm, or the file named by SXS_IMAGE. */
export const IMAGE = process.env.SXS_IMAGE ? resolve(process.env.SXS_IMAGE) : join(ROOT, "build", "sxs.wasm");

/** Test files that need the real image fail with this message when it is missing. */
export function requireImage(): void {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: build it with \`npm run build:image\``);
}

// ---------------------------------------------------------------------------------------
// Bytes

/** The bytes of a string whose characters are all 0..255 (latin1): exact byte control. */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error(`bytes(): character ${c} at ${i} is not a byte`);
    out[i] = c;
  }
  return out;
}

/** Bytes as a latin1 string (one character per byte): readable, exact comparisons. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

// ---------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

export interface Rng {
  (): number; // [0, 1)
  int(n: number): number; // 0..n-1
  pick<T>(a: readonly T[]): T;
  chance(p: number): boolean;
  u32(): number;
}

export function prng(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = next as Rng;
  r.int = (n) => Math.floor(next() * n);
  r.pick = (a) => a[Math.floor(next() * a.length)]!;
  r.chance = (p) => next() < p;
  r.u32 = () => Math.floor(next() * 4294967296) >>> 0;
  return r;
}

// ---------------------------------------------------------------------------------------
// Boards

const boards: VirtualBoard[] = [];
const resultBytes = new WeakMap<VirtualBoard, Map<number, Uint8Array>>();

/** A board on the virtual clock (unless told otherwise), closed by closeBoards(). */
export async function newBoard(opts: VirtualBoardOptions = {}): Promise<VirtualBoard> {
  const b = await VirtualBoard.create({ clock: "virtual", imagePath: IMAGE, ...opts });
  const m = new Map<number, Uint8Array>();
  resultBytes.set(b, m);
  b.on("result", (req, _text, raw) => m.set(req, raw));
  boards.push(b);
  return b;
}

export function closeBoards(): void {
  for (const b of boards.splice(0)) b.close();
}

/** Runs a request and gives the exact bytes of its printed result. */
export async function execBytes(b: VirtualBoard, text: string | Uint8Array, opts: { processor?: number } = {}): Promise<Uint8Array> {
  const s = b.submit(text, opts);
  await s.result;
  const m = resultBytes.get(b)!;
  const r = m.get(s.req)!;
  m.delete(s.req);
  return r;
}

/** Runs a request and gives its printed result as latin1 (byte-exact). */
export async function execL(b: VirtualBoard, text: string | Uint8Array, opts: { processor?: number } = {}): Promise<string> {
  return latin1(await execBytes(b, text, opts));
}

export interface Recording {
  /** Everything in delivery order: `=> RESULT`, `log: TEXT`, `event CH/TOPIC: PAYLOAD`. */
  seen: string[];
  /** Just the log lines. */
  logs: string[];
  /** Log lines as exact bytes. */
  logBytes: Uint8Array[];
  clear(): void;
}

/** Records what a board delivers, in order. */
export function record(b: VirtualBoard): Recording {
  const r: Recording = {
    seen: [],
    logs: [],
    logBytes: [],
    clear() {
      r.seen.length = 0;
      r.logs.length = 0;
      r.logBytes.length = 0;
    },
  };
  b.on("result", (_req, text) => r.seen.push(`=> ${text}`));
  b.on("log", (text, raw) => {
    r.seen.push(`log: ${text}`);
    r.logs.push(text);
    r.logBytes.push(raw);
  });
  b.on("event", (ch, topic, payload) => r.seen.push(`event ${ch}/${topic}: ${payload}`));
  return r;
}

// ---------------------------------------------------------------------------------------
// The raw image: exports called directly, outputs kept as bytes

export type BlockResult = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

export class RawImage {
  readonly x: RawExports;
  now = 0;
  readonly results: Array<[number, Uint8Array]> = [];
  readonly logs: Uint8Array[] = [];
  readonly events: Array<[number, number, Uint8Array]> = [];

  private constructor(x: RawExports) {
    this.x = x;
  }

  /** Instantiates the image, applies `limits` (sxs_limit id -> value) and initialises it. */
  static async create(limits: Record<number, number> = {}): Promise<RawImage> {
    const module = await compileImage(IMAGE);
    let img: RawImage | null = null;
    const copy = (p: number, n: number) => new Uint8Array(img!.x.memory.buffer).slice(p >>> 0, (p >>> 0) + (n >>> 0));
    const env: Record<string, (...a: number[]) => number | void> = {
      host_result: (req: number, p: number, n: number) => void img!.results.push([req, copy(p, n)]),
      host_log: (p: number, n: number) => void img!.logs.push(copy(p, n)),
      host_event: (ch: number, topic: number, p: number, n: number) => void img!.events.push([ch, topic, copy(p, n)]),
      host_now: () => img!.now,
      // no flash partition: the store lives in RAM (docs/abi.md, host_flash_size 0)
      host_flash_size: () => 0,
    };
    // any other import this wrapper does not know answers "failed"
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module === "env" && imp.kind === "function" && !(imp.name in env)) env[imp.name] = () => -1;
    }
    const instance = await WebAssembly.instantiate(module, { env });
    img = new RawImage(instance.exports as unknown as RawExports);
    for (const [id, v] of Object.entries(limits)) {
      if (img.x.sxs_limit(Number(id), v) !== 0) throw new Error(`sxs_limit(${id}, ${v}) refused`);
    }
    if (img.x.sxs_init() !== 0) throw new Error("sxs_init failed");
    return img;
  }

  mem(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer);
  }

  /** sxs_input + copy; returns the length to pass on (nothing copied when refused). */
  stage(b: Uint8Array): number {
    const p = this.x.sxs_input(b.length) >>> 0;
    if (p !== 0 && b.length > 0) this.mem().set(b, p);
    return b.length;
  }

  /** Reads and frees an `i32 status, u32 len, bytes` block; null for a 0 pointer. */
  private block(ptr: number): BlockResult | null {
    ptr >>>= 0;
    if (ptr === 0) return null;
    const dv = new DataView(this.x.memory.buffer);
    const status = dv.getInt32(ptr, true);
    const n = dv.getUint32(ptr + 4, true);
    const out = this.mem().slice(ptr + 8, ptr + 8 + n);
    this.x.sxs_free(ptr);
    return status < 0 ? { ok: false, error: latin1(out) } : { ok: true, bytes: out };
  }

  encode(text: Uint8Array | string): BlockResult {
    const b = typeof text === "string" ? bytes(text) : text;
    const r = this.block(this.x.sxs_encode(this.stage(b)));
    if (!r) throw new Error("sxs_encode returned 0");
    return r;
  }

  decode(buf: Uint8Array): BlockResult {
    const r = this.block(this.x.sxs_decode(this.stage(buf)));
    if (!r) throw new Error("sxs_decode returned 0");
    return r;
  }

  /** sxs_split: byte ranges of the top-level forms, or the printed parse error. */
  split(text: Uint8Array | string): { ranges: Array<[number, number]> } | { error: string } {
    const b = typeof text === "string" ? bytes(text) : text;
    const ptr = this.x.sxs_split(this.stage(b)) >>> 0;
    if (ptr === 0) throw new Error("sxs_split returned 0");
    const dv = new DataView(this.x.memory.buffer);
    const n = dv.getInt32(ptr, true);
    try {
      if (n < 0) {
        const len = dv.getUint32(ptr + 4, true);
        return { error: latin1(this.mem().slice(ptr + 8, ptr + 8 + len)) };
      }
      const ranges: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) ranges.push([dv.getUint32(ptr + 4 + 8 * i, true), dv.getUint32(ptr + 8 + 8 * i, true)]);
      return { ranges };
    } finally {
      this.x.sxs_free(ptr);
    }
  }

  /** The canonical print of what `text` parses to: `{FORM FORM ...}` (latin1), or the parse error. */
  canon(text: Uint8Array | string): string {
    const e = this.encode(text);
    if (!e.ok) return e.error;
    const d = this.decode(e.bytes);
    if (!d.ok) throw new Error(`sxs_decode refused what sxs_encode built for ${JSON.stringify(latin1(typeof text === "string" ? bytes(text) : text))}`);
    return latin1(d.bytes);
  }

  stat(id: number): number {
    return this.x.sxs_stat(id);
  }
}

// ---------------------------------------------------------------------------------------
// A model of the canonical form (SPEC.md section 3)

/** A real as SPEC.md section 3 prints it: ECMAScript's String(x), `.0` added, `-0.0`. */
export function canonReal(x: number): string {
  if (Object.is(x, -0)) return "-0.0";
  const s = String(x);
  return /[.e]/.test(s) ? s : s + ".0";
}

/** A byte string as SPEC.md section 3 prints it (latin1 in, latin1 out). */
export function canonString(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += "\\\\";
    else if (c === 0x0a) s += "\\n";
    else if (c === 0x09) s += "\\t";
    else if (c === 0x0d) s += "\\r";
    else if (c < 0x20 || c === 0x7f) s += "\\x" + c.toString(16).padStart(2, "0");
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

/** The number grammar of SPEC.md section 1 (a token matching it is not a symbol). */
export const NUMBER_RE = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
