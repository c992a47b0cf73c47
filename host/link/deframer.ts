// Streaming receiver of the frame layer (docs/link.md section 3): feed it whatever
// chunks the serial port delivers, noise included; it returns the valid frames and
// counts what it dropped. It resynchronises on every 0x00: line noise costs at most the
// frames it touches.

import { cobsMaxEncodedLength } from "./cobs.js";
import { decodeFrame, FRAME_OVERHEAD, FrameError, MAX_PAYLOAD, type Frame, type FrameErrorReason } from "./frame.js";

/** The bytes between delimiters that make up the ENTER sequence 00 FF 53 58 53 00. */
export const ENTER_INNER = Uint8Array.of(0xff, 0x53, 0x58, 0x53);
/** The escape sequence that starts (or restarts) a framed session: 00 FF 'S' 'X' 'S' 00. */
export const ENTER_SEQUENCE = Uint8Array.of(0x00, 0xff, 0x53, 0x58, 0x53, 0x00);

export type DropReason = FrameErrorReason | "overlong";

export type DeframerEvent =
  | { kind: "frame"; frame: Frame }
  | { kind: "enter" } // the ENTER sequence arrived (only the board acts on it)
  | { kind: "drop"; reason: DropReason; bytes: number };

export interface DeframerStats {
  /** Valid frames returned. */
  frames: number;
  /** ENTER sequences seen. */
  enters: number;
  /** Delimiters with nothing before them (ignored, not errors). */
  empty: number;
  /** Dropped frames, by reason. */
  dropped: Record<DropReason, number>;
  /** Bytes thrown away with dropped frames. */
  droppedBytes: number;
}

export class Deframer {
  readonly maxPayload: number;
  /** Longest COBS text accepted between two delimiters. */
  readonly maxEncoded: number;
  private buf: Uint8Array;
  private n = 0;
  private skipping = false; // an overlong run: discard up to the next 0x00
  private skipped = 0;
  readonly stats: DeframerStats = {
    frames: 0,
    enters: 0,
    empty: 0,
    dropped: { cobs: 0, short: 0, oversize: 0, crc: 0, length: 0, overlong: 0 },
    droppedBytes: 0,
  };

  constructor(opts: { maxPayload?: number } = {}) {
    this.maxPayload = opts.maxPayload ?? MAX_PAYLOAD;
    this.maxEncoded = cobsMaxEncodedLength(FRAME_OVERHEAD + this.maxPayload);
    this.buf = new Uint8Array(this.maxEncoded);
  }

  /** Forget a partial frame (as if a 0x00 had arrived, but without counting it). */
  reset(): void {
    this.n = 0;
    this.skipping = false;
    this.skipped = 0;
  }

  feed(chunk: Uint8Array): DeframerEvent[] {
    const out: DeframerEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b !== 0) {
        if (this.skipping) {
          this.skipped++;
        } else if (this.n < this.maxEncoded) {
          this.buf[this.n++] = b;
        } else {
          this.skipping = true;
          this.skipped = this.n + 1;
          this.n = 0;
        }
        continue;
      }
      // a delimiter
      if (this.skipping) {
        this.drop(out, "overlong", this.skipped);
        this.skipping = false;
        this.skipped = 0;
        continue;
      }
      const len = this.n;
      this.n = 0;
      if (len === 0) {
        this.stats.empty++;
        continue;
      }
      const enc = this.buf.subarray(0, len);
      if (len === ENTER_INNER.length && enc.every((v, k) => v === ENTER_INNER[k])) {
        this.stats.enters++;
        out.push({ kind: "enter" });
        continue;
      }
      try {
        const frame = decodeFrame(enc, this.maxPayload);
        this.stats.frames++;
        out.push({ kind: "frame", frame });
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        this.drop(out, e.reason, len);
      }
    }
    return out;
  }

  private drop(out: DeframerEvent[], reason: DropReason, bytes: number): void {
    this.stats.dropped[reason]++;
    this.stats.droppedBytes += bytes;
    out.push({ kind: "drop", reason, bytes });
  }

  /** Total frames dropped for any reason. */
  get droppedFrames(): number {
    let t = 0;
    for (const k of Object.keys(this.stats.dropped) as DropReason[]) t += this.stats.dropped[k];
    return t;
  }
}
