// Reliability and flow control (docs/link.md section 5): go-back-N with cumulative
// ACKs, NAKs for gaps, retransmission timers, and byte credits so the sender never
// overruns the receiver's buffer. Transport-agnostic and clock-injected: nothing here
// reads the time or sets a timer; callers pass `now` (milliseconds) and ask for
// `nextDeadline()`.

import { cobsMaxEncodedLength } from "./cobs.js";
import { FLAG_POLL, frameCost, MAX_BODY, MAX_WIRE } from "./frame.js";
import type { Fragment } from "./fragment.js";

export const SEQ_MOD = 0x10000;
/** Sequence numbers within half the space ahead of a reference are "ahead", else "behind". */
export const SEQ_HALF = 0x8000;

/** (a - b) mod 2^16 */
export function seqDiff(a: number, b: number): number {
  return (a - b) & 0xffff;
}
export function seqAdd(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** The credit a sender assumes before it has heard from its peer: one largest frame. */
export const INITIAL_CREDIT = MAX_BODY;

export interface SendWindowOptions {
  /** Bytes per millisecond of the line (baud / 10 / 1000 for 8N1); used to estimate when a frame has left the wire. Default: Infinity (no estimate). */
  bytesPerMs?: number;
  /** Retransmission timeout before the first RTT sample (ms). Default 300. */
  rtoInitial?: number;
  /** Lower bound of the retransmission timeout (ms). Default 100. */
  rtoMin?: number;
  /** Upper bound, also for the back-off (ms). Default 4000. */
  rtoMax?: number;
  /** Consecutive timeouts without progress before the link is declared down. Default 8. */
  maxRetries?: number;
  /** The sender's own limit on unacknowledged bytes (frame cost), e.g. its retransmit buffer. Default 65535. */
  txBuffer?: number;
  /** Assumed peer credit until a header arrives. Default INITIAL_CREDIT. */
  initialCredit?: number;
  /**
   * Pacing: write a message frame only while the bytes already written but (by the
   * bytesPerMs estimate) not yet on the wire are at most this many, so that ACKs,
   * NAKs and INTERRUPTs never queue behind a long backlog. Default 2 * MAX_WIRE.
   * Ignored when bytesPerMs is Infinity.
   */
  maxAheadBytes?: number;
}

/** A message frame ready to go out; the caller adds ack and credit and encodes it. */
export interface Outgoing extends Fragment {
  seq: number;
  retransmission: boolean;
}

interface Entry {
  seq: number;
  frag: Fragment;
  cost: number;
  wire: number; // worst-case bytes on the wire
  sent: boolean;
  retransmitted: boolean;
  departAt: number; // estimated time its last byte left (latest transmission)
  txOrder: number; // value of the transmission counter at its latest transmission
}

export interface SendStats {
  sent: number; // first transmissions
  retransmitted: number; // frames sent again
  timeouts: number;
  naks: number; // NAKs acted on
  naksIgnored: number;
  probes: number;
}

export class SendWindow {
  private readonly bytesPerMs: number;
  private readonly rtoMin: number;
  private readonly rtoMax: number;
  private readonly maxRetries: number;
  private readonly maxAheadMs: number;
  /** Added to every retransmission deadline: the peer's ACK may wait behind one largest frame of its own. */
  private readonly slackMs: number;
  readonly txBuffer: number;

  private entries: Entry[] = []; // entries[0].seq === base
  private queued = 0; // the sum of entries' cost
  private sendIdx = 0; // next entry to (re)transmit
  private base = 0;
  private nextSeq = 0;
  private sentHigh = 0; // seq after the highest seq ever transmitted
  private credit: number;
  private deadline: number | undefined; // retransmission timer of the oldest unacked frame
  private probeAt: number | undefined; // zero-window probe timer
  private probeBackoff = 1;
  private retries = 0;
  private pollNext = false;
  private wireFreeAt = -Infinity;
  private txCounter = 0;
  private srtt: number | undefined;
  private rttvar = 0;
  rto: number;
  /** True once maxRetries timeouts passed without progress; nothing is sent any more. */
  down = false;
  readonly stats: SendStats = { sent: 0, retransmitted: 0, timeouts: 0, naks: 0, naksIgnored: 0, probes: 0 };

  constructor(opts: SendWindowOptions = {}) {
    this.bytesPerMs = opts.bytesPerMs ?? Infinity;
    this.rto = opts.rtoInitial ?? 300;
    this.rtoMin = opts.rtoMin ?? 100;
    this.rtoMax = opts.rtoMax ?? 4000;
    this.maxRetries = opts.maxRetries ?? 8;
    this.txBuffer = opts.txBuffer ?? 0xffff;
    this.credit = opts.initialCredit ?? INITIAL_CREDIT;
    this.maxAheadMs = (opts.maxAheadBytes ?? 2 * MAX_WIRE) / this.bytesPerMs;
    this.slackMs = MAX_WIRE / this.bytesPerMs;
  }

  /** Account for bytes written outside the window (control frames) in the wire estimate. */
  noteWrite(wireBytes: number, now: number): void {
    this.wireFreeAt = Math.max(now, this.wireFreeAt) + wireBytes / this.bytesPerMs;
  }

  /** Pacing holds frames back until this time (undefined: not pacing). */
  private paceAt: number | undefined;

  /** Queue a message frame; returns its sequence number. */
  enqueue(frag: Fragment): number {
    const seq = this.nextSeq;
    this.nextSeq = seqAdd(this.nextSeq, 1);
    const cost = frameCost(frag.payload.length);
    this.queued += cost;
    this.entries.push({ seq, frag, cost, wire: cobsMaxEncodedLength(cost) + 1, sent: false, retransmitted: false, departAt: 0, txOrder: 0 });
    return seq;
  }

  /** Frames queued or unacknowledged. */
  get pending(): number {
    return this.entries.length;
  }
  /** Bytes (frame cost) queued or unacknowledged: what the sender holds in memory. */
  get queuedBytes(): number {
    return this.queued;
  }
  /** Frames sent and not yet acknowledged. */
  get inFlight(): number {
    return seqDiff(this.sentHigh, this.base);
  }
  /** Bytes (frame cost) sent and not yet acknowledged. */
  get inFlightBytes(): number {
    let t = 0;
    const n = this.inFlight;
    for (let i = 0; i < n; i++) t += this.entries[i]!.cost;
    return t;
  }
  get peerCredit(): number {
    return this.credit;
  }
  get smoothedRtt(): number | undefined {
    return this.srtt;
  }
  /** The sequence number of the oldest unacknowledged frame. */
  get oldest(): number {
    return this.base;
  }

  /**
   * Apply the ack and credit fields of any valid frame from the peer. An ack outside
   * [oldest unacked, one past the highest sent] is stale or corrupt: the whole header is
   * ignored. Returns the number of frames newly acknowledged.
   */
  onHeader(ack: number, credit: number, now: number): number {
    const adv = seqDiff(ack, this.base);
    if (adv > seqDiff(this.sentHigh, this.base)) return 0;
    let sample: number | undefined;
    for (let i = 0; i < adv; i++) {
      const e = this.entries[i]!;
      if (!e.retransmitted) sample = now - e.departAt;
    }
    if (adv > 0) {
      for (let i = 0; i < adv; i++) this.queued -= this.entries[i]!.cost;
      this.entries.splice(0, adv);
      this.sendIdx = Math.max(0, this.sendIdx - adv);
      this.base = ack;
      this.retries = 0;
      if (sample !== undefined) this.rttSample(Math.max(0, sample));
      this.deadline = this.inFlight > 0 ? Math.max(now, this.entries[0]!.departAt) + this.rto + this.slackMs : undefined;
    }
    const opened = credit > this.credit;
    this.credit = credit;
    if (opened || adv > 0) {
      this.probeAt = undefined;
      this.probeBackoff = 1;
    }
    return adv;
  }

  /**
   * A NAK asks for everything from `ack` on again (after applying ack/credit as a
   * header). `trigger` is the NAK's seq field: the frame whose arrival revealed the gap.
   * If that frame's latest transmission came before the latest transmission of `ack`,
   * the NAK answers an older round and is ignored.
   */
  onNak(ack: number, credit: number, trigger: number, now: number): void {
    this.onHeader(ack, credit, now);
    if (ack !== this.base || this.inFlight === 0) return;
    const e = this.entries[0]!;
    const k = seqDiff(trigger, this.base);
    const t = k < this.inFlight ? this.entries[k]! : undefined;
    if (t && t.txOrder < e.txOrder) {
      this.stats.naksIgnored++;
      return;
    }
    this.stats.naks++;
    this.goBack();
  }

  private goBack(): void {
    const n = this.inFlight;
    for (let i = 0; i < n; i++) this.entries[i]!.retransmitted = true;
    this.sendIdx = 0;
  }

  private rttSample(r: number): void {
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(this.rtoMax, Math.max(this.rtoMin, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  /** When `poll` next has something to do because of a timer (undefined: no timer running). */
  nextDeadline(): number | undefined {
    if (this.down) return undefined;
    let t: number | undefined;
    for (const x of [this.deadline, this.probeAt, this.paceAt]) if (x !== undefined && (t === undefined || x < t)) t = x;
    return t;
  }

  /**
   * What to transmit now: message frames (new ones within the credit, and
   * retransmissions) and whether to send a zero-window probe (an ACK frame with POLL).
   */
  poll(now: number): { frames: Outgoing[]; probe: boolean } {
    const frames: Outgoing[] = [];
    let probe = false;
    if (this.down) return { frames, probe };
    if (this.deadline !== undefined && now >= this.deadline && this.inFlight > 0) {
      this.stats.timeouts++;
      this.retries++;
      if (this.retries > this.maxRetries) {
        this.down = true;
        this.deadline = undefined;
        this.probeAt = undefined;
        return { frames, probe };
      }
      this.rto = Math.min(this.rtoMax, this.rto * 2);
      this.goBack();
      this.pollNext = true;
      this.deadline = undefined;
    }
    let cum = 0;
    for (let i = 0; i < this.sendIdx; i++) cum += this.entries[i]!.cost;
    this.paceAt = undefined;
    while (this.sendIdx < this.entries.length) {
      const e = this.entries[this.sendIdx]!;
      if (this.wireFreeAt - now > this.maxAheadMs + 1e-6) {
        this.paceAt = this.wireFreeAt - this.maxAheadMs;
        break;
      }
      if (!e.sent) {
        if (cum + e.cost > this.credit || cum + e.cost > this.txBuffer || seqDiff(e.seq, this.base) >= SEQ_HALF) break;
      }
      cum += e.cost;
      const retransmission = e.sent;
      if (retransmission) this.stats.retransmitted++;
      else this.stats.sent++;
      e.sent = true;
      e.txOrder = ++this.txCounter;
      const start = Math.max(now, this.wireFreeAt);
      e.departAt = start + e.wire / this.bytesPerMs;
      this.wireFreeAt = e.departAt;
      this.sendIdx++;
      if (seqDiff(this.sentHigh, this.base) < this.sendIdx) this.sentHigh = seqAdd(this.base, this.sendIdx);
      frames.push({ ...e.frag, seq: e.seq, retransmission });
    }
    if (frames.length > 0) {
      if (this.pollNext) {
        const last = frames[frames.length - 1]!;
        last.flags |= FLAG_POLL;
        this.pollNext = false;
      }
      if (this.deadline === undefined) this.deadline = Math.max(now, this.entries[0]!.departAt) + this.rto + this.slackMs;
    }
    // Blocked with nothing in flight: the credit update may have been lost. Probe.
    if (this.inFlight === 0 && this.sendIdx < this.entries.length) {
      if (this.probeAt === undefined) this.probeAt = now + this.rto * this.probeBackoff;
      else if (now >= this.probeAt) {
        probe = true;
        this.stats.probes++;
        this.probeBackoff = Math.min(this.probeBackoff * 2, Math.max(1, this.rtoMax / this.rto));
        this.probeAt = now + this.rto * this.probeBackoff;
      }
    } else if (this.inFlight > 0) {
      this.probeAt = undefined;
    }
    return { frames, probe };
  }
}

export interface ReceiveWindowOptions {
  /** The receive buffer in bytes of frame cost (the largest credit ever advertised, at most 65535). */
  capacity: number;
  /**
   * A second NAK for the same expected sequence number goes out when the frame that
   * reveals the gap is not beyond the one that triggered the first NAK (the sender has
   * gone back and lost the frame again), or after this many ms. Default 500.
   */
  nakRepeat?: number;
  /** Longest wait before a standalone ACK for accepted frames when no frame of ours carries it (ms). Default 5. */
  ackDelay?: number;
}

export type ReceiveVerdict =
  | "accept" // in order and fits: deliver it
  | "duplicate" // already received: drop, ACK
  | "gap" // a frame before it was lost: drop, NAK
  | "full"; // would overrun the buffer (the sender ignored the credit): drop, ACK

export interface ReceiveStats {
  accepted: number;
  duplicates: number;
  gaps: number;
  overruns: number;
  acks: number;
  naks: number;
}

export class ReceiveWindow {
  readonly capacity: number;
  private readonly nakRepeat: number;
  private readonly ackDelay: number;
  /** The sequence number expected next (the ack field of every frame we send). */
  expected = 0;
  /** Bytes of accepted frames the application has not consumed yet. */
  buffered = 0;
  private ackDue = false; // a standalone ACK is due now
  private ackAt: number | undefined; // ... or at this time (delayed ACK)
  private unacked = 0; // bytes accepted since our last frame went out
  private nakDue = false;
  private nakFor: number | undefined;
  private nakAt = -Infinity;
  /** The seq field of the NAK due (the frame that revealed the gap). */
  nakTrigger = 0;
  private advertised = 0;
  readonly stats: ReceiveStats = { accepted: 0, duplicates: 0, gaps: 0, overruns: 0, acks: 0, naks: 0 };

  constructor(opts: ReceiveWindowOptions) {
    if (opts.capacity < MAX_BODY || opts.capacity > 0xffff) throw new RangeError(`receive capacity must be ${MAX_BODY}..65535`);
    this.capacity = opts.capacity;
    this.nakRepeat = opts.nakRepeat ?? 500;
    this.ackDelay = opts.ackDelay ?? 5;
    this.advertised = opts.capacity;
  }

  /** The credit field of the next frame we send. */
  credit(): number {
    return Math.max(0, Math.min(0xffff, this.capacity - this.buffered));
  }

  /** Judge a valid message frame. With POLL set, an ACK is due whatever the verdict. */
  onFrame(seq: number, cost: number, poll: boolean, now: number): ReceiveVerdict {
    if (poll) this.ackDue = true;
    const d = seqDiff(seq, this.expected);
    if (d === 0) {
      if (this.buffered + cost > this.capacity) {
        this.stats.overruns++;
        this.ackDue = true;
        return "full";
      }
      this.expected = seqAdd(this.expected, 1);
      this.buffered += cost;
      this.stats.accepted++;
      this.unacked += cost;
      // ACK at once when a quarter of the buffer is unacknowledged, else within ackDelay
      if (this.unacked >= this.capacity / 4) this.ackDue = true;
      else if (this.ackAt === undefined) this.ackAt = now + this.ackDelay;
      this.nakFor = undefined;
      return "accept";
    }
    if (d < SEQ_HALF) {
      this.stats.gaps++;
      if (this.nakFor !== this.expected || d <= seqDiff(this.nakTrigger, this.expected) || now - this.nakAt >= this.nakRepeat) {
        this.nakDue = true;
        this.nakFor = this.expected;
        this.nakTrigger = seq;
        this.nakAt = now;
      }
      return "gap";
    }
    this.stats.duplicates++;
    this.ackDue = true;
    return "duplicate";
  }

  /** A control frame with POLL set arrived: answer with an ACK. */
  onPoll(): void {
    this.ackDue = true;
  }

  /** The application took `cost` bytes of accepted frames out of the buffer. */
  consume(cost: number): void {
    this.buffered = Math.max(0, this.buffered - cost);
    const c = this.credit();
    if (c - this.advertised >= Math.min(MAX_BODY, this.capacity / 4) || (this.buffered === 0 && this.advertised < this.capacity)) this.ackDue = true;
  }

  /** Call whenever any frame goes out: it carried our ack and credit. */
  noteSent(): void {
    this.ackDue = false;
    this.ackAt = undefined;
    this.unacked = 0;
    this.advertised = this.credit();
  }

  /** When a delayed ACK falls due (undefined: none pending). */
  nextDeadline(): number | undefined {
    return this.ackDue || this.nakDue ? undefined : this.ackAt;
  }

  /** The standalone control frame due at `now`, if any (call after sending message frames). */
  takeControl(now: number): "ACK" | "NAK" | null {
    if (this.nakDue) {
      this.nakDue = false;
      this.stats.naks++;
      return "NAK";
    }
    if (this.ackDue || (this.ackAt !== undefined && now >= this.ackAt)) {
      this.stats.acks++;
      return "ACK";
    }
    return null;
  }
}

/** Re-exported so callers can set the POLL bit on control frames. */
export { FLAG_POLL };
