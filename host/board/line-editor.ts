// The line editor of text mode (docs/link.md section 2), one byte at a time: echo,
// erase (BS, DEL), CR / LF / CR LF line ends, NUL discards the line being typed, an ESC-[
// CSI sequence (arrow keys) and other control bytes except TAB are ignored, and the ENTER
// sequence 00 FF 53 58 53 00 is matched on the raw byte stream: its bytes are held back,
// not echoed, while they match, and typed as ordinary input when the match breaks.
//
// What a line, a Ctrl-C or ENTER then means (continuation, queueing, interrupting,
// switching to framed mode) is the caller's: host/board/link-server.ts. The firmware's
// twin is firmware/core/sxs_text.c; test/vectors/text-editor.json holds both to the same
// bytes.

import { ENTER_SEQUENCE } from "../link/deframer.js";

/** What a byte did: nothing the caller must act on, a line ended, Ctrl-C, or ENTER. */
export type EditorEvent = "none" | "line" | "ctrl-c" | "enter";

const ERASE = Uint8Array.of(0x08, 0x20, 0x08);
const CRLF = Uint8Array.of(0x0d, 0x0a);

export class LineEditor {
  private line: number[] = [];
  private ended: Uint8Array = new Uint8Array(0);
  private enter = 0; // bytes of ENTER matched so far
  private esc = 0; // 1: after ESC, 2: inside a CSI sequence
  private lastCR = false;

  /** `echo` gets what a terminal should show of the typing. */
  constructor(private readonly echo: (bytes: Uint8Array) => void) {}

  /** The line being typed (to draw it again after output that came in between). */
  get typed(): Uint8Array {
    return Uint8Array.from(this.line);
  }

  /** The line the last "line" event ended, without its line end. */
  get lastLine(): Uint8Array {
    return this.ended;
  }

  /** Forgets everything typed, the ENTER match and escape state included. */
  reset(): void {
    this.line = [];
    this.enter = 0;
    this.esc = 0;
    this.lastCR = false;
  }

  /** Discards the line being typed. */
  discardLine(): void {
    this.line = [];
  }

  feed(b: number): EditorEvent {
    if (b === ENTER_SEQUENCE[this.enter] || (this.enter > 0 && b === 0x00)) {
      if (b === 0x00 && this.enter > 0 && this.enter < ENTER_SEQUENCE.length - 1) {
        // a NUL that breaks a partial match: the held bytes were typing, and this NUL
        // starts a new match
        this.replayHeld();
        this.edit(0x00);
        this.enter = 1;
        return "none";
      }
      this.enter++;
      if (this.enter === 1) {
        this.edit(0x00); // a NUL discards the line, whatever follows it
        return "none";
      }
      if (this.enter === ENTER_SEQUENCE.length) {
        this.enter = 0;
        return "enter";
      }
      return "none";
    }
    if (this.enter > 0) {
      // the match broke: the held bytes after the NUL were ordinary input
      const held = this.replayHeld();
      const ev = this.edit(b);
      return ev !== "none" ? ev : held;
    }
    return this.edit(b);
  }

  /** Types the held bytes of a broken ENTER match (after its NUL, already applied). */
  private replayHeld(): EditorEvent {
    const held = this.enter;
    this.enter = 0;
    let ev: EditorEvent = "none";
    for (let i = 1; i < held; i++) {
      const e = this.edit(ENTER_SEQUENCE[i]!);
      if (e !== "none") ev = e;
    }
    return ev;
  }

  /** One byte through the editor proper (the ENTER matcher is feed's). */
  private edit(b: number): EditorEvent {
    if (this.esc === 1) {
      this.esc = b === 0x5b ? 2 : 0; // not a CSI: the ESC alone is dropped, this byte counts
      if (this.esc) return "none";
    } else if (this.esc === 2) {
      if (b >= 0x40 && b <= 0x7e) this.esc = 0;
      return "none";
    }
    const wasCR = this.lastCR;
    this.lastCR = false;
    switch (b) {
      case 0x03:
        return "ctrl-c";
      case 0x08:
      case 0x7f:
        if (this.line.length > 0) {
          this.line.pop();
          this.echo(ERASE);
        }
        return "none";
      case 0x00:
        this.line = [];
        return "none";
      case 0x1b:
        this.esc = 1;
        return "none";
      case 0x0a:
        if (wasCR) return "none";
        return this.endLine();
      case 0x0d:
        this.lastCR = true;
        return this.endLine();
      default:
        if (b < 0x20 && b !== 0x09) return "none";
        this.line.push(b);
        this.echo(Uint8Array.of(b));
        return "none";
    }
  }

  private endLine(): EditorEvent {
    this.echo(CRLF);
    this.ended = Uint8Array.from(this.line);
    this.line = [];
    return "line";
  }
}
