// One side of a framed session (docs/link.md section 5): the deframer, both windows,
// fragmentation and reassembly wired together. Poll-driven and clock-injected like
// window.ts: feed it received bytes with `receive`, queue messages with `send`, take the
// bytes to write with `flush`, and call `flush` again at `nextDeadline()`. It knows no
// message semantics except that a HELLO with sequence number 0 and a new session number
// opens a new session (host role).

import { Deframer, type DropReason } from "./deframer.js";
import { encodeFrame, FLAG_MORE, FLAG_POLL, frameCost, isControlType, MAX_PAYLOAD, type Frame } from "./frame.js";
import { fragment, Reassembler, type Fragment } from "./fragment.js";
import { BOARD_INFO_SESSION_OFFSET, MsgType, type RawMessage } from "./messages.js";
import { ReceiveWindow, SendWindow, type SendWindowOptions } from "./window.js";

export type Role = "host" | "board";

export interface EndpointOptions {
  role: Role;
  /** Receive buffer in bytes of frame cost; default 65535 (host) or 8192 (board). */
  rxCapacity?: number;
  maxPayload?: number;
  /** Largest reassembled message accepted (default 16 MiB). */
  maxMessage?: number;
  window?: SendWindowOptions;
  nakRepeat?: number;
  ackDelay?: number;
}

export type EndpointEvent =
  | { kind: "enter" } // the ENTER sequence arrived (board: start a session)
  | { kind: "session"; session: number } // host: a HELLO opened a new session; state was reset
  | { kind: "control"; type: number; req: number } // an INTERRUPT (acts at once, out of order)
  | { kind: "drop"; reason: DropReason }
  | { kind: "protocol"; what: "interleaved" | "too-large"; type: number; req: number; size: number; head?: Uint8Array };

export interface EndpointStats {
  framesIn: number;
  framesOut: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

export class LinkEndpoint {
  readonly role: Role;
  readonly maxPayload: number;
  readonly deframer: Deframer;
  tx: SendWindow;
  rx: ReceiveWindow;
  private reasm: Reassembler;
  private readonly opts: EndpointOptions;
  private inbox: { frag: Fragment; cost: number }[] = [];
  private ready: RawMessage | undefined; // complete message the application refused (busy)
  private controlOut: { type: number; req: number; flags: number }[] = [];
  private events: EndpointEvent[] = [];
  /** Host role: frames are ignored until a HELLO opens a session. */
  awaitingHello: boolean;
  session: number | undefined;
  readonly stats: EndpointStats = { framesIn: 0, framesOut: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };

  constructor(opts: EndpointOptions) {
    this.opts = opts;
    this.role = opts.role;
    this.maxPayload = opts.maxPayload ?? MAX_PAYLOAD;
    this.deframer = new Deframer({ maxPayload: this.maxPayload });
    this.tx = new SendWindow(opts.window);
    this.rx = this.newRx();
    this.reasm = new Reassembler({ maxMessage: opts.maxMessage });
    this.awaitingHello = opts.role === "host";
  }

  private newRx(): ReceiveWindow {
    return new ReceiveWindow({
      capacity: this.opts.rxCapacity ?? (this.role === "host" ? 0xffff : 8192),
      nakRepeat: this.opts.nakRepeat,
      ackDelay: this.opts.ackDelay,
    });
  }

  /**
   * Start a new session: forget every queued, unacknowledged and partly received
   * message. The host calls it when it sends ENTER (then waits for HELLO); the board
   * when it receives ENTER (then sends HELLO).
   */
  reset(): void {
    this.tx = new SendWindow(this.opts.window);
    this.rx = this.newRx();
    this.reasm = new Reassembler({ maxMessage: this.opts.maxMessage });
    this.inbox = [];
    this.ready = undefined;
    this.controlOut = [];
    this.deframer.reset();
    this.awaitingHello = this.role === "host";
    this.session = undefined;
  }

  /**
   * Queue a message: control types go out unsequenced, others are fragmented and
   * windowed. With `poll`, the last fragment carries the POLL flag so that the peer
   * acknowledges it at once (the board does this for the OK that answers LEAVE, RESET
   * and FLASH_COMMIT, then waits for `allAcknowledged`).
   */
  send(m: RawMessage, opts: { poll?: boolean } = {}): void {
    this.stats.messagesOut++;
    if (isControlType(m.type)) {
      this.controlOut.push({ type: m.type, req: m.req, flags: opts.poll ? FLAG_POLL : 0 });
      return;
    }
    const frags = fragment(m, this.maxPayload);
    if (opts.poll) frags[frags.length - 1]!.flags |= FLAG_POLL;
    for (const f of frags) this.tx.enqueue(f);
  }

  /** Every message frame sent so far has been acknowledged by the peer. */
  get allAcknowledged(): boolean {
    return this.tx.pending === 0;
  }

  /**
   * Request ids of messages of `type` received but not yet taken by the application
   * (held back by backpressure). The board uses it to carry out an INTERRUPT on EXECs
   * still waiting in its receive buffer.
   */
  heldRequests(type: number): number[] {
    const out: number[] = [];
    if (this.ready && this.ready.type === type) out.push(this.ready.req);
    for (const e of this.inbox) if (e.frag.type === type && !out.includes(e.frag.req)) out.push(e.frag.req);
    return out;
  }

  /** Feed received bytes. Returns what happened besides message delivery. */
  receive(bytes: Uint8Array, now: number): EndpointEvent[] {
    for (const ev of this.deframer.feed(bytes)) {
      if (ev.kind === "enter") this.events.push({ kind: "enter" });
      else if (ev.kind === "drop") this.events.push({ kind: "drop", reason: ev.reason });
      else this.onFrame(ev.frame, now);
    }
    const out = this.events;
    this.events = [];
    return out;
  }

  private onFrame(f: Frame, now: number): void {
    this.stats.framesIn++;
    if (this.role === "host" && f.type === MsgType.HELLO && f.seq === 0 && f.payload.length >= BOARD_INFO_SESSION_OFFSET + 4) {
      const s = new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(BOARD_INFO_SESSION_OFFSET, true);
      if (s !== this.session) {
        this.reset();
        this.awaitingHello = false;
        this.session = s;
        this.events.push({ kind: "session", session: s });
      }
    }
    if (this.awaitingHello) return;
    const poll = (f.flags & FLAG_POLL) !== 0;
    if (isControlType(f.type)) {
      if (f.type === MsgType.NAK) this.tx.onNak(f.ack, f.credit, f.seq, now);
      else this.tx.onHeader(f.ack, f.credit, now);
      if (poll) this.rx.onPoll();
      if (f.type !== MsgType.ACK && f.type !== MsgType.NAK) this.events.push({ kind: "control", type: f.type, req: f.req });
      return;
    }
    this.tx.onHeader(f.ack, f.credit, now);
    const cost = frameCost(f.payload.length);
    if (this.rx.onFrame(f.seq, cost, poll, now) === "accept") {
      this.inbox.push({ frag: { type: f.type, flags: f.flags & FLAG_MORE, req: f.req, payload: f.payload }, cost });
    }
  }

  /**
   * Hand complete messages to the application, in order. The handler returns false
   * when it cannot take the message now (a full queue): the message is kept and offered
   * again on the next call, and nothing behind it is consumed, so the receive buffer
   * fills and the credit advertised to the peer shrinks (backpressure). Returns the
   * number of messages taken.
   */
  deliver(handler: (m: RawMessage) => boolean): number {
    let n = 0;
    for (;;) {
      if (this.ready) {
        if (!handler(this.ready)) return n;
        this.ready = undefined;
        this.stats.messagesIn++;
        n++;
        continue;
      }
      const next = this.inbox.shift();
      if (!next) return n;
      this.rx.consume(next.cost);
      for (const ev of this.reasm.push(next.frag)) {
        if (ev.kind === "message") this.ready = ev.message;
        else if (ev.kind === "interleaved") this.events.push({ kind: "protocol", what: "interleaved", type: ev.type, req: ev.req, size: ev.received });
        else this.events.push({ kind: "protocol", what: "too-large", type: ev.type, req: ev.req, size: ev.size, head: ev.head });
      }
    }
  }

  /** Events raised by deliver (protocol errors) and not yet returned by receive. */
  takeEvents(): EndpointEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** The bytes to write now (possibly empty). */
  flush(now: number): Uint8Array {
    const chunks: Uint8Array[] = [];
    if (this.awaitingHello) return new Uint8Array(0);
    const emit = (f: Omit<Frame, "ack" | "credit">, control: boolean) => {
      const b = encodeFrame({ ...f, ack: this.rx.expected, credit: this.rx.credit() }, this.maxPayload);
      chunks.push(b);
      if (control) this.tx.noteWrite(b.length, now);
      this.rx.noteSent();
    };
    for (const c of this.controlOut) emit({ type: c.type, flags: c.flags, seq: 0, req: c.req, payload: new Uint8Array(0) }, true);
    this.controlOut = [];
    const { frames, probe } = this.tx.poll(now);
    for (const f of frames) emit({ type: f.type, flags: f.flags, seq: f.seq, req: f.req, payload: f.payload }, false);
    if (probe) emit({ type: MsgType.ACK, flags: FLAG_POLL, seq: 0, req: 0, payload: new Uint8Array(0) }, true);
    const c = this.rx.takeControl(now);
    if (c === "ACK") emit({ type: MsgType.ACK, flags: 0, seq: 0, req: 0, payload: new Uint8Array(0) }, true);
    else if (c === "NAK") emit({ type: MsgType.NAK, flags: 0, seq: this.rx.nakTrigger, req: 0, payload: new Uint8Array(0) }, true);
    let total = 0;
    for (const ch of chunks) total += ch.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const ch of chunks) {
      out.set(ch, o);
      o += ch.length;
    }
    this.stats.framesOut += chunks.length;
    this.stats.bytesOut += total;
    return out;
  }

  nextDeadline(): number | undefined {
    const a = this.tx.nextDeadline();
    const b = this.rx.nextDeadline();
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  /** Nothing queued, unacknowledged or waiting to be delivered. */
  get idle(): boolean {
    return this.tx.pending === 0 && this.inbox.length === 0 && !this.ready && this.controlOut.length === 0;
  }

  get down(): boolean {
    return this.tx.down;
  }
}
