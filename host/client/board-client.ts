// The host side of the serial link (docs/link.md): open a board, switch it to framed
// mode, and talk to it: EXEC/RESULT, LOG, EVENT (WATCH), INFO, INTERRUPT, RESET, image
// transfer, LEAVE. One BoardClient is one tool's view of one board over one transport.

import { crc32 } from "../link/crc32.js";
import { ENTER_SEQUENCE } from "../link/deframer.js";
import { LinkDriver } from "../link/driver.js";
import { realTimers, type Timers } from "../link/emulator.js";
import { LinkEndpoint } from "../link/endpoint.js";
import { fragment } from "../link/fragment.js";
import { MAX_PAYLOAD } from "../link/frame.js";
import { decodeImageHeader, ImageError, verifyImage } from "../link/image-header.js";
import {
  BOARD_INFO_FIXED,
  BootReason,
  ErrorCode,
  MessageError,
  MsgType,
  PROTOCOL_VERSION,
  ResetFlag,
  SLOT_INACTIVE,
  decodeRaw,
  encodeMessage,
  type BoardInfo,
  type Message,
  type RawMessage,
} from "../link/messages.js";
import {
  BoardNotAnsweringError,
  BoardRefusedError,
  BoardResetError,
  ImageRejectedError,
  LinkClosedError,
  LinkError,
  TimeoutError,
} from "./errors.js";
import type { SendWindowOptions } from "../link/window.js";
import { openSerialTransport, type SerialOptions, type Transport } from "./transport.js";

const te = new TextEncoder();
const td = new TextDecoder();

/** HELLO/INFO, plus the optional fields a board may append after `firmware`. */
export interface BoardInfoEx extends BoardInfo {
  /**
   * Live tasks in the image (`sxs_stat(7)`), when the board appends it as a u32 right
   * after the firmware text. Protocol version 1 lets a board append fields there; the
   * host uses it to know the board is idle (see BoardClient.settle).
   */
  liveTasks?: number;
}

export interface ConnectOptions {
  /** How long to try to reach the board (ENTER, then HELLO; ENTER repeated each second). Default 5000 ms. */
  timeoutMs?: number;
  /** Default limit for control requests (INFO, WATCH, PING, RESET's OK...). Default 5000 ms. */
  requestTimeoutMs?: number;
  /** Send a PING when nothing was sent for this long, so that the board keeps the session. Default 10000 ms; 0: never. */
  keepAliveMs?: number;
  /** Real timers by default. */
  timers?: Timers;
  /** Retransmission settings of the host's send window (tests shorten them). */
  window?: SendWindowOptions;
}

export interface OpenBoardOptions extends SerialOptions, ConnectOptions {}

export interface FlashProgress {
  /** Bytes of the image the board has acknowledged. */
  bytes: number;
  total: number;
  /** Milliseconds since FLASH_BEGIN was sent. */
  elapsedMs: number;
  /** Bytes per second so far (0 until there is a measure). */
  rate: number;
  /** Estimated milliseconds to go (undefined until there is a measure). */
  etaMs: number | undefined;
  phase: "transfer" | "verify" | "reboot";
}

export interface FlashOptions {
  onProgress?: (p: FlashProgress) => void;
  /** Target slot (0, 1); default the inactive one. */
  slot?: number;
  /** Verify and mark the slot only; do not reboot into it (FLASH_COMMIT flags bit 0). */
  noReboot?: boolean;
  /** How long to wait for the board to come back after the commit (default HELLO deadline 5 s + 5 s). */
  rebootTimeoutMs?: number;
  /** Run the image checks of docs/link.md section 12 before sending (default true; false lets the board judge a bad file). */
  check?: boolean;
}

export interface FlashResult {
  /** The new image id (CRC-32 of its Wasm bytes), as the board reports it after the reboot. */
  hash: number;
  /** The slot the board now runs (or, with noReboot, the slot written). */
  slot: number;
  /** Image file bytes transferred. */
  bytes: number;
  /** Seconds from FLASH_BEGIN until the board had acknowledged every byte. */
  seconds: number;
  /** bytes / seconds. */
  rate: number;
  /** Seconds from FLASH_BEGIN until the commit was answered (the board's checks included). */
  commitSeconds: number;
  /** Seconds from FLASH_BEGIN until the new HELLO (undefined with noReboot). */
  totalSeconds: number | undefined;
  /** The HELLO of the new session (undefined with noReboot). */
  info: BoardInfoEx | undefined;
}

export interface BoardClientEvents {
  /** One log line (LOG). */
  log: (text: string, bytes: Uint8Array) => void;
  /** A watched event (EVENT): channel `A`..`F`. */
  event: (channel: string, topic: number, payload: string, bytes: Uint8Array) => void;
  /** Any RESULT (also of requests this client did not send, e.g. after a new session). */
  result: (req: number, text: string, bytes: Uint8Array) => void;
  /** A HELLO that started a new session after the first one (the board rebooted or another tool took over). */
  session: (info: BoardInfoEx) => void;
  /** An ERROR with no request of ours to fail (req 0, or unknown). */
  boardError: (code: number, message: string, req: number) => void;
  /** The link failed for good (board not answering, port gone); every request was failed with `error`. */
  failure: (error: LinkError) => void;
}

interface ExecPending {
  resolve: (text: string) => void;
  reject: (e: Error) => void;
  timer: unknown;
}

interface CtlPending {
  what: string;
  accept: readonly number[]; // message types that answer it
  resolve: (m: Message, raw: RawMessage) => void;
  reject: (e: Error) => void;
  timer: unknown;
  /** Not failed by a new session (RESET waits for it). */
  survivesSession?: boolean;
}

const CHANNELS = "ABCDEF";
const MAX_REQ = 0x7fffffff;
const HELLO_TRY_MS = 1000; // docs/link.md section 7
const INTERRUPT_REPEAT_MS = 300; // section 9.2
const INTERRUPT_TRIES = 5;
const HELLO_DEADLINE_MS = 5000; // section 13

export function channelNumber(channel: string | number): number {
  if (typeof channel === "number") return channel;
  const n = CHANNELS.indexOf(channel.toUpperCase()) + 1;
  if (channel.length !== 1 || n === 0) throw new RangeError(`invalid channel ${JSON.stringify(channel)} (A..F)`);
  return n;
}

export function channelLetter(n: number): string {
  return n >= 1 && n <= 6 ? CHANNELS[n - 1]! : `?${n}`;
}

/** Parses HELLO/INFO including the optional appended fields. */
export function decodeBoardInfoEx(info: BoardInfo, payload: Uint8Array): BoardInfoEx {
  const fwLen = payload[68] ?? 0;
  const ext = BOARD_INFO_FIXED + fwLen;
  const out: BoardInfoEx = { ...info };
  if (payload.length >= ext + 4) out.liveTasks = new DataView(payload.buffer, payload.byteOffset + ext, 4).getUint32(0, true);
  return out;
}

/** Opens the serial port at `path` and connects to the board there. */
export async function openBoard(path: string, opts: OpenBoardOptions = {}): Promise<BoardClient> {
  const transport = await openSerialTransport(path, opts);
  try {
    return await connectBoard(transport, opts);
  } catch (e) {
    await transport.close();
    throw e;
  }
}

/** Connects to a board over an open transport: ENTER until HELLO. */
export async function connectBoard(transport: Transport, opts: ConnectOptions = {}): Promise<BoardClient> {
  const c = new BoardClient(transport, opts);
  try {
    await c.connect();
  } catch (e) {
    c.dispose();
    throw e;
  }
  return c;
}

type Listeners = { [K in keyof BoardClientEvents]: Array<BoardClientEvents[K]> };

export class BoardClient {
  readonly transport: Transport;
  readonly endpoint: LinkEndpoint;
  readonly driver: LinkDriver;
  private readonly timers: Timers;
  private readonly timeoutMs: number;
  readonly requestTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly listeners: Listeners = { log: [], event: [], result: [], session: [], boardError: [], failure: [] };
  private readonly execs = new Map<number, ExecPending>();
  private readonly ctls = new Map<number, CtlPending>();
  private readonly interrupts = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void; timer: unknown; tries: number }>();
  private readonly special = new Map<number, (m: Message) => void>();
  private readonly sessionWaiters: Array<(info: BoardInfoEx) => void> = [];
  private readonly watches = new Map<string, number>(); // "ch:topic" -> subscriber count
  private readonly subscribers: Array<{ channel: number; topic: number; handler: (payload: string, bytes: Uint8Array, channel: string, topic: number) => void }> = [];
  private nextReq: number;
  private helloInfo: BoardInfoEx | undefined;
  private connected = false;
  private dead: LinkError | null = null;
  private closed = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private lastSend = 0;
  /** Message frames queued into the endpoint since the session started. */
  private framesQueued = 0;
  private ackListeners: Array<() => void> = [];
  /** Increases with every LOG, EVENT or RESULT received (for idle detection). */
  private outputCount = 0;
  peerMaxPayload = MAX_PAYLOAD;

  constructor(transport: Transport, opts: ConnectOptions = {}) {
    this.transport = transport;
    this.timers = opts.timers ?? realTimers;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
    this.keepAliveMs = opts.keepAliveMs ?? 10_000;
    // Random first id: requests of an earlier tool may still run in the image, and their
    // results come in the new session (docs/link.md section 7); ids must not collide.
    this.nextReq = 1 + Math.floor(Math.random() * 0x3fffffff);
    const bytesPerMs = Number.isFinite(transport.baud) ? transport.baud / 10 / 1000 : undefined;
    this.endpoint = new LinkEndpoint({ role: "host", window: { ...(bytesPerMs !== undefined ? { bytesPerMs } : {}), ...opts.window } });
    this.driver = new LinkDriver(
      this.endpoint,
      (b) => transport.write(b),
      {
        onMessage: (m) => this.onMessage(m),
        onDown: () =>
          this.fail(new BoardNotAnsweringError(`the board on ${transport.path} stopped answering (no acknowledgement after repeated retransmissions)`)),
      },
      this.timers,
    );
    transport.onData((b) => {
      this.driver.input(b);
      if (this.ackListeners.length > 0) for (const l of [...this.ackListeners]) l();
    });
    transport.onClose((err) => this.fail(err instanceof LinkError ? err : new LinkClosedError(err?.message)));
  }

  // ---- events --------------------------------------------------------------------------

  on<K extends keyof BoardClientEvents>(name: K, listener: BoardClientEvents[K]): this {
    this.listeners[name].push(listener);
    return this;
  }

  off<K extends keyof BoardClientEvents>(name: K, listener: BoardClientEvents[K]): this {
    const list = this.listeners[name] as Array<BoardClientEvents[K]>;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  private emit<K extends keyof BoardClientEvents>(name: K, ...args: Parameters<BoardClientEvents[K]>): void {
    for (const l of [...this.listeners[name]]) {
      try {
        (l as (...a: Parameters<BoardClientEvents[K]>) => void)(...args);
      } catch (e) {
        process.nextTick(() => {
          throw e;
        });
      }
    }
  }

  // ---- state ---------------------------------------------------------------------------

  /** The HELLO of the current session. */
  get hello(): BoardInfoEx {
    if (!this.helloInfo) throw new LinkClosedError("not connected");
    return this.helloInfo;
  }

  get processors(): number {
    return this.helloInfo?.processors ?? 1;
  }

  /** The failure that ended the link, if any. */
  get failure(): LinkError | null {
    return this.failureErr;
  }
  private failureErr: LinkError | null = null;

  get alive(): boolean {
    return !this.dead && !this.closed;
  }

  /** Ids of the EXEC requests not yet answered. */
  pending(): number[] {
    return [...this.execs.keys()];
  }

  private assertAlive(): void {
    if (this.dead) throw this.dead;
    if (this.closed) throw new LinkClosedError();
  }

  private allocReq(): number {
    for (;;) {
      const r = this.nextReq;
      this.nextReq = r >= MAX_REQ ? 1 : r + 1;
      if (!this.execs.has(r) && !this.ctls.has(r) && !this.special.has(r) && !this.interrupts.has(r)) return r;
    }
  }

  // ---- sending -------------------------------------------------------------------------

  /** Queues a message, fragmented to the board's max_payload. */
  private sendRaw(m: RawMessage): void {
    this.assertAlive();
    if (m.type <= 0x0f) {
      this.endpoint.send(m);
    } else {
      const frags = fragment(m, this.peerMaxPayload);
      for (const f of frags) this.endpoint.tx.enqueue(f);
      this.endpoint.stats.messagesOut++;
      this.framesQueued += frags.length;
    }
    this.lastSend = this.timers.now();
    this.driver.kick();
  }

  private send(m: Message): void {
    this.sendRaw(encodeMessage(m));
  }

  /** Message frames of this session the board has acknowledged. */
  private get framesAcked(): number {
    return this.framesQueued - this.endpoint.tx.pending;
  }

  // ---- session -------------------------------------------------------------------------

  /** ENTER until a HELLO opens a session (docs/link.md section 7). */
  async connect(): Promise<BoardInfoEx> {
    this.assertAlive();
    const start = this.timers.now();
    let tries = 0;
    for (;;) {
      tries++;
      const left = this.timeoutMs - (this.timers.now() - start);
      const wait = Math.max(1, Math.min(HELLO_TRY_MS, left));
      const got = new Promise<BoardInfoEx | undefined>((resolve) => {
        const timer = this.timers.setTimeout(() => {
          const i = this.sessionWaiters.indexOf(waiter);
          if (i >= 0) this.sessionWaiters.splice(i, 1);
          resolve(undefined);
        }, wait);
        const waiter = (info: BoardInfoEx) => {
          this.timers.clearTimeout(timer);
          resolve(info);
        };
        this.sessionWaiters.push(waiter);
      });
      this.endpoint.reset();
      this.framesQueued = 0;
      this.transport.write(ENTER_SEQUENCE);
      let info = await got;
      if (this.dead) throw this.dead;
      if (info) {
        if (tries > 1) {
          // An earlier ENTER may have been answered late: its HELLO came first, and the
          // HELLO of the latest ENTER (a new session) may still be on its way.
          await new Promise((r) => this.timers.setTimeout(() => r(undefined), 250));
          if (this.dead) throw this.dead;
          info = this.helloInfo!;
        }
        if (info.proto !== PROTOCOL_VERSION) {
          throw new LinkError(`the board speaks link protocol version ${info.proto}; this tool speaks version ${PROTOCOL_VERSION}`);
        }
        this.connected = true;
        this.startKeepAlive();
        return info;
      }
      if (this.timers.now() - start >= this.timeoutMs) {
        throw new BoardNotAnsweringError(
          `no answer from a board on ${this.transport.path} (${tries} tr${tries === 1 ? "y" : "ies"} in ${Math.round(this.timers.now() - start)} ms): ` +
            "is an sxs board connected, powered, and running its firmware? (wrong --baud? try --reset)",
        );
      }
    }
  }

  private startKeepAlive(): void {
    if (this.keepAliveMs <= 0 || this.keepAliveTimer) return;
    this.lastSend = this.timers.now();
    const tick = Math.min(1000, this.keepAliveMs);
    this.keepAliveTimer = setInterval(() => {
      if (!this.alive || !this.connected) return;
      if (this.timers.now() - this.lastSend >= this.keepAliveMs) {
        try {
          this.send({ type: "PING", req: this.allocReq(), data: new Uint8Array(0) });
        } catch {
          /* reported by fail() */
        }
      }
    }, tick);
    this.keepAliveTimer.unref();
  }

  // ---- receiving -----------------------------------------------------------------------

  private onMessage(raw: RawMessage): boolean {
    let m: Message;
    try {
      m = decodeRaw(raw);
    } catch (e) {
      if (e instanceof MessageError) return true; // unknown or malformed: ignored (section 8)
      throw e;
    }
    switch (m.type) {
      case "HELLO":
        this.onHello(decodeBoardInfoEx(m.info, raw.payload));
        return true;
      case "RESULT": {
        this.outputCount++;
        const text = td.decode(m.value);
        this.emit("result", m.req, text, m.value);
        const p = this.execs.get(m.req);
        if (p) {
          this.execs.delete(m.req);
          if (p.timer !== undefined) this.timers.clearTimeout(p.timer);
          p.resolve(text);
        }
        return true;
      }
      case "LOG":
        this.outputCount++;
        this.emit("log", td.decode(m.text), m.text);
        return true;
      case "EVENT": {
        this.outputCount++;
        const ch = channelLetter(m.channel);
        const payload = td.decode(m.data);
        this.emit("event", ch, m.topic, payload, m.data);
        for (const s of [...this.subscribers]) {
          if (s.channel === m.channel && (s.topic === -1 || s.topic === m.topic)) {
            try {
              s.handler(payload, m.data, ch, m.topic);
            } catch (e) {
              process.nextTick(() => {
                throw e;
              });
            }
          }
        }
        return true;
      }
      case "OK": {
        const i = this.interrupts.get(m.req);
        if (i) {
          this.interrupts.delete(m.req);
          this.timers.clearTimeout(i.timer);
          i.resolve(m.value);
          return true;
        }
        break;
      }
      case "ERROR": {
        const e = this.execs.get(m.req);
        if (e) {
          this.execs.delete(m.req);
          if (e.timer !== undefined) this.timers.clearTimeout(e.timer);
          e.reject(new BoardRefusedError(m.code, td.decode(m.message), `request ${m.req}`));
          return true;
        }
        break;
      }
      default:
        break;
    }
    const sp = this.special.get(m.req);
    if (sp && (m.type === "OK" || m.type === "ERROR")) {
      sp(m);
      return true;
    }
    const c = this.ctls.get(m.req);
    if (c && (c.accept.includes(MsgType[m.type]) || m.type === "ERROR")) {
      this.ctls.delete(m.req);
      if (c.timer !== undefined) this.timers.clearTimeout(c.timer);
      if (m.type === "ERROR") c.reject(new BoardRefusedError(m.code, td.decode(m.message), c.what));
      else c.resolve(m, raw);
      return true;
    }
    if (m.type === "ERROR") this.emit("boardError", m.code, td.decode(m.message), m.req);
    return true;
  }

  private onHello(info: BoardInfoEx): void {
    const fresh = this.helloInfo === undefined || info.session !== this.helloInfo.session;
    this.helloInfo = info;
    this.peerMaxPayload = Math.max(1, Math.min(MAX_PAYLOAD, info.maxPayload || MAX_PAYLOAD));
    if (!fresh) return;
    // The endpoint reset its windows for the new session.
    this.framesQueued = 0;
    const waiters = this.sessionWaiters.splice(0);
    if (this.connected) {
      // The board restarted the session: requests still unanswered are failed, not resent
      // (they may have run).
      const err = new BoardResetError();
      for (const [req, p] of this.execs) {
        if (p.timer !== undefined) this.timers.clearTimeout(p.timer);
        this.execs.delete(req);
        p.reject(err);
      }
      for (const [req, c] of this.ctls) {
        if (c.survivesSession) continue;
        if (c.timer !== undefined) this.timers.clearTimeout(c.timer);
        this.ctls.delete(req);
        c.reject(err);
      }
      for (const [req, i] of this.interrupts) {
        this.timers.clearTimeout(i.timer);
        this.interrupts.delete(req);
        i.resolve(0);
      }
      // Watches belong to the session: ask again.
      for (const key of this.watches.keys()) {
        const [ch, topic] = key.split(":").map(Number) as [number, number];
        try {
          this.send({ type: "WATCH", req: this.allocReq(), channel: ch, on: true, topic });
        } catch {
          /* reported by fail() */
        }
      }
      this.emit("session", info);
    }
    for (const w of waiters) w(info);
  }

  private fail(err: LinkError, emit = true): void {
    if (this.dead || this.closed) return;
    this.dead = err;
    this.stopTimers();
    for (const p of this.execs.values()) {
      if (p.timer !== undefined) this.timers.clearTimeout(p.timer);
      p.reject(err);
    }
    this.execs.clear();
    for (const c of this.ctls.values()) {
      if (c.timer !== undefined) this.timers.clearTimeout(c.timer);
      c.reject(err);
    }
    this.ctls.clear();
    for (const i of this.interrupts.values()) {
      this.timers.clearTimeout(i.timer);
      i.reject(err);
    }
    this.interrupts.clear();
    for (const l of [...this.ackListeners]) l(); // a flash or a reset in progress sees `dead`
    this.special.clear();
    if (emit) {
      this.failureErr = err;
      this.emit("failure", err);
    }
  }

  private stopTimers(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    this.driver.close();
  }

  // ---- requests ------------------------------------------------------------------------

  /** Sends a control request and waits for its answer (one of `accept`, or ERROR). */
  private request(
    m: Message,
    accept: readonly number[],
    what: string,
    opts: { timeoutMs?: number; survivesSession?: boolean } = {},
  ): Promise<{ m: Message; raw: RawMessage }> {
    this.assertAlive();
    return new Promise<{ m: Message; raw: RawMessage }>((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.requestTimeoutMs;
      const c: CtlPending = { what, accept, resolve: (m, raw) => resolve({ m, raw }), reject, timer: undefined, survivesSession: opts.survivesSession };
      if (ms > 0 && Number.isFinite(ms)) {
        c.timer = this.timers.setTimeout(() => {
          this.ctls.delete(m.req);
          reject(new TimeoutError(what, ms));
        }, ms);
      }
      this.ctls.set(m.req, c);
      try {
        this.send(m);
      } catch (e) {
        this.ctls.delete(m.req);
        if (c.timer !== undefined) this.timers.clearTimeout(c.timer);
        reject(e);
      }
    });
  }

  /** Submits SLP text (EXEC) and returns its request id and its printed result. */
  submit(text: string | Uint8Array, opts: { processor?: number; timeoutMs?: number } = {}): { req: number; result: Promise<string> } {
    const bytes = typeof text === "string" ? te.encode(text) : text;
    if (this.dead || this.closed) return { req: 0, result: Promise.reject(this.dead ?? new LinkClosedError()) };
    const req = this.allocReq();
    const result = new Promise<string>((resolve, reject) => {
      const p: ExecPending = { resolve, reject, timer: undefined };
      const ms = opts.timeoutMs;
      if (ms !== undefined && ms > 0) {
        p.timer = this.timers.setTimeout(() => {
          this.execs.delete(req);
          reject(new TimeoutError(`request ${req}`, ms));
        }, ms);
      }
      this.execs.set(req, p);
    });
    try {
      this.send({ type: "EXEC", req, proc: opts.processor ?? 0, textLength: bytes.length, text: bytes });
    } catch (e) {
      const p = this.execs.get(req);
      this.execs.delete(req);
      p?.reject(e as Error);
    }
    return { req, result };
  }

  /** Runs SLP text on the board and resolves with the canonical print of its value. */
  exec(text: string | Uint8Array, opts: { processor?: number; timeoutMs?: number } = {}): Promise<string> {
    return this.submit(text, opts).result;
  }

  /**
   * INTERRUPT request `req` (0 or omitted: every unanswered request on the board). A
   * control frame, repeated every 300 ms until the board's OK (5 tries). Resolves with
   * the number of requests the board found.
   */
  interrupt(req = 0): Promise<number> {
    this.assertAlive();
    const prev = this.interrupts.get(req);
    if (prev) {
      this.timers.clearTimeout(prev.timer);
      this.interrupts.delete(req);
    }
    return new Promise<number>((resolve, reject) => {
      const entry = { resolve, reject, timer: undefined as unknown, tries: 0 };
      const fire = () => {
        if (!this.alive) return;
        if (entry.tries >= INTERRUPT_TRIES) {
          this.interrupts.delete(req);
          reject(new TimeoutError(`INTERRUPT ${req}`, INTERRUPT_TRIES * INTERRUPT_REPEAT_MS));
          return;
        }
        entry.tries++;
        try {
          this.sendRaw({ type: MsgType.INTERRUPT, req, payload: new Uint8Array(0) });
        } catch (e) {
          this.interrupts.delete(req);
          reject(e as Error);
          return;
        }
        entry.timer = this.timers.setTimeout(fire, INTERRUPT_REPEAT_MS);
      };
      this.interrupts.set(req, entry);
      fire();
    });
  }

  /** GET_INFO: the board's description now. */
  async info(opts: { timeoutMs?: number } = {}): Promise<BoardInfoEx> {
    const { m, raw } = await this.request({ type: "GET_INFO", req: this.allocReq() }, [MsgType.INFO], "GET_INFO", opts);
    if (m.type !== "INFO") throw new LinkError("unexpected answer to GET_INFO");
    return decodeBoardInfoEx(m.info, raw.payload);
  }

  /** PING: resolves with the round-trip time in ms. */
  async ping(data: Uint8Array = new Uint8Array(0), opts: { timeoutMs?: number } = {}): Promise<number> {
    const t0 = this.timers.now();
    await this.request({ type: "PING", req: this.allocReq(), data }, [MsgType.PONG], "PING", opts);
    return this.timers.now() - t0;
  }

  /** WATCH on or off for `channel` (A..F) and `topic` (0..65535, or "*" / -1 for every topic). */
  async watch(channel: string | number, topic: number | "*", on = true): Promise<void> {
    const ch = channelNumber(channel);
    const t = topic === "*" ? -1 : topic;
    if (!Number.isInteger(t) || t < -1 || t > 65535) throw new RangeError(`invalid topic ${topic} (0..65535 or *)`);
    const key = `${ch}:${t}`;
    await this.request({ type: "WATCH", req: this.allocReq(), channel: ch, on, topic: t }, [MsgType.OK], `WATCH ${channelLetter(ch)}/${topic}`);
    if (on) this.watches.set(key, Math.max(1, this.watches.get(key) ?? 0));
    else this.watches.delete(key);
  }

  /**
   * Calls `handler` for every event on `channel`/`topic` ("*": every topic). Returns a
   * function that ends the subscription (the WATCH is turned off when its last
   * subscriber goes).
   */
  async subscribe(
    channel: string | number,
    topic: number | "*",
    handler: (payload: string, bytes: Uint8Array, channel: string, topic: number) => void,
  ): Promise<() => Promise<void>> {
    const ch = channelNumber(channel);
    const t = topic === "*" ? -1 : topic;
    const key = `${ch}:${t}`;
    const count = this.watches.get(key) ?? 0;
    // the handler first: the board may send an event right behind the WATCH's OK, in
    // the same read, before the await below resumes
    const sub = { channel: ch, topic: t, handler };
    this.subscribers.push(sub);
    if (count === 0) {
      try {
        await this.watch(ch, t, true);
      } catch (e) {
        const i = this.subscribers.indexOf(sub);
        if (i >= 0) this.subscribers.splice(i, 1);
        throw e;
      }
    }
    this.watches.set(key, (this.watches.get(key) ?? 0) + (count === 0 ? 0 : 1));
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const i = this.subscribers.indexOf(sub);
      if (i >= 0) this.subscribers.splice(i, 1);
      const n = (this.watches.get(key) ?? 1) - 1;
      if (n > 0) this.watches.set(key, n);
      else if (this.alive) await this.watch(ch, t, false);
      else this.watches.delete(key);
    };
  }

  /** Waits for the next new session (a HELLO with a new session number). */
  private nextSession(ms: number, what: string): { promise: Promise<BoardInfoEx>; cancel: () => void } {
    let cancel!: () => void;
    const promise = new Promise<BoardInfoEx>((resolve, reject) => {
      const waiter = (info: BoardInfoEx) => {
        cancel();
        resolve(info);
      };
      const onDead = () => {
        if (!this.dead) return;
        cancel();
        reject(this.dead);
      };
      const timer = this.timers.setTimeout(() => {
        cancel();
        reject(new BoardNotAnsweringError(`${what}: the board did not come back within ${ms} ms`));
      }, ms);
      cancel = () => {
        this.timers.clearTimeout(timer);
        const i = this.sessionWaiters.indexOf(waiter);
        if (i >= 0) this.sessionWaiters.splice(i, 1);
        const j = this.ackListeners.indexOf(onDead);
        if (j >= 0) this.ackListeners.splice(j, 1);
      };
      this.sessionWaiters.push(waiter);
      this.ackListeners.push(onDead);
    });
    return { promise, cancel };
  }

  /**
   * Soft RESET (section 9.6); resolves with the HELLO of the new session. With `textMode`
   * the board comes back in text mode and this client is closed.
   */
  async reset(opts: { safeMode?: boolean; textMode?: boolean; timeoutMs?: number } = {}): Promise<BoardInfoEx | undefined> {
    this.assertAlive();
    const flags = (opts.safeMode ? ResetFlag.SAFE_MODE : 0) | (opts.textMode ? ResetFlag.TEXT_MODE : 0);
    const back = opts.textMode ? undefined : this.nextSession(opts.timeoutMs ?? HELLO_DEADLINE_MS + 5000, "RESET");
    back?.promise.catch(() => {});
    const req = this.allocReq();
    try {
      const ok = this.request({ type: "RESET", req, flags }, [MsgType.OK], "RESET", { survivesSession: true });
      if (!back) {
        await ok;
        await this.dispose();
        return undefined;
      }
      // The OK may be lost and the board reboot anyway (after 1000 ms): the new HELLO is what counts.
      ok.catch(() => {});
      const info = await back.promise;
      const c = this.ctls.get(req);
      if (c) {
        this.ctls.delete(req);
        if (c.timer !== undefined) this.timers.clearTimeout(c.timer);
      }
      return info;
    } catch (e) {
      back?.cancel();
      throw e;
    }
  }

  /**
   * Waits until the board is idle: nothing queued, no live task (so no timer pending), and
   * every LOG and EVENT that the work produced received. How: GET_INFO round trips. INFO
   * is sent by the board between runs of the image and travels in order behind every LOG,
   * EVENT and RESULT sent before it, so an INFO that says `queued` 0 and (when the board
   * reports it) `liveTasks` 0 means everything has arrived. A board that does not append
   * `liveTasks` cannot show tasks that wait for a timer: then the board counts as idle
   * when two INFOs `quietMs` apart both say `queued` 0 and nothing arrived between them.
   * With `background`, that many live tasks (those that lived before the work waited
   * for: a loop, a handler waiting on a timer) do not count as busy.
   */
  async settle(opts: { quietMs?: number; pollMs?: number; timeoutMs?: number; background?: number } = {}): Promise<void> {
    const background = opts.background ?? 0;
    const quietMs = opts.quietMs ?? 150;
    const limit = opts.timeoutMs ?? Infinity;
    const start = this.timers.now();
    let pollMs = opts.pollMs ?? 2;
    let quietSince: { at: number; output: number } | undefined;
    for (;;) {
      const before = this.outputCount;
      const info = await this.info();
      const busy = info.queued > 0 || (info.liveTasks ?? 0) > background;
      if (!busy) {
        if (info.liveTasks !== undefined) return;
        if (quietSince && quietSince.output === before && this.outputCount === before && this.timers.now() - quietSince.at >= quietMs) return;
        if (!quietSince || quietSince.output !== this.outputCount) quietSince = { at: this.timers.now(), output: this.outputCount };
      } else {
        quietSince = undefined;
      }
      if (this.timers.now() - start > limit) throw new TimeoutError("waiting for the board to be idle", limit);
      const wait = !busy && info.liveTasks === undefined ? Math.max(pollMs, quietMs - (this.timers.now() - quietSince!.at)) : pollMs;
      await new Promise((r) => this.timers.setTimeout(() => r(undefined), wait));
      pollMs = Math.min(50, pollMs * 2);
    }
  }

  /**
   * Writes `image` (an image file: header + Wasm) into the inactive slot, commits it and
   * waits for the board to come back running it (docs/link.md section 11).
   */
  async flash(image: Uint8Array, opts: FlashOptions = {}): Promise<FlashResult> {
    this.assertAlive();
    const hello = this.hello;
    let expected: number | undefined;
    if (opts.check !== false) {
      try {
        expected = verifyImage(image, hello.abiVersion).header.wasmCrc;
      } catch (e) {
        if (e instanceof ImageError) throw new ImageRejectedError(e.code, e.message.replace(/^image: /, ""), "local");
        throw e;
      }
      if (hello.slotSize > 0 && image.length > hello.slotSize)
        throw new ImageRejectedError(ErrorCode.FLASH_TOO_LARGE, `${image.length} bytes; a slot holds ${hello.slotSize}`, "local");
    } else {
      try {
        expected = decodeImageHeader(image).wasmCrc;
      } catch {
        expected = undefined; // the board will say what is wrong
      }
    }
    const total = image.length;
    const chunk = Math.max(1, this.peerMaxPayload - 4);
    const req = this.allocReq();
    const t0 = this.timers.now();
    const progress = (bytes: number, phase: FlashProgress["phase"]) => {
      if (!opts.onProgress) return;
      const elapsedMs = this.timers.now() - t0;
      const rate = elapsedMs > 0 && bytes > 0 ? (bytes * 1000) / elapsedMs : 0;
      opts.onProgress({ bytes, total, elapsedMs, rate, etaMs: rate > 0 ? ((total - bytes) * 1000) / rate : undefined, phase });
    };

    return await new Promise<FlashResult>((resolve, reject) => {
      let oks = 0;
      let offset = 0;
      let finished = false;
      let committed = false;
      let tAcked: number | undefined;
      let tCommit: number | undefined;
      let lastReported = -1;
      const dataFrames: Array<{ index: number; end: number }> = []; // frame index (1-based within session) -> bytes done
      let session = this.helloInfo!.session;
      let back: ReturnType<BoardClient["nextSession"]> | undefined;

      const finish = (err: Error | null, result?: FlashResult) => {
        if (finished) return;
        finished = true;
        this.special.delete(req);
        this.off("session", onSession);
        const i = this.ackListeners.indexOf(onAck);
        if (i >= 0) this.ackListeners.splice(i, 1);
        if (err) {
          back?.cancel();
          reject(err);
        } else resolve(result!);
      };

      const ackedBytes = (): number => {
        if (this.helloInfo!.session !== session) return 0;
        const acked = this.framesAcked;
        let done = 0;
        while (dataFrames.length > 0 && dataFrames[0]!.index <= acked) done = dataFrames.shift()!.end;
        return done;
      };
      let doneBytes = 0;

      const pump = () => {
        if (finished) return;
        if (this.dead) return finish(this.dead);
        doneBytes = Math.max(doneBytes, ackedBytes());
        if (doneBytes !== lastReported && tCommit === undefined) {
          lastReported = doneBytes;
          progress(doneBytes, doneBytes < total ? "transfer" : "verify");
        }
        if (doneBytes === total && tAcked === undefined) tAcked = this.timers.now();
        // Keep a bounded amount queued in the endpoint (the window paces what goes out).
        while (offset < total && this.endpoint.tx.pending < 48) {
          const end = Math.min(offset + chunk, total);
          this.send({ type: "FLASH_DATA", req, offset, data: image.subarray(offset, end) });
          dataFrames.push({ index: this.framesQueued, end });
          offset = end;
        }
        if (offset === total && !committed) {
          committed = true;
          this.send({ type: "FLASH_COMMIT", req, flags: opts.noReboot ? 1 : 0 });
          // After this point the board may reboot at any time: wait for the HELLO.
          if (!opts.noReboot) {
            back = this.nextSession(opts.rebootTimeoutMs ?? HELLO_DEADLINE_MS + 5000 + this.requestTimeoutMs, "flash");
            back.promise.then(onBack, (e) => finish(e));
          }
        }
      };
      const onAck = () => pump();
      const onSession = () => {
        if (!committed) finish(new BoardResetError("the board started a new session during the transfer; the image was not committed"));
      };
      this.on("session", onSession);

      const onBack = (info: BoardInfoEx) => {
        const now = this.timers.now();
        if (info.bootReason === BootReason.ROLLBACK || (expected !== undefined && info.imageCrc !== expected)) {
          const why = ROLLBACK_REASONS[info.rollbackReason] ?? `reason ${info.rollbackReason}`;
          finish(
            new ImageRejectedError(
              ErrorCode.IMAGE_REJECTED,
              info.bootReason === BootReason.ROLLBACK
                ? `image ${hex8(info.failedCrc || expected || 0)} failed (${why}); the board rolled back to slot ${info.activeSlot}, image ${hex8(info.imageCrc)}`
                : `the board came back with image ${hex8(info.imageCrc)}, not ${hex8(expected ?? 0)} (boot reason ${info.bootReason})`,
              "rollback",
            ),
          );
          return;
        }
        const seconds = ((tAcked ?? tCommit ?? now) - t0) / 1000;
        if (tCommit === undefined) progress(total, "reboot"); // the commit's OK was lost: say it now
        finish(null, {
          hash: info.imageCrc,
          slot: info.activeSlot,
          bytes: total,
          seconds,
          rate: seconds > 0 ? total / seconds : Infinity,
          commitSeconds: ((tCommit ?? now) - t0) / 1000,
          totalSeconds: (now - t0) / 1000,
          info,
        });
      };

      this.special.set(req, (m) => {
        if (m.type === "ERROR") {
          const detail = td.decode(m.message);
          const e =
            m.code >= ErrorCode.FLASH_BAD_SLOT && m.code <= ErrorCode.IMAGE_REJECTED
              ? new ImageRejectedError(m.code, detail, "board")
              : new BoardRefusedError(m.code, detail, "flash");
          finish(e);
          return;
        }
        if (m.type !== "OK") return;
        oks++;
        if (oks === 1) {
          session = this.helloInfo!.session;
          return; // FLASH_BEGIN accepted: value = the slot being written
        }
        // The commit's answer acknowledges every byte (its ACK may come in the same read).
        if (lastReported !== total) {
          lastReported = total;
          progress(total, "verify");
        }
        tCommit = this.timers.now();
        if (tAcked === undefined) tAcked = tCommit;
        if (opts.noReboot) {
          const seconds = (tAcked - t0) / 1000;
          finish(null, {
            hash: m.value,
            slot: opts.slot ?? 1 - this.helloInfo!.activeSlot,
            bytes: total,
            seconds,
            rate: seconds > 0 ? total / seconds : Infinity,
            commitSeconds: (tCommit - t0) / 1000,
            totalSeconds: undefined,
            info: undefined,
          });
        } else progress(total, "reboot");
      });
      this.ackListeners.push(onAck);
      try {
        this.send({ type: "FLASH_BEGIN", req, size: total, crc: crc32(image), slot: opts.slot ?? SLOT_INACTIVE });
        pump();
      } catch (e) {
        finish(e as Error);
      }
    });
  }

  /**
   * LEAVE: the board goes back to text mode (section 9.8); then the port is closed.
   * Unanswered requests are failed with LinkClosedError.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.alive && this.connected) {
      // Let what is unacknowledged go out first (bounded).
      const until = this.timers.now() + 1000;
      while (!this.endpoint.allAcknowledged && this.timers.now() < until && this.alive) await new Promise((r) => setTimeout(r, 5));
      if (this.alive) {
        try {
          await this.request({ type: "LEAVE", req: this.allocReq() }, [MsgType.OK], "LEAVE", { timeoutMs: 1500 });
        } catch {
          /* the board will fall back to text mode after link_idle_ms anyway */
        }
      }
    }
    await this.dispose();
  }

  /** Closes the port without LEAVE. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    if (!this.dead) this.fail(new LinkClosedError("the link was closed"), false);
    this.closed = true;
    this.stopTimers();
    try {
      await this.transport.drain();
    } catch {
      /* closing anyway */
    }
    await this.transport.close();
  }
}

const ROLLBACK_REASONS: Record<number, string> = {
  1: "it trapped at start-up",
  2: "it was not up within the HELLO deadline",
  3: "the slot's CRC was wrong at boot",
  4: "the engine refused the module",
  5: "sxs_init failed or the ABI differs",
};

export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
