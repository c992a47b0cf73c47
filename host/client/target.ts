// One interface for "the board the CLI talks to": the in-process virtual board or a real
// (or simulated) board over the serial link. `sxs run`, `exec` and `repl` use only this,
// so they behave the same on either. Splitting input into forms is not part of it: only
// the image parses SLP, so a tool that needs forms keeps a local image for that (see
// localSplitter).

import { BoardError, VirtualBoard, type VirtualBoardOptions } from "../board/virtual-board.js";
import { STAT_NAMES, Stat, type StatId } from "../image/image.js";
import { BoardClient, hex8, type BoardInfoEx } from "./board-client.js";
import { TimeoutError, type LinkError } from "./errors.js";

export interface TargetEvents {
  /** One log line. */
  log: (text: string, bytes: Uint8Array) => void;
  /** A watched event on channel `A`..`F`. */
  event: (channel: string, topic: number, payload: string, bytes: Uint8Array) => void;
  /** A request finished with this canonical print. */
  result: (req: number, text: string, bytes: Uint8Array) => void;
  /** The board is gone for good: the image trapped (virtual) or the link failed. */
  failure: (error: Error) => void;
}

export interface BoardTarget {
  readonly kind: "virtual" | "link";
  /** One line saying what this is, for a REPL banner. */
  readonly label: string;
  readonly processors: number;
  /** Submits a request: its id and its printed result. */
  submit(text: string | Uint8Array, opts?: { processor?: number }): { req: number; result: Promise<string> };
  exec(text: string | Uint8Array, opts?: { processor?: number }): Promise<string>;
  /** Interrupts request `req` (default: the oldest unanswered one). Fire and forget. */
  interrupt(req?: number): void;
  /** Shows or stops events on `channel` (A..F) and `topic` (0..65535 or "*"). */
  watch(channel: string, topic: number | "*", on: boolean): Promise<void>;
  /**
   * Waits until the board is idle (see BoardClient.settle for the link): nothing queued
   * and no more live tasks than `background` (the tasks that lived before the work being
   * waited for, see liveTasks); at most `timeoutMs` when given. Resolves to how many
   * tasks beyond `background` still ran or waited when it stopped (0: idle). A board keeps
   * background tasks (a handler that waits on a timer, a loop) as long as they live, so
   * callers that must return bound the wait.
   */
  drain(timeoutMs?: number, background?: number): Promise<number>;
  /** Tasks alive on the board now (running, queued or waiting on an event or a timer). */
  liveTasks(): Promise<number>;
  /** Unanswered request ids, oldest first. */
  pending(): number[];
  /** Name/value rows for `.stats`. */
  stats(): Promise<Array<[string, string | number]>>;
  on<K extends keyof TargetEvents>(name: K, listener: TargetEvents[K]): this;
  off<K extends keyof TargetEvents>(name: K, listener: TargetEvents[K]): this;
  /** The failure that ended the board, if any. */
  readonly failure: Error | null;
  close(): Promise<void>;
}

/** The in-process virtual board. */
export class VirtualTarget implements BoardTarget {
  readonly kind = "virtual" as const;
  private readonly wrapped = new Map<unknown, unknown>();
  constructor(readonly board: VirtualBoard) {}

  static async create(opts: VirtualBoardOptions): Promise<VirtualTarget> {
    return new VirtualTarget(await VirtualBoard.create(opts));
  }

  get label(): string {
    const n = this.board.processors;
    return `sxs virtual board (${n} processor${n > 1 ? "s" : ""})`;
  }
  get processors(): number {
    return this.board.processors;
  }
  submit(text: string | Uint8Array, opts: { processor?: number } = {}) {
    return this.board.submit(text, opts);
  }
  exec(text: string | Uint8Array, opts: { processor?: number } = {}): Promise<string> {
    return this.board.exec(text, opts);
  }
  interrupt(req?: number): void {
    this.board.interrupt(req);
  }
  async watch(channel: string, topic: number | "*", on: boolean): Promise<void> {
    this.board.watch(channel, topic, on);
  }
  async drain(timeoutMs?: number, background = 0): Promise<number> {
    const idle = background > 0 ? this.board.drainTo(background) : this.board.drain();
    if (timeoutMs === undefined) {
      await idle;
      return 0;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      if (await Promise.race([idle.then(() => true as const), expired])) return 0;
    } finally {
      clearTimeout(timer);
    }
    idle.catch(() => {}); // settles when the board closes or traps (reported elsewhere)
    return Math.max(1, this.board.stat(Stat.TASKS) - background);
  }
  async liveTasks(): Promise<number> {
    return this.board.stat(Stat.TASKS);
  }
  pending(): number[] {
    return this.board.pending();
  }
  async stats(): Promise<Array<[string, string | number]>> {
    const ids = Object.keys(STAT_NAMES).map(Number) as StatId[];
    return ids.map((id) => [STAT_NAMES[id], this.board.stat(id)]);
  }
  on<K extends keyof TargetEvents>(name: K, listener: TargetEvents[K]): this {
    if (name === "failure") {
      const w = (e: BoardError) => (listener as TargetEvents["failure"])(e);
      this.wrapped.set(listener, w);
      this.board.on("trap", w);
    } else this.board.on(name as "log", listener as TargetEvents["log"]);
    return this;
  }
  off<K extends keyof TargetEvents>(name: K, listener: TargetEvents[K]): this {
    if (name === "failure") {
      const w = this.wrapped.get(listener) as ((e: BoardError) => void) | undefined;
      if (w) this.board.off("trap", w);
      this.wrapped.delete(listener);
    } else this.board.off(name as "log", listener as TargetEvents["log"]);
    return this;
  }
  get failure(): Error | null {
    return this.board.failure;
  }
  async close(): Promise<void> {
    this.board.close();
  }
}

/** A board over the serial link. */
export class LinkTarget implements BoardTarget {
  readonly kind = "link" as const;
  constructor(readonly client: BoardClient) {}

  get label(): string {
    const h = this.client.hello;
    return `${h.firmware || "board"} on ${this.client.transport.path}: image ${hex8(h.imageCrc)} in slot ${h.activeSlot}, ${h.processors} processor${h.processors > 1 ? "s" : ""}`;
  }
  get processors(): number {
    return this.client.processors;
  }
  submit(text: string | Uint8Array, opts: { processor?: number } = {}) {
    return this.client.submit(text, opts);
  }
  exec(text: string | Uint8Array, opts: { processor?: number } = {}): Promise<string> {
    return this.client.exec(text, opts);
  }
  interrupt(req?: number): void {
    const id = req ?? this.client.pending()[0];
    if (id === undefined || !this.client.alive) return;
    this.client.interrupt(id).catch(() => {
      /* the request still ends (or the link failure is reported elsewhere) */
    });
  }
  watch(channel: string, topic: number | "*", on: boolean): Promise<void> {
    return this.client.watch(channel, topic, on);
  }
  async drain(timeoutMs?: number, background = 0): Promise<number> {
    try {
      await this.client.settle({ background, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
      return 0;
    } catch (e) {
      if (!(e instanceof TimeoutError) || timeoutMs === undefined) throw e;
    }
    const info = await this.client.info();
    return Math.max(1, info.queued + (info.liveTasks ?? 0) - background);
  }
  async liveTasks(): Promise<number> {
    return (await this.client.info()).liveTasks ?? 0;
  }
  pending(): number[] {
    return this.client.pending();
  }
  async stats(): Promise<Array<[string, string | number]>> {
    return infoRows(await this.client.info());
  }
  on<K extends keyof TargetEvents>(name: K, listener: TargetEvents[K]): this {
    this.client.on(name as "log", listener as TargetEvents["log"]);
    return this;
  }
  off<K extends keyof TargetEvents>(name: K, listener: TargetEvents[K]): this {
    this.client.off(name as "log", listener as TargetEvents["log"]);
    return this;
  }
  get failure(): LinkError | null {
    return this.client.failure;
  }
  close(): Promise<void> {
    return this.client.close();
  }
}

const BOOT_REASONS = ["power-on", "reset by the host", "new image", "rollback", "crash"];
const ROLLBACK = ["none", "trap at start-up", "not up within the HELLO deadline", "slot CRC wrong at boot", "engine refused the module", "sxs_init failed or wrong ABI"];

/** HELLO/INFO as name/value rows (for `sxs info` and the REPL's `.stats`). */
export function infoRows(i: BoardInfoEx): Array<[string, string | number]> {
  const rows: Array<[string, string | number]> = [
    ["firmware", i.firmware],
    ["link protocol", i.proto],
    ["image", i.activeSlot === 0xff ? "none" : hex8(i.imageCrc)],
    ["active slot", i.activeSlot === 0xff ? "none" : i.activeSlot],
    ["boot reason", BOOT_REASONS[i.bootReason] ?? String(i.bootReason)],
  ];
  if (i.rollbackReason !== 0) rows.push(["rollback", `${ROLLBACK[i.rollbackReason] ?? i.rollbackReason} (image ${hex8(i.failedCrc)})`]);
  rows.push(
    ["safe mode", i.stateFlags & 1 ? "yes" : "no"],
    ["ABI version", i.abiVersion],
    ["processors", i.processors],
    ["slot size", i.slotSize],
    ["max input", i.maxInput],
    ["max payload", i.maxPayload],
    ["rx window", i.rxWindow],
    ["free heap", i.freeHeap],
    ["uptime ms", i.uptimeMs],
    ["link idle ms", i.linkIdleMs],
    ["heap bytes in use", i.heapUsed],
    ["linear memory bytes", i.wasmMemory],
    ["K/V entries", i.kvEntries],
    ["queued events and requests", i.queued],
  );
  if (i.liveTasks !== undefined) rows.push(["live tasks", i.liveTasks]);
  rows.push(["bad frames", i.badFrames], ["retransmits", i.retransmits], ["session", hex8(i.session)]);
  return rows;
}

/**
 * An image instance that only splits text into forms (the REPL's "is this input
 * finished?" and run --transcript's forms, when the board is at the other end of a
 * line). No flash, virtual clock; never runs a request.
 */
export async function localSplitter(imagePath?: string): Promise<VirtualBoard> {
  return VirtualBoard.create({ clock: "virtual", flash: false, ...(imagePath !== undefined ? { imagePath } : {}) });
}
