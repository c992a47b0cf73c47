// A fake board for the host library's tests: the board role of the link (host/link) with
// just enough behaviour behind it to exercise every client feature. It runs no image:
// EXEC text is a tiny command language:
//   "log:TEXT"            logs TEXT, answers true
//   "event:C:T:PAYLOAD"   raises an event on channel C topic T (sent if watched), answers true
//   "sleep:MS"            answers "slept" after MS ms (interruptible: answers @"interrupted")
//   "after:MS:TEXT"       answers true at once, logs TEXT MS ms later (a pending timer: liveTasks 1)
//   anything else         answers "ok TEXT"
// It handles WATCH, PING, GET_INFO, RESET, LEAVE, INTERRUPT and image transfer (two
// slots, header checks, reboot into the new image or a rollback when told to).

import { crc32 } from "../../host/link/crc32.js";
import { LinkDriver } from "../../host/link/driver.js";
import { realTimers, type Timers } from "../../host/link/emulator.js";
import { LinkEndpoint, type EndpointEvent } from "../../host/link/endpoint.js";
import { ImageError, verifyImage } from "../../host/link/image-header.js";
import {
  BootReason,
  decodeRaw,
  encodeBoardInfo,
  encodeMessage,
  ErrorCode,
  MsgType,
  type BoardInfo,
  type Message,
  type RawMessage,
} from "../../host/link/messages.js";

const te = new TextEncoder();
const td = new TextDecoder();

export interface FakeBoardOptions {
  timers?: Timers;
  /** Append u32 live_tasks after the firmware text in HELLO/INFO. */
  reportTasks?: boolean;
  /** The ABI the board hosts (default 2). */
  abi?: number;
  /** A new image whose Wasm contains this byte string fails to start (rollback, reason 1). */
  trapMarker?: string;
  /** Never answer anything (a dead board / a wrong device). */
  mute?: boolean;
  slotSize?: number;
  /** Raise this event on the watched channel and topic right behind the WATCH's OK (an event already due). */
  eventOnWatch?: string;
}

export class FakeBoard {
  readonly ep: LinkEndpoint;
  driver!: LinkDriver;
  readonly timers: Timers;
  session = 0;
  slot = 0;
  imageCrc = 0x1111aaaa;
  bootReason: number = BootReason.POWER_ON;
  rollbackReason = 0;
  failedCrc = 0;
  mode: "text" | "framed" = "text";
  watches = new Set<string>();
  running = new Map<number, { timer: unknown; text: string }>();
  timersPending = 0;
  received: Message[] = [];
  enters = 0;
  private flash: { req: number; size: number; crc: number; data: Uint8Array; got: number; failed: boolean; slot: number } | undefined;
  private write: (b: Uint8Array) => void = () => {};
  private rebootTimer: unknown;

  constructor(readonly opts: FakeBoardOptions = {}) {
    this.timers = opts.timers ?? realTimers;
    this.ep = new LinkEndpoint({ role: "board", rxCapacity: 8192, window: { txBuffer: 8192 } });
  }

  attach(write: (b: Uint8Array) => void): void {
    this.write = write;
    this.driver = new LinkDriver(this.ep, write, { onMessage: (m) => this.onMessage(m), onEvent: (e) => this.onEvent(e) }, this.timers);
  }

  input(b: Uint8Array): void {
    if (this.opts.mute) return;
    this.driver.input(b);
  }

  close(): void {
    this.driver.close();
    for (const r of this.running.values()) this.timers.clearTimeout(r.timer);
    if (this.rebootTimer !== undefined) this.timers.clearTimeout(this.rebootTimer);
  }

  info(): BoardInfo {
    return {
      proto: 1, bootReason: this.bootReason, activeSlot: this.slot, rollbackReason: this.rollbackReason, abiVersion: this.opts.abi ?? 2,
      maxPayload: 1024, rxWindow: 8192, processors: 2, stateFlags: 0, imageCrc: this.imageCrc, failedCrc: this.failedCrc,
      slotSize: this.opts.slotSize ?? 512 * 1024, maxInput: 16384, freeHeap: 100000, uptimeMs: 0, linkIdleMs: 30000, heapUsed: 0,
      wasmMemory: 65536, kvEntries: 0, queued: this.running.size, badFrames: 0, retransmits: 0, session: this.session, firmware: "fake-board 1",
    };
  }

  private infoPayload(): Uint8Array {
    const p = encodeBoardInfo(this.info());
    if (!this.opts.reportTasks) return p;
    const out = new Uint8Array(p.length + 4);
    out.set(p);
    new DataView(out.buffer).setUint32(p.length, this.timersPending, true);
    return out;
  }

  send(m: Message, poll = false): void {
    if (this.mode !== "framed") return;
    this.ep.send(encodeMessage(m), { poll });
    this.driver.kick();
  }

  private sendRaw(type: number, req: number, payload: Uint8Array): void {
    if (this.mode !== "framed") return;
    this.ep.send({ type, req, payload });
    this.driver.kick();
  }

  startSession(): void {
    this.ep.reset();
    this.mode = "framed";
    this.session = (this.session * 7 + 13) >>> 0 || 1;
    this.watches.clear();
    // a leading delimiter, as a board does after text output
    this.write(Uint8Array.of(0));
    this.sendRaw(MsgType.HELLO, 0, this.infoPayload());
  }

  private onEvent(e: EndpointEvent): void {
    if (e.kind === "enter") {
      this.enters++;
      this.startSession();
    }
    if (e.kind === "control" && e.type === MsgType.INTERRUPT) {
      let n = 0;
      for (const [req, r] of [...this.running]) {
        if (e.req !== 0 && req !== e.req) continue;
        this.timers.clearTimeout(r.timer);
        this.running.delete(req);
        n++;
        this.send({ type: "RESULT", req, value: te.encode('@"interrupted"') });
      }
      this.send({ type: "OK", req: e.req, value: n });
    }
  }

  private err(req: number, code: number, msg: string): void {
    this.send({ type: "ERROR", req, code, message: te.encode(msg) });
  }

  private onMessage(raw: RawMessage): boolean {
    const m = decodeRaw(raw);
    this.received.push(m);
    switch (m.type) {
      case "EXEC":
        this.exec(m.req, td.decode(m.text), m.proc);
        return true;
      case "WATCH":
        if (m.channel < 1 || m.channel > 6) this.err(m.req, ErrorCode.BAD_ARGUMENT, "channel");
        else {
          const k = `${m.channel}:${m.topic}`;
          if (m.on) this.watches.add(k);
          else this.watches.delete(k);
          this.send({ type: "OK", req: m.req, value: 0 });
          if (m.on && this.opts.eventOnWatch !== undefined && m.topic >= 0)
            this.send({ type: "EVENT", req: 0, channel: m.channel, topic: m.topic, data: te.encode(this.opts.eventOnWatch) });
        }
        return true;
      case "PING":
        this.send({ type: "PONG", req: m.req, data: m.data });
        return true;
      case "GET_INFO":
        this.sendRaw(MsgType.INFO, m.req, this.infoPayload());
        return true;
      case "LEAVE":
        this.send({ type: "OK", req: m.req, value: 0 }, true);
        this.timers.setTimeout(() => (this.mode = "text"), 50);
        return true;
      case "RESET":
        this.send({ type: "OK", req: m.req, value: 0 }, true);
        this.reboot(BootReason.RESET, 100);
        return true;
      case "FLASH_BEGIN": {
        const slot = m.slot === 0xff ? 1 - this.slot : m.slot;
        if (slot === this.slot || slot > 1) return this.err(m.req, ErrorCode.FLASH_BAD_SLOT, `slot ${this.slot} is active`), true;
        if (m.size > (this.opts.slotSize ?? 512 * 1024)) return this.err(m.req, ErrorCode.FLASH_TOO_LARGE, "too large"), true;
        this.flash = { req: m.req, size: m.size, crc: m.crc, data: new Uint8Array(m.size), got: 0, failed: false, slot };
        this.send({ type: "OK", req: m.req, value: slot });
        return true;
      }
      case "FLASH_DATA": {
        const f = this.flash;
        if (!f || f.req !== m.req || f.failed) return true;
        if (m.offset !== f.got || m.offset + m.data.length > f.size) {
          f.failed = true;
          this.err(m.req, ErrorCode.FLASH_BAD_OFFSET, `offset ${m.offset}`);
          return true;
        }
        f.data.set(m.data, m.offset);
        f.got += m.data.length;
        return true;
      }
      case "FLASH_COMMIT": {
        const f = this.flash;
        this.flash = undefined;
        if (!f || f.req !== m.req || f.failed) return this.err(m.req, ErrorCode.FLASH_NO_TRANSFER, "no transfer"), true;
        if (f.got !== f.size) return this.err(m.req, ErrorCode.FLASH_INCOMPLETE, `${f.got} of ${f.size} bytes`), true;
        if (crc32(f.data) !== f.crc) return this.err(m.req, ErrorCode.FLASH_BAD_CRC, "CRC mismatch"), true;
        let wasmCrc: number;
        try {
          wasmCrc = verifyImage(f.data, this.opts.abi ?? 2).header.wasmCrc;
        } catch (e) {
          if (e instanceof ImageError) return this.err(m.req, e.code, e.message), true;
          throw e;
        }
        this.send({ type: "OK", req: m.req, value: wasmCrc }, true);
        if (m.flags & 1) return true;
        const traps = this.opts.trapMarker !== undefined && td.decode(f.data).includes(this.opts.trapMarker);
        const prevSlot = this.slot;
        this.rebootTimer = this.timers.setTimeout(() => {
          if (traps) {
            this.rollbackReason = 1;
            this.failedCrc = wasmCrc;
            this.slot = prevSlot;
            this.bootReason = BootReason.ROLLBACK;
          } else {
            this.slot = f.slot;
            this.imageCrc = wasmCrc;
            this.rollbackReason = 0;
            this.failedCrc = 0;
            this.bootReason = BootReason.NEW_IMAGE;
          }
          this.startSession();
        }, 100);
        return true;
      }
      default:
        this.err(m.req, ErrorCode.UNKNOWN_TYPE, "unknown");
        return true;
    }
  }

  /** An event raised on the board by itself (sent when watched). */
  raise(channel: string, topic: number, payload: string): void {
    const ch = "ABCDEF".indexOf(channel) + 1;
    if (this.watches.has(`${ch}:${topic}`) || this.watches.has(`${ch}:-1`)) this.send({ type: "EVENT", req: 0, channel: ch, topic, data: te.encode(payload) });
  }

  /** A log line of the board's own. */
  log(text: string): void {
    this.send({ type: "LOG", req: 0, text: te.encode(text) });
  }

  private reboot(reason: number, ms: number): void {
    this.rebootTimer = this.timers.setTimeout(() => {
      for (const r of this.running.values()) this.timers.clearTimeout(r.timer);
      this.running.clear();
      this.bootReason = reason;
      this.startSession();
    }, ms);
  }

  private exec(req: number, text: string, proc: number): void {
    if (proc >= 2) return this.err(req, ErrorCode.NO_PROCESSOR, `no processor ${proc}`);
    let m: RegExpExecArray | null;
    if ((m = /^log:(.*)$/s.exec(text))) {
      this.send({ type: "LOG", req: 0, text: te.encode(m[1]!) });
      this.send({ type: "RESULT", req, value: te.encode("true") });
    } else if ((m = /^event:([A-F]):(\d+):(.*)$/s.exec(text))) {
      const ch = "ABCDEF".indexOf(m[1]!) + 1;
      const topic = Number(m[2]);
      if (this.watches.has(`${ch}:${topic}`) || this.watches.has(`${ch}:-1`))
        this.send({ type: "EVENT", req: 0, channel: ch, topic, data: te.encode(m[3]!) });
      this.send({ type: "RESULT", req, value: te.encode("true") });
    } else if ((m = /^sleep:(\d+)$/.exec(text))) {
      const timer = this.timers.setTimeout(() => {
        this.running.delete(req);
        this.send({ type: "RESULT", req, value: te.encode("slept") });
      }, Number(m[1]));
      this.running.set(req, { timer, text });
    } else if ((m = /^after:(\d+):(.*)$/s.exec(text))) {
      const line = m[2]!;
      this.timersPending++;
      this.send({ type: "RESULT", req, value: te.encode("true") });
      this.timers.setTimeout(() => {
        this.timersPending--;
        this.send({ type: "LOG", req: 0, text: te.encode(line) });
      }, Number(m[1]));
    } else {
      this.send({ type: "RESULT", req, value: te.encode(`ok ${text}`) });
    }
  }
}
