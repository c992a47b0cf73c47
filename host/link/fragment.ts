// Splitting a message into frames and putting it back together (docs/link.md section 5).
// A message longer than the maximum payload travels as consecutive message frames with
// the same type and req; every one but the last has the MORE flag. Because the link
// delivers message frames in order, exactly once, reassembly is concatenation. One
// sender never interleaves two fragmented messages, nor puts another message frame
// between the fragments of one.

import { FLAG_MORE, MAX_PAYLOAD } from "./frame.js";
import type { RawMessage } from "./messages.js";

/** One frame's worth of a message: what the window sends (seq, ack, credit added there). */
export interface Fragment {
  type: number;
  flags: number; // FLAG_MORE or 0
  req: number;
  payload: Uint8Array;
}

/** Split a message into fragments of at most maxPayload bytes (an empty payload gives one fragment). */
export function fragment(m: RawMessage, maxPayload = MAX_PAYLOAD): Fragment[] {
  if (maxPayload < 1) throw new RangeError("maxPayload must be positive");
  const out: Fragment[] = [];
  const p = m.payload;
  if (p.length === 0) return [{ type: m.type, flags: 0, req: m.req, payload: p }];
  for (let off = 0; off < p.length; off += maxPayload) {
    const end = Math.min(off + maxPayload, p.length);
    out.push({ type: m.type, flags: end < p.length ? FLAG_MORE : 0, req: m.req, payload: p.subarray(off, end) });
  }
  return out;
}

export type ReassemblyEvent =
  | { kind: "message"; message: RawMessage }
  /** A fragmented message was cut short by a frame of another message: the partial one is dropped. */
  | { kind: "interleaved"; type: number; req: number; received: number }
  /** The message grew beyond maxMessage: its bytes were dropped; `head` is its first fragment. */
  | { kind: "too-large"; type: number; req: number; size: number; head: Uint8Array };

export class Reassembler {
  readonly maxMessage: number;
  private type = -1;
  private req = 0;
  private parts: Uint8Array[] = [];
  private size = 0;
  private head: Uint8Array = new Uint8Array(0);
  private over = false;

  constructor(opts: { maxMessage?: number } = {}) {
    this.maxMessage = opts.maxMessage ?? 16 * 1024 * 1024;
  }

  /** True while a fragmented message is incomplete. */
  get pending(): boolean {
    return this.type >= 0;
  }

  reset(): void {
    this.type = -1;
    this.parts = [];
    this.size = 0;
    this.over = false;
  }

  /** Feed the next message frame in sequence order (control frames do not come here). */
  push(f: Fragment): ReassemblyEvent[] {
    const out: ReassemblyEvent[] = [];
    if (this.type >= 0 && (f.type !== this.type || f.req !== this.req)) {
      out.push({ kind: "interleaved", type: this.type, req: this.req, received: this.size });
      this.reset();
    }
    if (this.type < 0) {
      this.type = f.type;
      this.req = f.req;
      this.head = f.payload.slice();
    }
    this.size += f.payload.length;
    if (this.size > this.maxMessage) {
      this.over = true;
      this.parts = [];
    } else {
      this.parts.push(f.payload.slice());
    }
    if (f.flags & FLAG_MORE) return out;
    if (this.over) {
      out.push({ kind: "too-large", type: this.type, req: this.req, size: this.size, head: this.head });
    } else {
      const payload = new Uint8Array(this.size);
      let o = 0;
      for (const p of this.parts) {
        payload.set(p, o);
        o += p.length;
      }
      out.push({ kind: "message", message: { type: this.type, req: this.req, payload } });
    }
    this.reset();
    return out;
  }
}
