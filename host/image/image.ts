// Loads build/sxs.wasm and speaks the image ABI of docs/abi.md (version 1).
//
// This module knows nothing of SLP: request text goes in as bytes, and results, log
// lines and event payloads come out as bytes (the image's canonical print), decoded as
// UTF-8 only for display.

import { readFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

/** The ABI version this host implements. */
export const ABI_VERSION = 2;

/** Limit ids for `sxs_limit` (docs/abi.md, "Limit ids"). */
export const Limit = {
  PROCESSORS: 1,
  QUEUE: 2,
  MAX_INPUT: 3,
  MAX_PAGES: 4,
  MAX_STEPS: 5,
  STEP_SLICE: 6,
  SAFE_MODE: 7,
} as const;
export type LimitId = (typeof Limit)[keyof typeof Limit];

/** Statistic ids for `sxs_stat` (docs/abi.md, "Statistic ids"). */
export const Stat = {
  HEAP_USED: 1,
  HEAP_RESERVED: 2,
  MEMORY_BYTES: 3,
  KV_ENTRIES: 4,
  SUBSCRIPTIONS: 5,
  QUEUED: 6,
  TASKS: 7,
  STEPS: 8,
  LARGEST_FREE: 9,
} as const;
export type StatId = (typeof Stat)[keyof typeof Stat];

/** Human names of the statistics, by id. */
export const STAT_NAMES: Readonly<Record<StatId, string>> = {
  1: "heap bytes in use",
  2: "heap bytes reserved",
  3: "linear memory bytes",
  4: "K/V entries",
  5: "subscriptions",
  6: "queued events and requests",
  7: "live tasks",
  8: "evaluation steps",
  9: "largest free heap block",
};

/** Channel numbers of `sxs_watch` and `host_event`: 0 = EXEC, 1..6 = A..F. */
export const Channel = { EXEC: 0, A: 1, B: 2, C: 3, D: 4, E: 5, F: 6 } as const;
export type ChannelLetter = "A" | "B" | "C" | "D" | "E" | "F";
export const CHANNEL_LETTERS: readonly ChannelLetter[] = ["A", "B", "C", "D", "E", "F"];

/** The letter of a channel number (1..6), `EXEC` for 0, `?N` otherwise. */
export function channelName(n: number): string {
  if (n === 0) return "EXEC";
  return n >= 1 && n <= 6 ? CHANNEL_LETTERS[n - 1]! : `?${n}`;
}

/**
 * Results of `sxs_submit`. `QUEUE_FULL`: try again after running (the queue is full, or memory is short while work
 * remains that will free some). `NOT_STAGED`: a bad request id, or not the staged length.
 */
export const Submit = { QUEUED: 0, QUEUE_FULL: -1, NO_PROCESSOR: -2, OUT_OF_MEMORY: -3, NOT_STAGED: -4 } as const;

// ---------------------------------------------------------------------------------------
// Bytes and text

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** UTF-8 bytes of a string (bytes pass through). */
export function toBytes(text: string | Uint8Array): Uint8Array {
  return typeof text === "string" ? encoder.encode(text) : text;
}

/** Bytes shown as text: UTF-8, invalid sequences replaced by U+FFFD. */
export function fromBytes(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

// ---------------------------------------------------------------------------------------
// Clocks

/** The clock behind `host_now`: monotonic milliseconds. */
export interface Clock {
  readonly kind: "real" | "virtual";
  now(): number;
}

/** Wall time since the clock was made, from `performance.now()`. */
export class RealClock implements Clock {
  readonly kind = "real" as const;
  private readonly origin = performance.now();
  now(): number {
    return performance.now() - this.origin;
  }
}

/** A number that only moves when the board advances it (transcripts, tests). */
export class VirtualClock implements Clock {
  readonly kind = "virtual" as const;
  private time = 0;
  constructor(start = 0) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  /** Moves the time forward to `t` (never backwards). */
  advanceTo(t: number): void {
    if (t > this.time) this.time = t;
  }
  /** Moves the time forward by `ms`. */
  advanceBy(ms: number): void {
    if (ms > 0) this.time += ms;
  }
}

// ---------------------------------------------------------------------------------------
// Locating the image

/** The package root: the nearest directory above this module holding sxs's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown };
        if (json.name === "sxs") return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new ImageError("load", "cannot find the sxs package root above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Default image path: `<package root>/build/sxs.wasm`. */
export function defaultImagePath(): string {
  return join(packageRoot(), "build", "sxs.wasm");
}

// ---------------------------------------------------------------------------------------
// Errors

export type ImageErrorCode = "load" | "abi" | "trap";

/** Loading failed, the module does not match the ABI, or the instance trapped. */
export class ImageError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ImageError";
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------
// The instance

/** What the image's imports deliver. Called synchronously from inside the image. */
export interface ImageHost {
  result(req: number, bytes: Uint8Array): void;
  log(bytes: Uint8Array): void;
  event(channel: number, topic: number, bytes: Uint8Array): void;
  now(): number;
  /** The K/V flash partition (NOR semantics); absent: the store lives in RAM only. */
  kvFlash?: KvFlash;
}

/** What the image's flash imports need: a partition of whole 4 KiB sectors. Methods throw on failure. */
export interface KvFlash {
  readonly size: number;
  read(off: number, len: number): Uint8Array;
  write(off: number, data: Uint8Array): void;
  erase(off: number, len: number): void;
}

/** The image's exports as the host calls them (docs/abi.md). */
export interface RawExports {
  memory: WebAssembly.Memory;
  sxs_abi_version(): number;
  sxs_limit(id: number, value: number): number;
  sxs_init(): number;
  sxs_input(len: number): number;
  sxs_submit(req: number, proc: number, len: number): number;
  sxs_run(budget: number): number;
  sxs_next_timer(): number;
  sxs_interrupt(req: number): number;
  sxs_watch(channel: number, topic: number, on: number): number;
  sxs_split(len: number): number;
  sxs_free(ptr: number): void;
  sxs_stat(id: number): number;
  sxs_encode(len: number): number;
  sxs_decode(len: number): number;
}

const FUNCTION_EXPORTS = [
  "sxs_abi_version",
  "sxs_limit",
  "sxs_init",
  "sxs_input",
  "sxs_submit",
  "sxs_run",
  "sxs_next_timer",
  "sxs_interrupt",
  "sxs_watch",
  "sxs_split",
  "sxs_free",
  "sxs_stat",
  "sxs_encode",
  "sxs_decode",
] as const;

/** The outcome of `sxs_split`: byte ranges of the top-level forms, or the printed parse error. */
export type SplitResult = { ranges: Array<[number, number]> } | { error: string };

const moduleCache = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles (once per path) the image at `path`. */
export function compileImage(path: string): Promise<WebAssembly.Module> {
  const key = resolve(path);
  let p = moduleCache.get(key);
  if (!p) {
    p = (async () => {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(key);
      } catch (e) {
        throw new ImageError("load", `cannot read the image ${key}: ${(e as Error).message}` +
          ((e as NodeJS.ErrnoException).code === "ENOENT" ? " (build it with `npm run build:image`)" : ""), { cause: e });
      }
      try {
        return await WebAssembly.compile(new Uint8Array(bytes));
      } catch (e) {
        throw new ImageError("load", `${key} is not a valid Wasm module: ${(e as Error).message}`, { cause: e });
      }
    })();
    moduleCache.set(key, p);
    p.catch(() => moduleCache.delete(key));
  }
  return p;
}

/**
 * One instance of the image with typed wrappers for every export. The wrappers are thin:
 * a trap (WebAssembly.RuntimeError, or an exception from an import) is rethrown as an
 * ImageError with code "trap", after which the instance must not be used again.
 */
export class SxsImage {
  private readonly x: RawExports;
  private trapped: ImageError | null = null;

  private constructor(instance: WebAssembly.Instance) {
    const ex = instance.exports as Record<string, unknown>;
    if (!(ex.memory instanceof WebAssembly.Memory)) throw new ImageError("abi", "the image exports no memory");
    for (const name of FUNCTION_EXPORTS) {
      if (typeof ex[name] !== "function") throw new ImageError("abi", `the image does not export ${name}`);
    }
    this.x = ex as unknown as RawExports;
  }

  /** Loads, instantiates and checks the image. `path` defaults to the package's build/sxs.wasm. */
  static async load(host: ImageHost, opts: { path?: string; module?: WebAssembly.Module } = {}): Promise<SxsImage> {
    const module = opts.module ?? (await compileImage(opts.path ?? defaultImagePath()));
    let image: SxsImage | undefined;
    const mem = (): Uint8Array => {
      if (!image) throw new ImageError("abi", "the image called an import while starting");
      return image.memory();
    };
    const copy = (ptr: number, len: number): Uint8Array => {
      const m = mem();
      const p = ptr >>> 0;
      const n = len >>> 0;
      if (p + n > m.length) throw new ImageError("trap", `the image passed a byte range out of memory (ptr ${p}, len ${n}, memory ${m.length})`);
      return m.slice(p, p + n);
    };
    // a view into linear memory, valid during the import call only (the flash copies it)
    const view = (ptr: number, len: number): Uint8Array => {
      const m = mem();
      const p = ptr >>> 0;
      const n = len >>> 0;
      if (p + n > m.length) throw new ImageError("trap", `the image passed a byte range out of memory (ptr ${p}, len ${n})`);
      return m.subarray(p, p + n);
    };
    const flashCall = (f: () => void): number => {
      if (!host.kvFlash) return -1;
      try {
        f();
        return 0;
      } catch {
        return -1;
      }
    };
    const imports = {
      env: {
        host_result: (req: number, ptr: number, len: number): void => host.result(req, copy(ptr, len)),
        host_log: (ptr: number, len: number): void => host.log(copy(ptr, len)),
        host_event: (channel: number, topic: number, ptr: number, len: number): void =>
          host.event(channel, topic, copy(ptr, len)),
        host_now: (): number => host.now(),
        // flash failures are answers (non-zero), not traps: the image turns them into errors
        host_flash_size: (): number => host.kvFlash?.size ?? 0,
        host_flash_read: (off: number, ptr: number, len: number): number =>
          flashCall(() => {
            const data = host.kvFlash!.read(off >>> 0, len >>> 0);
            mem().set(data, ptr >>> 0);
          }),
        host_flash_write: (off: number, ptr: number, len: number): number =>
          flashCall(() => host.kvFlash!.write(off >>> 0, view(ptr, len))),
        host_flash_erase: (off: number, len: number): number => flashCall(() => host.kvFlash!.erase(off >>> 0, len >>> 0)),
      },
    };
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, imports);
    } catch (e) {
      throw new ImageError("abi", `cannot instantiate the image: ${(e as Error).message}`, { cause: e });
    }
    image = new SxsImage(instance);
    const v = image.abiVersion();
    if (v !== ABI_VERSION) throw new ImageError("abi", `the image speaks ABI version ${v}; this host speaks ${ABI_VERSION}`);
    return image;
  }

  /** The trap that ended this instance, if any. */
  get trap(): ImageError | null {
    return this.trapped;
  }

  private call<T>(name: string, f: () => T): T {
    if (this.trapped) throw this.trapped;
    try {
      return f();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.trapped =
        e instanceof ImageError && e.code === "trap"
          ? e
          : new ImageError("trap", `the image trapped in ${name}: ${msg}`, { cause: e });
      throw this.trapped;
    }
  }

  /** The linear memory as bytes (a fresh view: memory may have grown). */
  memory(): Uint8Array {
    // one view per buffer: memory.grow detaches the old buffer (its views read as
    // empty), and only then is a new view made; checking the view's length avoids the
    // Memory.buffer getter on every import call, a measurable cost in the hot path
    if (this.view !== null && this.view.byteLength !== 0) return this.view;
    this.view = new Uint8Array(this.x.memory.buffer);
    return this.view;
  }
  private view: Uint8Array | null = null;

  abiVersion(): number {
    return this.call("sxs_abi_version", () => this.x.sxs_abi_version());
  }
  /** `0` ok, `-1` unknown id or value out of range, `-2` already initialised. */
  limit(id: LimitId, value: number): number {
    return this.call("sxs_limit", () => this.x.sxs_limit(id, value | 0));
  }
  /** `0` ok, `-1` out of memory. */
  init(): number {
    return this.call("sxs_init", () => this.x.sxs_init());
  }
  /** A staging buffer for `len` bytes, or 0. */
  input(len: number): number {
    return this.call("sxs_input", () => this.x.sxs_input(len | 0) >>> 0);
  }
  /** See `Submit` for the results. */
  submit(req: number, proc: number, len: number): number {
    return this.call("sxs_submit", () => this.x.sxs_submit(req | 0, proc | 0, len | 0));
  }
  /** `1` runnable work remains, `0` idle. */
  run(budget: number): number {
    return this.call("sxs_run", () => this.x.sxs_run(budget | 0));
  }
  /** The `host_now()` time of the earliest timer, or -1. */
  nextTimer(): number {
    return this.call("sxs_next_timer", () => this.x.sxs_next_timer());
  }
  /** `1` found, `0` not found. */
  interrupt(req: number): number {
    return this.call("sxs_interrupt", () => this.x.sxs_interrupt(req | 0));
  }
  /** `0` ok, `-1` bad argument, `-2` watch table full. */
  watch(channel: number, topic: number, on: boolean): number {
    return this.call("sxs_watch", () => this.x.sxs_watch(channel | 0, topic | 0, on ? 1 : 0));
  }
  stat(id: StatId): number {
    return this.call("sxs_stat", () => this.x.sxs_stat(id));
  }

  /**
   * Stages `bytes` with `sxs_input` and returns the length to pass on. When the image
   * refuses the buffer (too long, or memory short) nothing is copied: the following
   * `sxs_submit`/`sxs_split` answers with the error.
   */
  stage(bytes: Uint8Array): number {
    const ptr = this.input(bytes.length);
    if (ptr !== 0 && bytes.length > 0) {
      const m = this.memory();
      if (ptr + bytes.length > m.length) {
        this.trapped = new ImageError("trap", `sxs_input returned a buffer out of memory (ptr ${ptr}, len ${bytes.length})`);
        throw this.trapped;
      }
      m.set(bytes, ptr);
    }
    return bytes.length;
  }

  /** Stages `bytes` and submits them as request `req` for processor `proc`. */
  submitBytes(req: number, proc: number, bytes: Uint8Array): number {
    const len = this.stage(bytes);
    return this.submit(req, proc, len);
  }

  /**
   * Cuts `bytes` into top-level forms with `sxs_split` (or gets the parse error); `null`
   * when the image is out of memory (sxs_split returned 0).
   */
  split(bytes: Uint8Array): SplitResult | null {
    const len = this.stage(bytes);
    const block = this.call("sxs_split", () => this.x.sxs_split(len) >>> 0);
    if (block === 0) return null;
    try {
      const m = this.memory();
      const dv = new DataView(m.buffer);
      if (block + 4 > m.length) throw this.fail("sxs_split returned a block out of memory");
      const n = dv.getInt32(block, true);
      if (n < 0) {
        if (block + 8 > m.length) throw this.fail("sxs_split returned a block out of memory");
        const elen = dv.getUint32(block + 4, true);
        if (block + 8 + elen > m.length) throw this.fail("sxs_split returned an error text out of memory");
        return { error: fromBytes(m.slice(block + 8, block + 8 + elen)) };
      }
      if (block + 4 + 8 * n > m.length) throw this.fail("sxs_split returned a block out of memory");
      const ranges: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) {
        const start = dv.getUint32(block + 4 + 8 * i, true);
        const end = dv.getUint32(block + 8 + 8 * i, true);
        if (start > end || end > bytes.length) throw this.fail(`sxs_split returned a bad range ${start}..${end} for ${bytes.length} bytes`);
        ranges.push([start, end]);
      }
      return { ranges };
    } finally {
      if (!this.trapped) this.call("sxs_free", () => this.x.sxs_free(block));
    }
  }

  /**
   * The SLP buffer the image builds from `text` (sxs_encode), or its parse error; `null`
   * when the image is out of memory.
   */
  encode(text: Uint8Array): { bytes: Uint8Array } | { error: string } | null {
    const len = this.stage(text);
    return this.takeBlock("sxs_encode", this.call("sxs_encode", () => this.x.sxs_encode(len) >>> 0), (b) => ({ bytes: b }));
  }

  /** The canonical print of an SLP buffer (sxs_decode), or `invalid buffer`; `null` when out of memory. */
  decode(buffer: Uint8Array): { text: string } | { error: string } | null {
    const len = this.stage(buffer);
    return this.takeBlock("sxs_decode", this.call("sxs_decode", () => this.x.sxs_decode(len) >>> 0), (b) => ({ text: fromBytes(b) }));
  }

  /** Reads and frees a `i32 status, u32 len, bytes` block (docs/abi.md). */
  private takeBlock<T>(name: string, block: number, ok: (bytes: Uint8Array) => T): T | { error: string } | null {
    if (block === 0) return null;
    try {
      const m = this.memory();
      if (block + 8 > m.length) throw this.fail(`${name} returned a block out of memory`);
      const dv = new DataView(m.buffer);
      const status = dv.getInt32(block, true);
      const n = dv.getUint32(block + 4, true);
      if (block + 8 + n > m.length) throw this.fail(`${name} returned bytes out of memory`);
      const bytes = m.slice(block + 8, block + 8 + n);
      return status < 0 ? { error: fromBytes(bytes) } : ok(bytes);
    } finally {
      if (!this.trapped) this.call("sxs_free", () => this.x.sxs_free(block));
    }
  }

  private fail(message: string): ImageError {
    this.trapped = new ImageError("trap", message);
    return this.trapped;
  }
}
