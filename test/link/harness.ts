// Test harness: a host endpoint and a toy board endpoint joined by emulated wires, on a
// virtual clock. The toy board only models what the link needs (a bounded request
// queue that executes at a set rate, PING, GET_INFO, flash transfer); the real board
// side lives in host/board.
import { LinkEndpoint, type EndpointEvent } from "../../host/link/endpoint.js";
import { LinkDriver } from "../../host/link/driver.js";
import { VirtualTimers, Wire, type Timers, type WireOptions } from "../../host/link/emulator.js";
import { ENTER_SEQUENCE } from "../../host/link/deframer.js";
import { crc32 } from "../../host/link/crc32.js";
import { decodeRaw, encodeMessage, ErrorCode, type BoardInfo, type Message, type RawMessage } from "../../host/link/messages.js";
import type { SendWindowOptions } from "../../host/link/window.js";

export const te = new TextEncoder();
export const td = new TextDecoder();

export function boardInfo(session: number, o: Partial<BoardInfo> = {}): BoardInfo {
  return {
    proto: 1, bootReason: 0, activeSlot: 0, rollbackReason: 0, abiVersion: 1, maxPayload: 1024, rxWindow: 8192,
    processors: 1, stateFlags: 2, imageCrc: 0x12345678, failedCrc: 0, slotSize: 256 * 1024, maxInput: 16384,
    freeHeap: 50000, uptimeMs: 0, linkIdleMs: 30000, heapUsed: 0, wasmMemory: 65536, kvEntries: 0, queued: 0,
    badFrames: 0, retransmits: 0, session, firmware: "toy", ...o,
  };
}

export interface ToyBoardOptions {
  /** Requests the board can hold (queued + running). */
  queue?: number;
  /** Virtual ms per request (0: answered at once). */
  execMs?: number;
  rxCapacity?: number;
  window?: SendWindowOptions;
}

export class ToyBoard {
  readonly ep: LinkEndpoint;
  driver!: LinkDriver;
  private q: { req: number; text: Uint8Array }[] = [];
  private busy = false;
  session = 0;
  executed = new Map<number, number>(); // req -> times run
  maxQueued = 0;
  maxBuffered = 0;
  flash: { req: number; size: number; crc: number; data: Uint8Array; got: number; failed: boolean } | undefined;
  events: EndpointEvent[] = [];

  constructor(
    readonly timers: Timers,
    readonly opts: ToyBoardOptions = {},
  ) {
    this.ep = new LinkEndpoint({ role: "board", rxCapacity: opts.rxCapacity ?? 8192, window: opts.window ?? { txBuffer: 8192 } });
  }

  attach(write: (b: Uint8Array) => void): void {
    this.driver = new LinkDriver(this.ep, write, { onMessage: (m) => this.onMessage(m), onEvent: (e) => this.onEvent(e) }, this.timers);
  }

  input(b: Uint8Array): void {
    this.driver.input(b);
    this.maxBuffered = Math.max(this.maxBuffered, this.ep.rx.buffered);
  }

  send(m: Message): void {
    this.driver.send(encodeMessage(m));
  }

  private onEvent(e: EndpointEvent): void {
    this.events.push(e);
    if (e.kind === "enter") this.startSession();
    if (e.kind === "control") {
      // INTERRUPT: drop queued requests with that id and answer them
      const before = this.q.length;
      this.q = this.q.filter((r) => {
        if (e.req !== 0 && r.req !== e.req) return true;
        this.send({ type: "RESULT", req: r.req, value: te.encode('@"interrupted"') });
        return false;
      });
      this.send({ type: "OK", req: e.req, value: before - this.q.length });
    }
  }

  startSession(): void {
    this.ep.reset();
    this.q = [];
    this.session++;
    this.send({ type: "HELLO", req: 0, info: boardInfo(this.session) });
  }

  private onMessage(raw: RawMessage): boolean {
    const m = decodeRaw(raw);
    switch (m.type) {
      case "EXEC": {
        if (this.q.length >= (this.opts.queue ?? 1000)) return false;
        this.q.push({ req: m.req, text: m.text });
        this.maxQueued = Math.max(this.maxQueued, this.q.length);
        this.pump();
        return true;
      }
      case "PING":
        this.send({ type: "PONG", req: m.req, data: m.data });
        return true;
      case "GET_INFO":
        this.send({ type: "INFO", req: m.req, info: boardInfo(this.session) });
        return true;
      case "FLASH_BEGIN":
        this.flash = { req: m.req, size: m.size, crc: m.crc, data: new Uint8Array(m.size), got: 0, failed: false };
        this.send({ type: "OK", req: m.req, value: 1 });
        return true;
      case "FLASH_DATA": {
        const f = this.flash;
        if (!f || f.req !== m.req || f.failed) return true;
        if (m.offset !== f.got || m.offset + m.data.length > f.size) {
          f.failed = true;
          this.send({ type: "ERROR", req: m.req, code: ErrorCode.FLASH_BAD_OFFSET, message: te.encode(`offset ${m.offset}`) });
          return true;
        }
        f.data.set(m.data, m.offset);
        f.got += m.data.length;
        return true;
      }
      case "FLASH_COMMIT": {
        const f = this.flash;
        if (!f || f.req !== m.req) this.send({ type: "ERROR", req: m.req, code: ErrorCode.FLASH_NO_TRANSFER, message: new Uint8Array(0) });
        else if (f.got !== f.size) this.send({ type: "ERROR", req: m.req, code: ErrorCode.FLASH_INCOMPLETE, message: new Uint8Array(0) });
        else if (crc32(f.data) !== f.crc) this.send({ type: "ERROR", req: m.req, code: ErrorCode.FLASH_BAD_CRC, message: new Uint8Array(0) });
        else this.send({ type: "OK", req: m.req, value: f.crc });
        return true;
      }
      default:
        this.send({ type: "ERROR", req: m.req, code: ErrorCode.UNKNOWN_TYPE, message: new Uint8Array(0) });
        return true;
    }
  }

  private pump(): void {
    if (this.busy || this.q.length === 0) return;
    const run = () => {
      const r = this.q.shift();
      this.busy = false;
      if (r) {
        this.executed.set(r.req, (this.executed.get(r.req) ?? 0) + 1);
        this.send({ type: "RESULT", req: r.req, value: te.encode(`ok ${td.decode(r.text)}`) });
      }
      this.driver.kick(); // room in the queue: take the next message
      this.pump();
    };
    const ms = this.opts.execMs ?? 0;
    this.busy = true;
    this.timers.setTimeout(run, ms);
  }
}

export class ToyHost {
  readonly ep: LinkEndpoint;
  driver!: LinkDriver;
  results = new Map<number, string[]>();
  messages: Message[] = [];
  sessions: number[] = [];
  events: EndpointEvent[] = [];
  down = false;
  onMessage: ((m: Message) => void) | undefined;

  constructor(
    readonly timers: Timers,
    window?: SendWindowOptions,
  ) {
    this.ep = new LinkEndpoint({ role: "host", window });
  }

  attach(write: (b: Uint8Array) => void): void {
    this.write = write;
    this.driver = new LinkDriver(
      this.ep,
      write,
      {
        onMessage: (raw) => {
          const m = decodeRaw(raw);
          this.messages.push(m);
          if (m.type === "RESULT") {
            const l = this.results.get(m.req) ?? [];
            l.push(td.decode(m.value));
            this.results.set(m.req, l);
          }
          this.onMessage?.(m);
          return true;
        },
        onEvent: (e) => {
          this.events.push(e);
          if (e.kind === "session") this.sessions.push(e.session);
        },
        onDown: () => {
          this.down = true;
        },
      },
      this.timers,
    );
  }
  private write: (b: Uint8Array) => void = () => {};

  enter(): void {
    this.ep.reset();
    this.write(ENTER_SEQUENCE);
  }

  send(m: Message): void {
    this.driver.send(encodeMessage(m));
  }
}

/** A host and a toy board on a virtual line; `wire` options apply to both directions unless overridden. */
export function setup(o: { wire?: WireOptions; hostToBoard?: WireOptions; boardToHost?: WireOptions; board?: ToyBoardOptions; hostWindow?: SendWindowOptions } = {}) {
  const timers = new VirtualTimers();
  const host = new ToyHost(timers, { bytesPerMs: ((o.wire?.baud ?? 921600) / 10000), ...o.hostWindow });
  const board = new ToyBoard(timers, { ...o.board, window: { txBuffer: 8192, bytesPerMs: (o.wire?.baud ?? 921600) / 10000, ...o.board?.window } });
  const hb = new Wire({ ...o.wire, ...o.hostToBoard }, (b) => board.input(b), timers);
  const bh = new Wire({ ...o.wire, seed: (o.wire?.seed ?? 1) + 1000, ...o.boardToHost }, (b) => host.driver.input(b), timers);
  host.attach((b) => hb.write(b));
  board.attach((b) => bh.write(b));
  return { timers, host, board, hb, bh };
}

/** Open a session: ENTER, then run until the HELLO has arrived. */
export function connect(s: ReturnType<typeof setup>): void {
  s.host.enter();
  for (let i = 0; i < 20 && s.host.sessions.length === 0; i++) {
    s.timers.advance(s.timers.now() + 200);
    if (s.host.sessions.length === 0) s.host.enter();
  }
  if (s.host.sessions.length === 0) throw new Error("no HELLO");
}
