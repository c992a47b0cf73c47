// The virtual board: the exact image the board runs, hosted in this Node process.
//
// Requests go in with exec(); a run loop calls sxs_run in slices, yielding to the Node
// event loop between slices, and waits for (real clock) or jumps to (virtual clock) the
// image's next timer when it is idle. Results, log lines and watched events are copied out
// of the image as they happen and delivered after each slice, in the order they happened.

import { FlashPartition, NorFlash, PARTITIONS } from "./flash.js";
import {
  ImageError,
  Limit,
  RealClock,
  Stat,
  Submit,
  SxsImage,
  VirtualClock,
  channelName,
  fromBytes,
  toBytes,
  type Clock,
  type ImageHost,
  type LimitId,
  type StatId,
} from "../image/image.js";

export type BoardErrorCode =
  | "queue-full" // (not thrown: a full queue is retried)
  | "no-processor" // sxs_submit -2
  | "out-of-memory" // sxs_submit -3, sxs_init -1
  | "limit" // sxs_limit refused a value
  | "watch" // sxs_watch refused
  | "trap" // the image trapped or broke the ABI
  | "load" // the image could not be loaded
  | "closed"; // the board was closed

/** A failure of the board itself (never an SLP error value: those are results). */
export class BoardError extends Error {
  readonly code: BoardErrorCode;
  constructor(code: BoardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BoardError";
    this.code = code;
  }
}

export interface VirtualBoardOptions {
  /** Processors (LIMIT_PROCESSORS, 1..8). */
  processors?: number;
  /** Event queue capacity (LIMIT_QUEUE). */
  queue?: number;
  /** Longest request text in bytes (LIMIT_MAX_INPUT). */
  maxInput?: number;
  /** Linear memory ceiling in 64 KiB pages (LIMIT_MAX_PAGES). */
  maxPages?: number;
  /** Steps per task (LIMIT_MAX_STEPS). */
  maxSteps?: number;
  /** Steps before a task yields (LIMIT_STEP_SLICE). */
  stepSlice?: number;
  /** `real` (default): performance.now(); `virtual`: time jumps to the next timer when idle. */
  clock?: "real" | "virtual";
  /** The image; default `<package root>/build/sxs.wasm`. */
  imagePath?: string;
  /** The image as an already compiled module (an image slot); takes precedence over imagePath. */
  module?: WebAssembly.Module;
  /** Steps per sxs_run call between yields to the event loop (default 20000). */
  runBudget?: number;
  /**
   * The flash holding the K/V log: a file path (kept across runs), a NorFlash, or
   * `false` for none. Default: a blank flash in memory (the store starts empty).
   */
  flash?: string | NorFlash | false;
  /** Safe mode: do not run the `boot` key at init (LIMIT_SAFE_MODE). */
  safeMode?: boolean;
  /**
   * Asked before each slice: while it answers false the image is not run, because
   * whoever takes its output cannot take more (the link's send buffer, say). Output
   * stays bounded that way, as on a board where a full UART blocks the writer. Call
   * `resume()` when it may answer true again.
   */
  canRun?: () => boolean;
}

export interface BoardEvents {
  /** One log line (no newline): `core/util/log` output and handler errors. */
  log: (text: string, bytes: Uint8Array) => void;
  /** A watched event on channel `A`..`F`; the payload is its canonical print. */
  event: (channel: string, topic: number, payload: string, bytes: Uint8Array) => void;
  /** A request finished with this canonical print. */
  result: (req: number, text: string, bytes: Uint8Array) => void;
  /** The image trapped or broke the ABI; the board is dead. */
  trap: (error: BoardError) => void;
  /** sxs_run answered idle (nothing runnable, no request waiting for queue room; timers may be pending). */
  idle: () => void;
}

type Delivery =
  | { kind: "result"; req: number; bytes: Uint8Array }
  | { kind: "log"; bytes: Uint8Array }
  | { kind: "event"; channel: number; topic: number; bytes: Uint8Array };

interface Outstanding {
  req: number;
  processor: number;
  bytes: Uint8Array;
  submitted: boolean;
  interruptPending: boolean;
  resolve: (text: string) => void;
  reject: (err: Error) => void;
  result: Promise<string>;
}

/** A submitted request: its id and its printed result. */
export interface Submission {
  readonly req: number;
  readonly result: Promise<string>;
}

const MAX_REQ = 0x7fffffff;

export class VirtualBoard {
  readonly clock: Clock;
  readonly processors: number;
  private image!: SxsImage;
  private readonly runBudget: number;
  private readonly listeners: { [K in keyof BoardEvents]: Array<BoardEvents[K]> } = {
    log: [],
    event: [],
    result: [],
    trap: [],
    idle: [],
  };
  private deliveries: Delivery[] = [];
  /** Outstanding requests in submission order (Map keeps insertion order). */
  private readonly outstanding = new Map<number, Outstanding>();
  /** Requests the image refused with "queue full", oldest first. */
  private backlog: Outstanding[] = [];
  private nextReq = 1;
  private looping = false;
  /** Counts kick() calls, so that work submitted from a listener during a slice is not left behind. */
  private kicks = 0;
  private wake: (() => void) | null = null;
  private drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void; live?: number }> = [];
  private dead: BoardError | null = null;
  private closed = false;
  /** How many times sxs_submit answered "queue full" (for tests and stats). */
  queueFullRetries = 0;

  private flash: NorFlash | null = null;
  private ownsFlash = false;
  private canRun: (() => boolean) | null = null;

  private constructor(clock: Clock, processors: number, runBudget: number) {
    this.clock = clock;
    this.processors = processors;
    this.runBudget = runBudget;
  }

  /** Loads the image, applies the limits and initialises a fresh board. */
  static async create(opts: VirtualBoardOptions = {}): Promise<VirtualBoard> {
    const clock: Clock = opts.clock === "virtual" ? new VirtualClock() : new RealClock();
    const board = new VirtualBoard(clock, opts.processors ?? 1, opts.runBudget ?? 20000);
    board.canRun = opts.canRun ?? null;
    const flash =
      opts.flash === false ? null : opts.flash instanceof NorFlash ? opts.flash : opts.flash !== undefined ? NorFlash.file(opts.flash) : NorFlash.memory();
    board.flash = flash;
    board.ownsFlash = flash !== null && !(opts.flash instanceof NorFlash);
    const host: ImageHost = {
      result: (req, bytes) => board.deliveries.push({ kind: "result", req, bytes }),
      log: (bytes) => board.deliveries.push({ kind: "log", bytes }),
      event: (channel, topic, bytes) => board.deliveries.push({ kind: "event", channel, topic, bytes }),
      now: () => clock.now(),
      ...(flash ? { kvFlash: new FlashPartition(flash, PARTITIONS.kv) } : {}),
    };
    try {
      board.image = await SxsImage.load(host, opts.module ? { module: opts.module } : opts.imagePath !== undefined ? { path: opts.imagePath } : {});
    } catch (e) {
      throw toBoardError(e, "load");
    }
    const limits: Array<[LimitId, string, number | undefined]> = [
      [Limit.PROCESSORS, "processors", opts.processors],
      [Limit.QUEUE, "queue", opts.queue],
      [Limit.MAX_INPUT, "maxInput", opts.maxInput],
      [Limit.MAX_PAGES, "maxPages", opts.maxPages],
      [Limit.MAX_STEPS, "maxSteps", opts.maxSteps],
      [Limit.STEP_SLICE, "stepSlice", opts.stepSlice],
      [Limit.SAFE_MODE, "safeMode", opts.safeMode === undefined ? undefined : opts.safeMode ? 1 : 0],
    ];
    try {
      for (const [id, name, value] of limits) {
        if (value === undefined) continue;
        if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff || board.image.limit(id, value) !== 0) {
          throw new BoardError("limit", `the image refused ${name} = ${value}`);
        }
      }
      const init = board.image.init();
      if (init === -2) throw new BoardError("out-of-memory", "sxs_init: the K/V log could not be loaded (flash read failed, or the store does not fit in memory)");
      if (init !== 0) throw new BoardError("out-of-memory", "sxs_init: out of memory");
    } catch (e) {
      throw toBoardError(e, "trap");
    }
    return board;
  }

  // ---- events ------------------------------------------------------------------------

  on<K extends keyof BoardEvents>(name: K, listener: BoardEvents[K]): this {
    this.listeners[name].push(listener);
    return this;
  }

  off<K extends keyof BoardEvents>(name: K, listener: BoardEvents[K]): this {
    const list = this.listeners[name] as Array<BoardEvents[K]>;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  private emit<K extends keyof BoardEvents>(name: K, ...args: Parameters<BoardEvents[K]>): void {
    for (const l of [...this.listeners[name]]) {
      try {
        (l as (...a: Parameters<BoardEvents[K]>) => void)(...args);
      } catch (e) {
        // A throwing listener must not wedge the run loop: report it like EventEmitter would.
        process.nextTick(() => {
          throw e;
        });
      }
    }
  }

  // ---- requests ----------------------------------------------------------------------

  /** Submits a request and returns its id and its printed result. */
  submit(text: string | Uint8Array, opts: { processor?: number } = {}): Submission {
    const processor = opts.processor ?? 0;
    const bytes = toBytes(text);
    let resolve!: (t: string) => void;
    let reject!: (e: Error) => void;
    const result = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (this.dead || this.closed) {
      reject(this.dead ?? new BoardError("closed", "the board is closed"));
      return { req: 0, result };
    }
    const req = this.allocReq();
    const o: Outstanding = { req, processor, bytes, submitted: false, interruptPending: false, resolve, reject, result };
    this.outstanding.set(req, o);
    if (this.backlog.length > 0) this.backlog.push(o);
    else if (!this.trySubmit(o)) this.backlog.push(o);
    this.kick();
    return { req, result };
  }

  /** Runs `text` as a request (on processor 0 unless told) and resolves with its printed result. */
  exec(text: string | Uint8Array, opts: { processor?: number } = {}): Promise<string> {
    return this.submit(text, opts).result;
  }

  /** Requests waiting for room in the image's queue (sxs_submit said "queue full"). */
  get backlogged(): number {
    return this.backlog.length;
  }

  /** Ids of the requests not yet answered, oldest first. */
  pending(): number[] {
    return [...this.outstanding.keys()];
  }

  private allocReq(): number {
    for (;;) {
      const r = this.nextReq;
      this.nextReq = r >= MAX_REQ ? 1 : r + 1;
      if (!this.outstanding.has(r)) return r;
    }
  }

  /** Hands `o` to the image; false when the queue is full (retry later). */
  private trySubmit(o: Outstanding): boolean {
    let status: number;
    try {
      status = this.image.submitBytes(o.req, o.processor, o.bytes);
    } catch (e) {
      this.die(e);
      return true;
    }
    switch (status) {
      case Submit.QUEUED:
        o.submitted = true;
        if (o.interruptPending) this.sendInterrupt(o.req);
        return true;
      case Submit.QUEUE_FULL:
        this.queueFullRetries++;
        return false;
      case Submit.NO_PROCESSOR:
        this.settleReject(o, new BoardError("no-processor", `no processor ${o.processor} (the board has ${this.processors})`));
        return true;
      case Submit.OUT_OF_MEMORY:
        this.settleReject(o, new BoardError("out-of-memory", "sxs_submit: out of memory"));
        return true;
      case Submit.NOT_STAGED:
        // request ids are always valid here and the text was just staged: a broken image
        this.die(new ImageError("trap", `sxs_submit refused request ${o.req} as not staged`));
        return true;
      default:
        this.die(new ImageError("trap", `sxs_submit returned ${status}, which the ABI does not define`));
        return true;
    }
  }

  private flushBacklog(): void {
    while (this.backlog.length > 0 && !this.dead) {
      const o = this.backlog[0]!;
      if (!this.outstanding.has(o.req)) {
        this.backlog.shift();
        continue;
      }
      if (!this.trySubmit(o)) return;
      this.backlog.shift();
    }
  }

  private settleReject(o: Outstanding, err: Error): void {
    this.outstanding.delete(o.req);
    o.reject(err);
  }

  /**
   * Interrupts request `req` (default: the oldest outstanding one). A running request stops
   * with `@"interrupted"`, a queued one is answered so without running. False when there is
   * no such request.
   */
  interrupt(req?: number): boolean {
    if (this.dead || this.closed) return false;
    const id = req ?? this.outstanding.keys().next().value;
    if (id === undefined) return false;
    const o = this.outstanding.get(id);
    if (o && !o.submitted) {
      // Still waiting for room in the queue: the image answers it as soon as it has it.
      o.interruptPending = true;
      return true;
    }
    const found = this.sendInterrupt(id);
    this.kick();
    return found;
  }

  private sendInterrupt(req: number): boolean {
    try {
      return this.image.interrupt(req) === 1;
    } catch (e) {
      this.die(e);
      return false;
    }
  }

  /**
   * Splits text into its top-level forms (via the image), or gives the printed parse error.
   * Throws BoardError "out-of-memory" when the image has no memory for the answer.
   */
  split(text: string | Uint8Array): { forms: string[] } | { error: string } {
    const bytes = toBytes(text);
    const r = this.splitBytes(bytes);
    if ("error" in r) return r;
    return { forms: r.ranges.map(([s, e]) => fromBytes(bytes.subarray(s, e))) };
  }

  /** Like split, with the byte ranges of the forms. */
  splitBytes(bytes: Uint8Array): { ranges: Array<[number, number]> } | { error: string } {
    this.assertAlive();
    let r: ReturnType<SxsImage["split"]>;
    try {
      r = this.image.split(bytes);
    } catch (e) {
      this.die(e);
      throw this.dead!;
    }
    if (r === null) throw new BoardError("out-of-memory", "sxs_split: out of memory");
    return r;
  }

  /**
   * Asks the image for `host_event` calls (on = true) or stops them, for events on
   * `channel` (`A`..`F` or 1..6) and `topic` (0..65535, or -1 / `*` for every topic).
   */
  watch(channel: string | number, topic: number | "*", on = true): void {
    this.assertAlive();
    const ch = typeof channel === "number" ? channel : "ABCDEF".indexOf(channel.toUpperCase()) + 1;
    const t = topic === "*" ? -1 : topic;
    if (typeof channel === "string" && (channel.length !== 1 || ch === 0)) {
      throw new BoardError("watch", `invalid channel ${JSON.stringify(channel)} (A..F)`);
    }
    let status: number;
    try {
      status = this.image.watch(ch, t, on);
    } catch (e) {
      this.die(e);
      throw this.dead!;
    }
    if (status === -1) throw new BoardError("watch", `invalid watch: channel ${channel}, topic ${topic}`);
    if (status === -2) throw new BoardError("watch", "the watch table is full");
    if (status !== 0) {
      this.die(new ImageError("trap", `sxs_watch returned ${status}, which the ABI does not define`));
      throw this.dead!;
    }
  }

  /** A statistic (see `Stat` in host/image/image.ts). */
  stat(id: StatId): number {
    this.assertAlive();
    try {
      return this.image.stat(id);
    } catch (e) {
      this.die(e);
      throw this.dead!;
    }
  }

  /** The current `host_now()` time. */
  now(): number {
    return this.clock.now();
  }

  /** True while the board is alive (not closed, not trapped). */
  get alive(): boolean {
    return !this.dead && !this.closed;
  }

  /** The failure that ended the board, if any. */
  get failure(): BoardError | null {
    return this.dead;
  }

  private assertAlive(): void {
    if (this.dead) throw this.dead;
    if (this.closed) throw new BoardError("closed", "the board is closed");
  }

  // ---- the run loop ------------------------------------------------------------------

  /**
   * Resolves when the board is idle with no pending timer (with a virtual clock, pending
   * timers are run by advancing the time). Rejects if the image traps.
   */
  drain(): Promise<void> {
    return this.waitIdle(undefined);
  }

  /**
   * Resolves when nothing can run now and at most `live` tasks are alive (waiting on
   * events or timers): the tasks that were there before some work count as background.
   * Rejects if the image traps.
   */
  drainTo(live: number): Promise<void> {
    return this.waitIdle(live);
  }

  private waitIdle(live: number | undefined): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.closed) return Promise.resolve();
    this.kick();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject, ...(live !== undefined ? { live } : {}) }));
  }

  /** Resolves the drainTo waiters whose number of live tasks is reached (the board is idle). */
  private settleDrainTo(): void {
    if (!this.drainWaiters.some((w) => w.live !== undefined)) return;
    let tasks: number;
    try {
      tasks = this.image.stat(Stat.TASKS);
    } catch (e) {
      this.die(e);
      return;
    }
    const keep: typeof this.drainWaiters = [];
    for (const w of this.drainWaiters) {
      if (w.live !== undefined && tasks <= w.live) w.resolve();
      else keep.push(w);
    }
    this.drainWaiters = keep;
  }

  /** The consumer of the output has room again (see VirtualBoardOptions.canRun). */
  resume(): void {
    if (this.wake) this.kick();
  }

  /** Wakes the run loop where it waits for work or for the consumer (no-op when it is not waiting). */
  private wakeLoop(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Starts the run loop (after the current synchronous code) unless it runs already. */
  private kick(): void {
    this.kicks++;
    this.wakeLoop();
    if (this.looping || this.dead || this.closed) return;
    this.looping = true;
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.dead || this.closed) return;
        if (this.canRun && !this.canRun()) {
          // held: wait for resume() (or any other kick)
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        const kicks = this.kicks;
        this.flushBacklog();
        if (this.dead) return;
        let status: number;
        try {
          status = this.image.run(this.runBudget);
        } catch (e) {
          this.deliver();
          this.die(e);
          return;
        }
        this.deliver();
        if (this.dead || this.closed) return;
        if (status !== 0 && status !== 1) {
          this.die(new ImageError("trap", `sxs_run returned ${status}, which the ABI does not define`));
          return;
        }
        if (status === 1 || this.kicks !== kicks) {
          await yieldToEventLoop();
          continue;
        }
        if (this.backlog.length > 0) {
          // idle with requests the image could not take in before it ran: try them now;
          // when not even the oldest goes in, only time (its timers) can make room
          const waiting = this.backlog.length;
          this.flushBacklog();
          if (this.dead) return;
          if (this.backlog.length < waiting || this.kicks !== kicks) {
            await yieldToEventLoop();
            continue;
          }
        } else {
          // Idle.
          this.emit("idle");
          if (this.dead || this.closed) return;
          this.settleDrainTo();
        }
        let due: number;
        try {
          due = this.image.nextTimer();
        } catch (e) {
          this.die(e);
          return;
        }
        if (!(due >= 0) && this.backlog.length > 0) {
          // nothing runs and no timer is due, yet the image still asks the oldest waiting
          // request to come back later: nothing will ever make room for it
          const o = this.backlog.shift()!;
          this.settleReject(o, new BoardError("out-of-memory", `no room for request ${o.req} (${o.bytes.length} bytes), and nothing running to give memory back`));
          continue;
        }
        if (!(due >= 0)) {
          // Drained: nothing runnable, nothing queued, no timer.
          this.looping = false;
          const waiters = this.drainWaiters;
          this.drainWaiters = [];
          for (const w of waiters) w.resolve();
          // New work may have arrived from a drain waiter's continuation: kick() handles it.
          return;
        }
        if (this.clock instanceof VirtualClock) {
          this.clock.advanceTo(due);
          await yieldToEventLoop();
          continue;
        }
        const wait = Math.ceil(due - this.clock.now());
        if (wait > 0) await this.sleep(wait);
        else await yieldToEventLoop();
      }
    } finally {
      if (this.dead || this.closed) {
        this.looping = false;
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) {
          if (this.dead) w.reject(this.dead);
          else w.resolve();
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Hands what the imports collected to the listeners, in the order it happened. */
  private deliver(): void {
    const batch = this.deliveries;
    this.deliveries = [];
    for (const d of batch) {
      switch (d.kind) {
        case "result": {
          const text = fromBytes(d.bytes);
          const o = this.outstanding.get(d.req);
          this.emit("result", d.req, text, d.bytes);
          if (o) {
            this.outstanding.delete(d.req);
            o.resolve(text);
          }
          break;
        }
        case "log":
          this.emit("log", fromBytes(d.bytes), d.bytes);
          break;
        case "event":
          this.emit("event", channelName(d.channel), d.topic, fromBytes(d.bytes), d.bytes);
          break;
      }
    }
  }

  private die(e: unknown): void {
    if (this.dead) return;
    const err = toBoardError(e, "trap");
    this.dead = err;
    this.abandon(err);
    this.emit("trap", err);
  }

  /** Rejects every outstanding request with `err`, drops the backlog and wakes the run loop so it sees why. */
  private abandon(err: BoardError): void {
    for (const o of this.outstanding.values()) o.reject(err);
    this.outstanding.clear();
    this.backlog = [];
    this.wakeLoop();
  }

  /** Stops the board: outstanding requests are rejected, the instance is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsFlash) this.flash?.close();
    const err = new BoardError("closed", "the board was closed");
    this.abandon(err);
    if (!this.looping) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toBoardError(e: unknown, fallback: BoardErrorCode): BoardError {
  if (e instanceof BoardError) return e;
  if (e instanceof ImageError) {
    const code: BoardErrorCode = e.code === "load" ? "load" : "trap";
    return new BoardError(code, e.message, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new BoardError(fallback, msg, { cause: e });
}
