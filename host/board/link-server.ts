// The board side of the serial link (docs/link.md) for the virtual board: one line (a
// byte duplex: a pseudo-terminal, the link emulator, a test pipe), one VirtualBoard
// started from an image slot of a NorFlash (host/board/slots.ts), recreated on every
// reset and reboot; the K/V store lives in the flash's K/V partition, so it survives.
//
// Text mode (section 2) is a line REPL for a person; the ENTER sequence switches to
// framed mode (sections 3-9), served by a host/link endpoint in the board role. Image
// transfers (section 11) go into the inactive slot and are verified before the board
// reboots into them; the boot rules of section 13 (PENDING, confirm, rollback) are in
// slots.ts.

import { performance } from "node:perf_hooks";
import { crc32 } from "../link/crc32.js";
import { LinkDriver } from "../link/driver.js";
import { realTimers, type Timers } from "../link/emulator.js";
import { LinkEndpoint, type EndpointEvent } from "../link/endpoint.js";
import type { ImageHeader } from "../link/image-header.js";
import {
  BootReason,
  CommitFlag,
  ErrorCode,
  HOST_TO_BOARD,
  MessageError,
  MsgType,
  PROTOCOL_VERSION,
  ResetFlag,
  SLOT_INACTIVE,
  RollbackReason,
  SLOT_NONE,
  StateFlag,
  decodeRaw,
  encodeBoardInfo,
  encodeMessage,
  msgTypeName,
  type BoardInfo,
  type Message,
  type RawMessage,
} from "../link/messages.js";
import { ABI_VERSION, ImageError, Stat } from "../image/image.js";
import { SECTOR, type NorFlash } from "./flash.js";
import {
  HELLO_DEADLINE_MS,
  ImageRejected,
  SLOT_SIZE,
  Slots,
  bootSlots,
  checkImageFile,
  checkModule,
  compileWasm,
  hex8,
  kvScratchCopy,
  loadFailureReason,
  rollbackReasonText,
  type BootRecord,
  type Rollback,
  type StartResult,
} from "./slots.js";
import { LineEditor } from "./line-editor.js";
import { BoardError, VirtualBoard } from "./virtual-board.js";

export interface LinkServerOptions {
  /** The board's flash: image slots, K/V log, boot record. */
  flash: NorFlash;
  /** An image file (header + Wasm) installed into slot 0 when the flash has no boot record. */
  install?: Uint8Array;
  processors?: number;
  maxInput?: number;
  maxSteps?: number;
  maxPages?: number;
  queue?: number;
  /** The board's clock (`host_now`): real (default) or virtual (transcripts, tests). */
  clock?: "real" | "virtual";
  /** The link's timers (default: real ones). */
  timers?: Timers;
  /** Line rate in bytes per ms, for pacing (default Infinity: a pty has no line rate). */
  bytesPerMs?: number;
  /** Back to text mode after this long without a valid frame (default 30000; 0 = never). */
  linkIdleMs?: number;
  /** A new image must reach idle within this long (default 5000). */
  helloDeadlineMs?: number;
  /** Shown in HELLO/INFO and the banner (default `sxs-sim VERSION`). */
  firmware?: string;
  /** Receive window in bytes (default 8192). */
  rxWindow?: number;
  /** Retransmit buffer in bytes (default 8192). */
  txBuffer?: number;
  /** Diagnostics for the operator (never written to the line). */
  diag?: (line: string) => void;
  /** Structured status changes (boot, session, mode), for `sxs sim --json`. */
  status?: (event: ServerStatus) => void;
}

export type ServerStatus =
  | { kind: "boot"; bootReason: number; slot: number; image: string | null; rollback: Rollback | undefined; notes: string[] }
  | { kind: "mode"; mode: "text" | "framed"; session?: number; why: string }
  | { kind: "flash"; slot: number; image: string; size: number }
  | { kind: "trap"; message: string; restarted: boolean };

const te = new TextEncoder();
const CRLF = te.encode("\r\n");
const PROMPT = "> ";
const CONT_PROMPT = ".. ";
const UNCLOSED = '@"parse: unclosed';
const INTERRUPTED = te.encode('@"interrupted"');
const LINGER_MS = 1000;
const DEFAULT_MAX_INPUT = 16384;
const DEFAULT_MAX_PAGES = 256;
/**
 * Frame bytes waiting for the line (queued or unacknowledged) at which the image is no
 * longer run: a script that logs in a loop waits for the host, as the C firmware's does,
 * instead of growing the send queue without bound.
 */
const OUTPUT_QUEUE_MAX = 32 * 1024;
/** A trap this soon after the image started counts as a quick one; the third in a row means safe mode. */
const QUICK_TRAP_MS = 2000;

type Mode = "text" | "framed";

interface Transfer {
  req: number;
  size: number;
  crc: number;
  slot: number;
  received: number;
  erasedTo: number;
  failed: boolean;
}

interface TextItem {
  text: Uint8Array;
  interrupted: boolean;
}

function concat(parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => (typeof p === "string" ? te.encode(p) : p));
  let n = 0;
  for (const b of bs) n += b.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of bs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** LF inside a log text continues on a new line (CR LF on a terminal). */
function crlf(bytes: Uint8Array): Uint8Array {
  let lfs = 0;
  for (const b of bytes) if (b === 0x0a) lfs++;
  if (lfs === 0) return bytes;
  const out = new Uint8Array(bytes.length + lfs);
  let o = 0;
  for (const b of bytes) {
    if (b === 0x0a) out[o++] = 0x0d;
    out[o++] = b;
  }
  return out;
}

function channelNumber(letter: string): number {
  return "ABCDEF".indexOf(letter) + 1;
}

export class LinkServer {
  readonly slots: Slots;
  readonly ep: LinkEndpoint;
  private readonly opts: LinkServerOptions;
  private readonly timers: Timers;
  private write: (b: Uint8Array) => void = () => {};
  private driver: LinkDriver | undefined;
  private closed = false;

  // ---- the board ----
  /** The running board (undefined: no image runs). */
  board: VirtualBoard | undefined;
  /** The slot it runs from (0xFF: none). */
  slot = SLOT_NONE;
  header: ImageHeader | undefined;
  bootReason: number = BootReason.POWER_ON;
  record: BootRecord | null = null;
  rollback: Rollback | undefined;
  safeMode = false;
  /** The running image's module, for a restart after a trap; when it started; quick traps so far. */
  private module: WebAssembly.Module | undefined;
  private imageStartedAt = 0;
  private quickTraps = 0;
  /** True while booting: input is dropped (a board that reboots hears nothing). */
  booting = false;
  private bootAt = performance.now();
  private firstHello = true;
  private startingBoard: VirtualBoard | undefined;
  private startupOutput: Array<{ kind: "log"; bytes: Uint8Array }> = [];
  private install: Uint8Array | undefined;

  // ---- the line ----
  mode: Mode = "text";
  session: number;

  // text mode
  private readonly editor = new LineEditor((b) => this.write(b));
  private cont: Uint8Array | null = null; // text of the lines so far of an unclosed form
  private promptShown: string | null = null;
  private textQueue: TextItem[] = [];
  private textRunning: number | null = null; // board request id

  // framed mode
  private readonly linkToBoard = new Map<number, number>();
  private readonly boardToLink = new Map<number, number>();
  private readonly interruptHeld = new Set<number>();
  private readonly watches = new Map<string, { channel: number; topic: number }>();
  private transfer: Transfer | undefined;
  private busy = false; // an async step (FLASH_COMMIT verification) holds the message stream
  private linger: { until: number; action: () => void } | undefined;
  private lingerTimer: unknown;
  private retryTimer: unknown;
  private idleTimer: unknown;
  private idleFramesIn = 0;
  private idleSince = 0;
  private badFramesAtBoot = 0;
  private retransmitsDone = 0; // retransmissions of earlier sessions
  private retransmitsAtBoot = 0;

  constructor(opts: LinkServerOptions) {
    this.opts = opts;
    this.timers = opts.timers ?? realTimers;
    this.slots = new Slots(opts.flash);
    this.install = opts.install;
    this.session = (Math.random() * 0x100000000) >>> 0;
    this.ep = new LinkEndpoint({
      role: "board",
      rxCapacity: opts.rxWindow ?? 8192,
      window: { txBuffer: opts.txBuffer ?? 8192, bytesPerMs: opts.bytesPerMs ?? Infinity },
    });
  }

  /** Where the board's output goes (the line). */
  attach(write: (b: Uint8Array) => void): this {
    this.write = (b) => {
      if (this.closed || b.length === 0) return;
      if (this.batch) this.batch.push(b);
      else write(b);
    };
    this.flushBatch = () => {
      const parts = this.batch;
      this.batch = null;
      if (parts && parts.length > 0 && !this.closed) write(parts.length === 1 ? parts[0]! : concat(parts));
    };
    return this;
  }
  /** Output collected while input is handled (echo byte by byte), written as one chunk. */
  private batch: Uint8Array[] | null = null;
  private flushBatch: () => void = () => {};

  /** Power-on: boots from the flash and prints the banner (text mode). */
  async start(): Promise<void> {
    await this.boot(BootReason.POWER_ON, false);
    if (this.isClosed()) {
      (this.board as VirtualBoard | undefined)?.close();
      return;
    }
    this.comeUp(false);
  }

  isClosed(): boolean {
    return this.closed;
  }

  get firmware(): string {
    return this.opts.firmware ?? "sxs-sim";
  }

  private get maxInput(): number {
    return this.opts.maxInput ?? DEFAULT_MAX_INPUT;
  }

  private diag(line: string): void {
    this.opts.diag?.(line);
  }

  // =====================================================================================
  // Booting

  private async boot(reason: number, safeMode: boolean): Promise<void> {
    this.booting = true;
    const install = this.install;
    this.install = undefined;
    try {
      const out = await bootSlots(
        this.slots,
        async (_slot, img, trial) => {
          const r = await this.startImage(img.module, safeMode, trial);
          if (r.ok) this.module = img.module;
          return r;
        },
        { reason, ...(install ? { install } : {}) },
      );
      this.imageStartedAt = performance.now();
      this.board = out.board;
      this.slot = out.board ? out.slot : SLOT_NONE;
      this.header = out.board ? out.header : undefined;
      this.bootReason = out.bootReason;
      this.record = out.record;
      this.rollback = out.rollback;
      this.safeMode = safeMode && out.board !== undefined;
      for (const n of out.notes) this.diag(n);
      this.opts.status?.({
        kind: "boot",
        bootReason: out.bootReason,
        slot: this.slot,
        image: this.header ? hex8(this.header.wasmCrc) : null,
        rollback: out.rollback,
        notes: out.notes,
      });
    } finally {
      this.bootAt = performance.now();
      this.firstHello = true;
      this.badFramesAtBoot = this.ep.deframer.droppedFrames;
      this.retransmitsAtBoot = this.retransmits();
      this.booting = false;
    }
  }

  /**
   * Instantiates an image, runs sxs_init and the autorun until idle (or a trap). An image
   * on trial that is not idle by the deadline has failed; a confirmed one is taken as up
   * then (its autorun keeps running).
   */
  private async startImage(module: WebAssembly.Module, safeMode: boolean, trial: boolean): Promise<StartResult<VirtualBoard>> {
    let board: VirtualBoard;
    try {
      board = await VirtualBoard.create({
        module,
        canRun: () => this.ep.tx.queuedBytes < OUTPUT_QUEUE_MAX,
        flash: this.opts.flash,
        clock: this.opts.clock ?? "real",
        safeMode,
        ...(this.opts.processors !== undefined ? { processors: this.opts.processors } : {}),
        ...(this.opts.maxInput !== undefined ? { maxInput: this.opts.maxInput } : {}),
        ...(this.opts.maxSteps !== undefined ? { maxSteps: this.opts.maxSteps } : {}),
        ...(this.opts.maxPages !== undefined ? { maxPages: this.opts.maxPages } : {}),
        ...(this.opts.queue !== undefined ? { queue: this.opts.queue } : {}),
      });
    } catch (e) {
      return { ok: false, reason: startFailureReason(e), message: (e as Error).message };
    }
    this.startingBoard = board;
    this.startupOutput = [];
    this.wire(board);
    const deadlineMs = this.opts.helloDeadlineMs ?? HELLO_DEADLINE_MS;
    const outcome = await new Promise<"idle" | "trap" | "deadline">((resolve) => {
      let settled = false;
      const finish = (r: "idle" | "trap" | "deadline"): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        board.off("idle", onIdle);
        board.off("trap", onTrap);
        resolve(r);
      };
      const onIdle = (): void => finish("idle");
      const onTrap = (): void => finish("trap");
      // the watchdog: real time, whatever the board's clock
      const timer = setTimeout(() => finish("deadline"), deadlineMs);
      board.on("idle", onIdle).on("trap", onTrap);
      board.drain().catch(() => {}); // starts the run loop; a trap arrives as the event
    });
    this.startingBoard = undefined;
    if (outcome === "idle" || (outcome === "deadline" && !trial)) return { ok: true, board };
    const message =
      outcome === "trap"
        ? `the image trapped at start-up: ${board.failure?.message ?? "trap"}`
        : `the image did not reach idle within ${deadlineMs} ms`;
    board.close();
    this.startupOutput = [];
    return { ok: false, reason: outcome === "trap" ? RollbackReason.TRAP : RollbackReason.DEADLINE, message };
  }

  /** Routes a board's output to the line. */
  private wire(board: VirtualBoard): void {
    board.on("log", (_t, bytes) => this.onBoardLog(board, bytes));
    board.on("event", (ch, topic, _p, bytes) => this.onBoardEvent(board, ch, topic, bytes));
    board.on("result", (req, _t, bytes) => this.onBoardResult(board, req, bytes));
    board.on("trap", (err) => this.onBoardTrap(board, err));
    board.on("idle", () => {
      if (board === this.board) this.kickSoon();
    });
  }

  /** After a boot: HELLO (framed) or the banner (text), then what the autorun logged. */
  private comeUp(framed: boolean): void {
    const early = this.startupOutput;
    this.startupOutput = [];
    const rb = this.rollback;
    const rbLine = rb ? `sxs: new image ${hex8(rb.failedCrc)} failed (${rollbackReasonText(rb.reason)}); ` + (rb.slot === SLOT_NONE ? "no image to roll back to" : `rolled back to slot ${rb.slot}`) : undefined;
    if (framed) {
      this.startSession("reboot");
      if (rbLine) this.sendMsg({ type: "LOG", req: 0, text: te.encode(rbLine) });
      for (const o of early) this.sendMsg({ type: "LOG", req: 0, text: o.bytes });
      return;
    }
    this.mode = "text";
    this.resetTextState();
    this.write(te.encode(this.banner() + "\r\n"));
    if (rbLine) this.write(te.encode(rbLine + "\r\n"));
    if (!this.board) this.write(te.encode("sxs: no image runs: flash one (sxs flash)\r\n"));
    for (const o of early) this.write(concat(["log: ", crlf(o.bytes), CRLF]));
    this.showPrompt(PROMPT);
    this.opts.status?.({ kind: "mode", mode: "text", why: "boot" });
  }

  banner(): string {
    const img = this.header ? hex8(this.header.wasmCrc) : "none";
    const slot = this.slot === SLOT_NONE ? "none" : String(this.slot);
    return `sxs ${this.firmware} abi ${ABI_VERSION} slot ${slot} image ${img}` + (this.safeMode ? " (safe mode)" : "");
  }

  private async reboot(reason: number, o: { safeMode?: boolean; framed: boolean }): Promise<void> {
    if (this.closed) return;
    this.dropSession();
    this.mode = o.framed ? "framed" : "text";
    this.resetTextState();
    this.linkToBoard.clear();
    this.boardToLink.clear();
    const old = this.board;
    this.board = undefined;
    old?.close();
    try {
      await this.boot(reason, o.safeMode ?? false);
    } catch (e) {
      // the flash failed under the boot (a real board would not come up either): keep the
      // link alive without an image, so that the tool can still see INFO and flash
      this.diag(`boot failed: ${(e as Error).message}; running without an image`);
      (this.board as VirtualBoard | undefined)?.close();
      this.board = undefined;
      this.slot = SLOT_NONE;
      this.header = undefined;
    }
    if (this.isClosed()) {
      (this.board as VirtualBoard | undefined)?.close();
      return;
    }
    this.comeUp(o.framed);
  }

  /**
   * A trap while the image serves (an image bug), handled as the firmware does
   * (firmware/README.md, decision 9): a line says so (a LOG in framed mode), every
   * unanswered request of the host gets ERROR INTERNAL, and the image starts again from
   * its slot, the store as the flash holds it; the session and its watches carry over.
   * The third trap within QUICK_TRAP_MS of a start: safe mode (no autorun).
   */
  private onBoardTrap(board: VirtualBoard, err: BoardError): void {
    if (board !== this.board || this.booting || this.closed) return;
    const message = err.message;
    this.quickTraps = performance.now() - this.imageStartedAt < QUICK_TRAP_MS ? this.quickTraps + 1 : 1;
    const safe = this.safeMode || this.quickTraps >= 3;
    const line = `sxs: image trapped: ${message}; restarting${safe && !this.safeMode ? " in safe mode" : ""}`;
    this.diag(line);
    if (this.mode === "framed") this.sendMsg({ type: "LOG", req: 0, text: te.encode(line) });
    else this.write(te.encode(line + "\r\n"));
    for (const linkReq of this.linkToBoard.keys()) this.sendError(linkReq, ErrorCode.INTERNAL, `image trapped: ${message}`);
    this.linkToBoard.clear();
    this.boardToLink.clear();
    this.textRunning = null;
    this.board = undefined;
    board.close();
    // the messages that come meanwhile wait for the image (onMessage answers "not now")
    this.busy = true;
    void this.restartImage(safe, message);
  }

  private async restartImage(safe: boolean, trapMessage: string): Promise<void> {
    const module = this.module;
    const r = module ? await this.startImage(module, safe, false) : undefined;
    if (this.closed || this.booting) {
      if (r?.ok) r.board.close();
      return;
    }
    const early = this.startupOutput;
    this.startupOutput = [];
    if (r?.ok) {
      this.board = r.board;
      this.safeMode = safe;
      this.imageStartedAt = performance.now();
      for (const w of this.watches.values()) {
        try {
          r.board.watch(w.channel, w.topic, true);
        } catch {
          /* a watch the new instance refuses is gone */
        }
      }
    } else {
      this.slot = SLOT_NONE;
      this.header = undefined;
      const line = `sxs: the image does not restart: ${r ? r.message : "no module"}`;
      this.diag(line);
      if (this.mode === "framed") this.sendMsg({ type: "LOG", req: 0, text: te.encode(line) });
      else this.write(te.encode(line + "\r\n"));
    }
    for (const o of early) {
      if (this.mode === "framed") this.sendMsg({ type: "LOG", req: 0, text: o.bytes });
      else this.write(concat(["log: ", crlf(o.bytes), CRLF]));
    }
    this.opts.status?.({ kind: "trap", message: trapMessage, restarted: r?.ok === true });
    this.busy = false;
    if (this.mode === "text") {
      this.showPrompt(PROMPT);
      this.runText();
    }
    this.kickSoon();
  }

  // =====================================================================================
  // Input

  /** Bytes from the line. */
  input(bytes: Uint8Array): void {
    if (this.closed || this.booting) return;
    if (this.batch) {
      this.inputNow(bytes);
      return;
    }
    this.batch = [];
    try {
      this.inputNow(bytes);
    } finally {
      this.flushBatch();
    }
    // acknowledgements may have made room in the send queue
    if (this.ep.tx.queuedBytes < OUTPUT_QUEUE_MAX) this.board?.resume();
  }

  private inputNow(bytes: Uint8Array): void {
    if (this.mode === "framed") {
      this.driver?.input(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      switch (this.editor.feed(bytes[i]!)) {
        case "enter": {
          this.startSession("enter");
          const rest = bytes.subarray(i + 1);
          if (rest.length > 0) this.driver?.input(rest);
          return;
        }
        case "line":
          this.endLine(this.editor.lastLine);
          break;
        case "ctrl-c":
          this.ctrlC();
          break;
        default:
      }
    }
  }

  // =====================================================================================
  // Text mode

  private resetTextState(): void {
    this.editor.reset();
    this.cont = null;
    this.promptShown = null;
    this.textQueue = [];
    this.textRunning = null;
  }

  private showPrompt(p: string): void {
    this.write(te.encode(p));
    this.promptShown = p;
  }

  /** Output that may arrive while a person types: put it on its own lines, then redraw the line. */
  private asyncText(chunk: Uint8Array, promptAfter?: string): void {
    const typed = this.editor.typed;
    const open = this.promptShown !== null || typed.length > 0;
    const p = this.promptShown;
    if (open) this.write(CRLF);
    this.write(chunk);
    if (promptAfter !== undefined) {
      this.showPrompt(promptAfter);
      if (typed.length > 0) this.write(typed);
    } else if (open) {
      if (p !== null) this.write(te.encode(p));
      if (typed.length > 0) this.write(typed);
    }
  }

  private ctrlC(): void {
    this.write(te.encode("^C\r\n"));
    this.promptShown = null;
    this.editor.discardLine();
    this.cont = null;
    const busy = this.textRunning !== null || this.textQueue.length > 0;
    if (!busy) {
      this.showPrompt(PROMPT);
      return;
    }
    for (const q of this.textQueue) q.interrupted = true;
    if (this.textRunning !== null && this.board) this.board.interrupt(this.textRunning);
    else this.runText();
  }

  /** A line ended (the editor has echoed its CR LF): run it, continue it, or queue it. */
  private endLine(lineBytes: Uint8Array): void {
    this.promptShown = null;
    const text = this.cont ? concat([this.cont, "\n", lineBytes]) : lineBytes;
    if (!this.cont && lineBytes.every((c) => c === 0x20 || c === 0x09)) {
      if (this.textRunning === null && this.textQueue.length === 0) this.showPrompt(PROMPT);
      return;
    }
    if (!this.board) {
      this.cont = null;
      this.write(te.encode("sxs: no image runs: flash one (sxs flash)\r\n"));
      this.showPrompt(PROMPT);
      return;
    }
    let unclosed = false;
    try {
      const s = this.board.split(text);
      unclosed = "error" in s && s.error.startsWith(UNCLOSED);
    } catch {
      unclosed = false; // cannot tell: let the board answer the text itself
    }
    if (unclosed && text.length <= this.maxInput) {
      this.cont = text;
      this.showPrompt(CONT_PROMPT);
      return;
    }
    this.cont = null;
    let queued = 0;
    for (const q of this.textQueue) queued += q.text.length;
    if (queued + text.length > this.maxInput && this.textQueue.length > 0) {
      this.write(te.encode("sxs: input buffer full, line dropped\r\n"));
      return;
    }
    this.textQueue.push({ text, interrupted: false });
    this.runText();
  }

  /** Starts the next typed request when none runs. */
  private runText(): void {
    while (this.textRunning === null && this.textQueue.length > 0) {
      const item = this.textQueue.shift()!;
      if (item.interrupted) {
        this.write(concat(["=> ", INTERRUPTED, CRLF]));
        continue;
      }
      const board = this.board;
      if (!board || !board.alive) {
        this.write(te.encode("sxs: no image runs\r\n"));
        continue;
      }
      const sub = board.submit(item.text, { processor: 0 });
      this.textRunning = sub.req;
      sub.result.catch((e: unknown) => {
        if (board !== this.board || this.textRunning !== sub.req) return;
        if (e instanceof BoardError && (e.code === "closed" || e.code === "trap")) return;
        this.textRunning = null;
        if (this.mode === "text") this.asyncText(te.encode(`sxs: ${(e as Error).message}\r\n`));
        this.textDone();
      });
      return;
    }
    if (this.textRunning === null && this.mode === "text" && this.promptShown === null) this.showPrompt(PROMPT);
  }

  private textDone(): void {
    this.runText();
  }

  // =====================================================================================
  // Board output

  private onBoardLog(board: VirtualBoard, bytes: Uint8Array): void {
    if (board === this.startingBoard) {
      this.startupOutput.push({ kind: "log", bytes });
      return;
    }
    if (board !== this.board) return;
    if (this.mode === "framed") this.sendMsg({ type: "LOG", req: 0, text: bytes });
    else this.asyncText(concat(["log: ", crlf(bytes), CRLF]));
  }

  private onBoardEvent(board: VirtualBoard, channel: string, topic: number, bytes: Uint8Array): void {
    if (board !== this.board || this.mode !== "framed") return;
    this.sendMsg({ type: "EVENT", req: 0, channel: channelNumber(channel), topic, data: bytes });
  }

  private onBoardResult(board: VirtualBoard, req: number, bytes: Uint8Array): void {
    if (board !== this.board) return;
    const link = this.boardToLink.get(req);
    if (link !== undefined) {
      this.boardToLink.delete(req);
      this.linkToBoard.delete(link);
      if (this.mode === "framed") this.sendMsg({ type: "RESULT", req: link, value: bytes });
      this.kickSoon();
      return;
    }
    if (req === this.textRunning) {
      this.textRunning = null;
      if (this.mode === "text") {
        const more = this.textQueue.length > 0;
        this.asyncText(concat(["=> ", bytes, CRLF]), more ? undefined : PROMPT);
        if (more) this.promptShown = null;
      }
      this.runText();
    }
  }

  // =====================================================================================
  // Framed mode: sessions

  private retransmits(): number {
    return this.retransmitsDone + this.ep.tx.stats.retransmitted;
  }

  /** Forgets the link state (the endpoint, the driver, watches, a transfer, pending actions). */
  private dropSession(): void {
    this.retransmitsDone += this.ep.tx.stats.retransmitted;
    this.ep.reset();
    this.driver?.close();
    this.driver = undefined;
    if (this.board?.alive) {
      for (const w of this.watches.values()) {
        try {
          this.board.watch(w.channel, w.topic, false);
        } catch {
          /* the watch went with the instance */
        }
      }
    }
    this.watches.clear();
    this.transfer = undefined;
    this.interruptHeld.clear();
    this.busy = false;
    this.linger = undefined;
    for (const t of [this.lingerTimer, this.retryTimer, this.idleTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    this.lingerTimer = this.retryTimer = this.idleTimer = undefined;
    this.board?.resume(); // the send queue went with the session
  }

  /** ENTER (or a reboot the host asked for): a new session from sequence number 0, HELLO first. */
  private startSession(why: "enter" | "reboot"): void {
    if (this.mode === "text") {
      // requests started from text mode keep running; their results are dropped
      this.resetTextState();
    }
    this.dropSession();
    this.mode = "framed";
    this.session = (this.session + 1) >>> 0;
    this.driver = new LinkDriver(
      this.ep,
      (b) => this.write(b),
      {
        onMessage: (m) => this.onMessage(m),
        onEvent: (e) => this.onEvent(e),
        onDown: () => this.leaveFramed("the host stopped answering"),
      },
      this.timers,
    );
    this.sendInfo(MsgType.HELLO, 0);
    this.firstHello = false;
    this.idleFramesIn = this.ep.stats.framesIn;
    this.idleSince = this.timers.now();
    this.armIdle();
    this.opts.status?.({ kind: "mode", mode: "framed", session: this.session, why });
  }

  /** Back to text mode (LEAVE, link down, link idle). */
  private leaveFramed(why: string): void {
    if (this.mode !== "framed") return;
    this.dropSession();
    this.mode = "text";
    this.resetTextState();
    this.diag(`link: back to text mode (${why})`);
    this.opts.status?.({ kind: "mode", mode: "text", why });
    this.write(CRLF);
    this.showPrompt(PROMPT);
  }

  private armIdle(): void {
    const idleMs = this.opts.linkIdleMs ?? 30000;
    if (idleMs <= 0) return;
    const check = () => {
      this.idleTimer = undefined;
      if (this.mode !== "framed" || this.closed) return;
      const now = this.timers.now();
      if (this.ep.stats.framesIn !== this.idleFramesIn) {
        this.idleFramesIn = this.ep.stats.framesIn;
        this.idleSince = now;
      } else if (now - this.idleSince >= idleMs) {
        this.leaveFramed(`no frame from the host for ${idleMs} ms`);
        return;
      }
      this.idleTimer = this.timers.setTimeout(check, Math.min(1000, idleMs));
    };
    this.idleTimer = this.timers.setTimeout(check, Math.min(1000, idleMs));
  }

  /** The board description of HELLO and INFO. */
  describe(): BoardInfo {
    const b = this.board?.alive ? this.board : undefined;
    const stat = (id: Parameters<VirtualBoard["stat"]>[0]): number => {
      try {
        return b ? Math.max(0, Math.min(0xffffffff, Math.floor(b.stat(id)))) : 0;
      } catch {
        return 0;
      }
    };
    const heapUsed = stat(Stat.HEAP_USED);
    const memLimit = (this.opts.maxPages ?? DEFAULT_MAX_PAGES) * 65536;
    const rec = this.slots.readRecord()?.record;
    const firmware = this.firmware.length > 255 ? this.firmware.slice(0, 255) : this.firmware;
    return {
      proto: PROTOCOL_VERSION,
      bootReason: this.bootReason,
      activeSlot: b ? this.slot : SLOT_NONE,
      rollbackReason: rec?.rollbackReason ?? 0,
      abiVersion: ABI_VERSION,
      maxPayload: this.ep.maxPayload,
      rxWindow: this.ep.rx.capacity,
      processors: b ? b.processors : 0,
      stateFlags: (this.safeMode ? StateFlag.SAFE_MODE : 0) | (this.firstHello ? StateFlag.FIRST_HELLO : 0),
      imageCrc: b && this.header ? this.header.wasmCrc : 0,
      failedCrc: rec?.rollbackReason ? rec.failedCrc : 0,
      slotSize: SLOT_SIZE,
      maxInput: this.maxInput,
      freeHeap: Math.max(0, memLimit - heapUsed),
      uptimeMs: Math.floor(performance.now() - this.bootAt) >>> 0,
      linkIdleMs: this.opts.linkIdleMs ?? 30000,
      heapUsed,
      wasmMemory: stat(Stat.MEMORY_BYTES),
      kvEntries: stat(Stat.KV_ENTRIES),
      queued: stat(Stat.QUEUED),
      badFrames: (this.ep.deframer.droppedFrames - this.badFramesAtBoot) >>> 0,
      retransmits: (this.retransmits() - this.retransmitsAtBoot) >>> 0,
      session: this.session,
      firmware,
    };
  }

  /**
   * HELLO or INFO: the board description, then one appended field (section 8 lets a
   * board append fields after `firmware`; receivers ignore what they do not know):
   * `u32 live_tasks` = sxs_stat(7), so that a host can tell "idle" (nothing queued, no
   * task waiting for a timer) exactly.
   */
  private sendInfo(type: number, req: number): void {
    if (this.mode !== "framed" || !this.driver) return;
    const base = encodeBoardInfo(this.describe());
    const out = new Uint8Array(base.length + 4);
    out.set(base, 0);
    new DataView(out.buffer).setUint32(base.length, this.liveTasks(), true);
    this.ep.send({ type, req, payload: out });
    this.driver.kick();
  }

  private liveTasks(): number {
    const b = this.board;
    if (!b?.alive) return 0;
    try {
      return Math.max(0, Math.min(0xffffffff, Math.floor(b.stat(Stat.TASKS))));
    } catch {
      return 0;
    }
  }

  private sendMsg(m: Message, opts: { poll?: boolean } = {}): void {
    if (this.mode !== "framed" || !this.driver) return;
    this.ep.send(encodeMessage(m), opts);
    this.driver.kick();
  }

  private sendError(req: number, code: number, message: string): void {
    this.sendMsg({ type: "ERROR", req, code, message: te.encode(message) });
  }

  /** Offer held messages again soon (the board made room, or an async step finished). */
  private kickSoon(): void {
    if (this.retryTimer !== undefined || !this.driver) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.driver?.kick();
    }, 0);
  }

  /** Answer OK with POLL, then do `action` once it is acknowledged or after 1000 ms. */
  private okThen(req: number, value: number, action: () => void): void {
    this.sendMsg({ type: "OK", req, value }, { poll: true });
    this.linger = { until: this.timers.now() + LINGER_MS, action };
    const check = () => {
      this.lingerTimer = undefined;
      const l = this.linger;
      if (!l || this.closed) return;
      if (this.ep.allAcknowledged || this.timers.now() >= l.until) {
        this.linger = undefined;
        l.action();
        return;
      }
      this.lingerTimer = this.timers.setTimeout(check, 2);
    };
    this.lingerTimer = this.timers.setTimeout(check, 0);
  }

  private onEvent(e: EndpointEvent): void {
    switch (e.kind) {
      case "enter":
        this.startSession("enter");
        return;
      case "control":
        if (e.type === MsgType.INTERRUPT) this.onInterrupt(e.req);
        return;
      case "protocol":
        if (e.what === "interleaved") this.sendError(e.req, ErrorCode.MALFORMED, `${msgTypeName(e.type)} cut short after ${e.size} bytes by another message`);
        else this.sendError(e.req, ErrorCode.TOO_LARGE, `${msgTypeName(e.type)} of ${e.size} bytes is too large`);
        return;
      default:
        return;
    }
  }

  private onInterrupt(req: number): void {
    let found = 0;
    const held = this.ep.heldRequests(MsgType.EXEC);
    const board = this.board?.alive ? this.board : undefined;
    if (req === 0) {
      for (const h of held) this.interruptHeld.add(h);
      found += held.length;
      if (board) for (const r of board.pending()) if (board.interrupt(r)) found++;
    } else if (held.includes(req)) {
      this.interruptHeld.add(req);
      found = 1;
    } else {
      const r = this.linkToBoard.get(req);
      if (r !== undefined && board?.interrupt(r)) found = 1;
    }
    this.sendMsg({ type: "OK", req, value: found });
  }

  // =====================================================================================
  // Framed mode: messages

  /** A complete message from the host; false: not now (busy), offer it again later. */
  private onMessage(raw: RawMessage): boolean {
    if (this.busy) return false;
    if (!HOST_TO_BOARD.includes(raw.type) || raw.type === MsgType.INTERRUPT) {
      this.sendError(raw.req, ErrorCode.UNKNOWN_TYPE, `unknown message type ${msgTypeName(raw.type)}`);
      return true;
    }
    if (raw.type !== MsgType.EXEC && raw.payload.length > this.ep.maxPayload) {
      this.sendError(raw.req, ErrorCode.TOO_LARGE, `${msgTypeName(raw.type)} may not be sent in fragments`);
      return true;
    }
    let m: Message;
    try {
      m = decodeRaw(raw);
    } catch (e) {
      if (e instanceof MessageError) {
        this.sendError(raw.req, e.code, e.message);
        return true;
      }
      throw e;
    }
    switch (m.type) {
      case "EXEC":
        return this.onExec(m.req, m.proc, m.text);
      case "WATCH":
        this.onWatch(m.req, m.channel, m.topic, m.on);
        return true;
      case "PING":
        this.sendMsg({ type: "PONG", req: m.req, data: m.data });
        return true;
      case "GET_INFO":
        this.sendInfo(MsgType.INFO, m.req);
        return true;
      case "RESET": {
        const flags = m.flags;
        this.okThen(m.req, 0, () => {
          void this.reboot(BootReason.RESET, { safeMode: (flags & ResetFlag.SAFE_MODE) !== 0, framed: (flags & ResetFlag.TEXT_MODE) === 0 });
        });
        return true;
      }
      case "LEAVE":
        this.okThen(m.req, 0, () => this.leaveFramed("LEAVE"));
        return true;
      case "FLASH_BEGIN":
        this.onFlashBegin(m.req, m.size, m.crc, m.slot);
        return true;
      case "FLASH_DATA":
        this.onFlashData(m.req, m.offset, m.data);
        return true;
      case "FLASH_COMMIT":
        this.onFlashCommit(m.req, m.flags);
        return true;
      default:
        this.sendError(m.req, ErrorCode.UNKNOWN_TYPE, `unknown message type ${m.type}`);
        return true;
    }
  }

  private onExec(req: number, proc: number, text: Uint8Array): boolean {
    if (req < 1 || req > 0x7fffffff) {
      this.sendError(req, ErrorCode.BAD_REQ, `request id ${req} is outside 1..2^31-1`);
      return true;
    }
    if (this.linkToBoard.has(req)) {
      this.sendError(req, ErrorCode.BAD_REQ, `request id ${req} is already in use`);
      return true;
    }
    const board = this.board;
    if (!board || !board.alive) {
      this.sendError(req, ErrorCode.NO_IMAGE, "no image runs");
      return true;
    }
    if (this.interruptHeld.delete(req)) {
      this.sendMsg({ type: "RESULT", req, value: INTERRUPTED });
      return true;
    }
    if (board.backlogged > 0) {
      // the image's queue is full: keep the message (and everything behind it) in the
      // receive buffer; the credit falls and the host stops sending
      this.kickLater();
      return false;
    }
    const sub = board.submit(text, { processor: proc });
    this.linkToBoard.set(req, sub.req);
    this.boardToLink.set(sub.req, req);
    sub.result.catch((e: unknown) => {
      if (board !== this.board || this.boardToLink.get(sub.req) !== req) return;
      this.boardToLink.delete(sub.req);
      this.linkToBoard.delete(req);
      if (!(e instanceof BoardError)) return;
      if (e.code === "no-processor") this.sendError(req, ErrorCode.NO_PROCESSOR, `no processor ${proc} (the board has ${board.processors})`);
      else if (e.code === "out-of-memory") this.sendError(req, ErrorCode.OUT_OF_MEMORY, e.message);
      // closed, trap: the board goes away (reboot); the session goes with it
    });
    return true;
  }

  private kickLater(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.driver?.kick();
    }, 2);
  }

  private onWatch(req: number, channel: number, topic: number, on: boolean): void {
    const board = this.board;
    if (!board || !board.alive) {
      this.sendError(req, ErrorCode.NO_IMAGE, "no image runs");
      return;
    }
    if (channel < 1 || channel > 6 || topic < -1 || topic > 0xffff) {
      this.sendError(req, ErrorCode.BAD_ARGUMENT, `channel ${channel} or topic ${topic} out of range`);
      return;
    }
    try {
      board.watch(channel, topic === -1 ? "*" : topic, on);
    } catch (e) {
      if (e instanceof BoardError && e.code === "watch") {
        if (/full/.test(e.message)) this.sendError(req, ErrorCode.WATCH_FULL, e.message);
        else this.sendError(req, ErrorCode.BAD_ARGUMENT, e.message);
        return;
      }
      this.sendError(req, ErrorCode.INTERNAL, (e as Error).message);
      return;
    }
    const key = `${channel}:${topic}`;
    if (on) this.watches.set(key, { channel, topic });
    else this.watches.delete(key);
    this.sendMsg({ type: "OK", req, value: 0 });
  }

  // ---- image transfer ----

  private onFlashBegin(req: number, size: number, crc: number, slot: number): void {
    this.transfer = undefined;
    const target = slot === SLOT_INACTIVE ? (this.slot === SLOT_NONE ? 0 : 1 - this.slot) : slot;
    if (target !== 0 && target !== 1) {
      this.sendError(req, ErrorCode.FLASH_BAD_SLOT, `there is no slot ${slot}`);
      return;
    }
    if (target === this.slot) {
      this.sendError(req, ErrorCode.FLASH_BAD_SLOT, `slot ${target} is active`);
      return;
    }
    if (size > SLOT_SIZE) {
      this.sendError(req, ErrorCode.FLASH_TOO_LARGE, `image of ${size} bytes does not fit a ${SLOT_SIZE}-byte slot`);
      return;
    }
    this.transfer = { req, size, crc: crc >>> 0, slot: target, received: 0, erasedTo: 0, failed: false };
    this.sendMsg({ type: "OK", req, value: target });
  }

  private onFlashData(req: number, offset: number, data: Uint8Array): void {
    const t = this.transfer;
    if (!t || t.req !== req) {
      this.sendError(req, ErrorCode.FLASH_NO_TRANSFER, `no transfer ${req} in progress`);
      return;
    }
    if (t.failed) return; // one ERROR per transfer; the rest of its data is ignored
    const fail = (code: number, message: string) => {
      t.failed = true;
      this.sendError(req, code, message);
    };
    if (offset !== t.received || data.length === 0 || offset + data.length > t.size) {
      fail(ErrorCode.FLASH_BAD_OFFSET, `data at offset ${offset}, expected ${t.received} (size ${t.size})`);
      return;
    }
    const p = this.slots.partition(t.slot);
    try {
      const end = offset + data.length;
      if (end > t.erasedTo) {
        // erase lazily, as the data reaches each sector
        const to = Math.min(p.size, Math.ceil(end / SECTOR) * SECTOR);
        this.opts.flash.erase(p.offset + t.erasedTo, to - t.erasedTo);
        t.erasedTo = to;
      }
      this.opts.flash.write(p.offset + offset, data);
    } catch (e) {
      fail(ErrorCode.FLASH_WRITE, `flash: ${(e as Error).message}`);
      return;
    }
    t.received += data.length;
  }

  private onFlashCommit(req: number, flags: number): void {
    const t = this.transfer;
    this.transfer = undefined;
    if (!t || t.req !== req || t.failed) {
      this.sendError(req, ErrorCode.FLASH_NO_TRANSFER, t && t.req === req && t.failed ? `transfer ${req} failed` : `no transfer ${req} in progress`);
      return;
    }
    if (t.received !== t.size) {
      this.sendError(req, ErrorCode.FLASH_INCOMPLETE, `${t.received} of ${t.size} bytes received`);
      return;
    }
    const p = this.slots.partition(t.slot);
    let file: Uint8Array;
    try {
      file = this.opts.flash.read(p.offset, t.size);
    } catch (e) {
      this.sendError(req, ErrorCode.FLASH_WRITE, `flash: ${(e as Error).message}`);
      return;
    }
    const got = crc32(file);
    if (got !== t.crc) {
      this.sendError(req, ErrorCode.FLASH_BAD_CRC, `the slot reads back with CRC-32 ${hex8(got)}, FLASH_BEGIN said ${hex8(t.crc)}`);
      return;
    }
    let header: ImageHeader;
    let wasm: Uint8Array;
    try {
      ({ header, wasm } = checkImageFile(file));
    } catch (e) {
      if (e instanceof ImageRejected) this.sendError(req, e.code, e.message);
      else this.sendError(req, ErrorCode.INTERNAL, (e as Error).message);
      return;
    }
    // the engine check is asynchronous: hold the message stream until it is done
    this.busy = true;
    const driver = this.driver;
    void (async () => {
      try {
        const module = await compileWasm(wasm);
        await checkModule(module, kvScratchCopy(this.opts.flash));
      } catch (e) {
        if (this.driver !== driver) return;
        this.busy = false;
        if (e instanceof ImageRejected) this.sendError(req, e.code, e.message);
        else this.sendError(req, ErrorCode.IMAGE_REJECTED, (e as Error).message);
        this.kickSoon();
        return;
      }
      if (this.driver !== driver) return; // the session ended meanwhile: the slot stays unmarked
      this.busy = false;
      try {
        this.record = this.slots.markPending(t.slot, header.wasmCrc);
      } catch (e) {
        this.sendError(req, ErrorCode.FLASH_WRITE, `boot record: ${(e as Error).message}`);
        this.kickSoon();
        return;
      }
      this.diag(`flash: image ${hex8(header.wasmCrc)} (${t.size} bytes) written to slot ${t.slot}, on trial from the next boot`);
      this.opts.status?.({ kind: "flash", slot: t.slot, image: hex8(header.wasmCrc), size: t.size });
      if (flags & CommitFlag.NO_REBOOT) {
        this.sendMsg({ type: "OK", req, value: header.wasmCrc }, { poll: true });
        this.kickSoon();
        return;
      }
      this.okThen(req, header.wasmCrc, () => void this.reboot(BootReason.RESET, { framed: true }));
    })();
  }

  // =====================================================================================

  /** Stops everything: the link, the board. */
  close(): void {
    if (this.closed) return;
    this.dropSession();
    this.closed = true;
    this.board?.close();
    this.board = undefined;
  }
}

/** The rollback reason of a failure of VirtualBoard.create. */
function startFailureReason(e: unknown): number {
  if (e instanceof BoardError) {
    if (e.code === "load") return loadFailureReason(e.cause);
    if (e.code === "trap") return e.cause instanceof ImageError ? loadFailureReason(e.cause) : RollbackReason.TRAP;
    return RollbackReason.INIT; // out-of-memory (sxs_init -1/-2), limit
  }
  return RollbackReason.LOAD;
}
