// Typed encoding and decoding of every message payload (docs/link.md sections 6-10).
// A message is (type, req, payload); the payload may be longer than one frame, in which
// case fragment.ts splits it. All integers little-endian. Reserved fields are written
// as 0 and ignored when read.

export const MsgType = {
  // link control frames: unsequenced, never acknowledged, never fragmented
  ACK: 0x01,
  NAK: 0x02,
  INTERRUPT: 0x03,
  // board -> host
  HELLO: 0x10,
  INFO: 0x11,
  RESULT: 0x12,
  LOG: 0x13,
  EVENT: 0x14,
  PONG: 0x15,
  OK: 0x16,
  ERROR: 0x17,
  // host -> board
  EXEC: 0x20,
  WATCH: 0x21,
  PING: 0x22,
  RESET: 0x23,
  GET_INFO: 0x24,
  LEAVE: 0x25,
  FLASH_BEGIN: 0x26,
  FLASH_DATA: 0x27,
  FLASH_COMMIT: 0x28,
} as const;
export type MsgTypeName = keyof typeof MsgType;

const NAMES: Record<number, MsgTypeName> = Object.fromEntries(
  Object.entries(MsgType).map(([k, v]) => [v, k as MsgTypeName]),
) as Record<number, MsgTypeName>;

export function msgTypeName(type: number): string {
  return NAMES[type] ?? `0x${type.toString(16).padStart(2, "0")}`;
}

/** ERROR codes (u16). */
export const ErrorCode = {
  UNKNOWN_TYPE: 1,
  MALFORMED: 2,
  TOO_LARGE: 3,
  BAD_REQ: 4,
  NO_PROCESSOR: 5,
  OUT_OF_MEMORY: 6,
  BAD_ARGUMENT: 7,
  WATCH_FULL: 8,
  NO_IMAGE: 9,
  FLASH_BAD_SLOT: 16,
  FLASH_TOO_LARGE: 17,
  FLASH_NO_TRANSFER: 18,
  FLASH_BAD_OFFSET: 19,
  FLASH_WRITE: 20,
  FLASH_INCOMPLETE: 21,
  FLASH_BAD_CRC: 22,
  IMAGE_BAD_HEADER: 23,
  IMAGE_BAD_ABI: 24,
  IMAGE_BAD_CRC: 25,
  IMAGE_NOT_WASM: 26,
  IMAGE_REJECTED: 27,
  INTERNAL: 255,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

const ERROR_NAMES: Record<number, ErrorCodeName> = Object.fromEntries(
  Object.entries(ErrorCode).map(([k, v]) => [v, k as ErrorCodeName]),
) as Record<number, ErrorCodeName>;

export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `E${code}`;
}

/** Why the board last booted (HELLO/INFO boot_reason). */
export const BootReason = { POWER_ON: 0, RESET: 1, NEW_IMAGE: 2, ROLLBACK: 3, CRASH: 4 } as const;
/** Why a new image was abandoned (HELLO/INFO rollback_reason). */
export const RollbackReason = { NONE: 0, TRAP: 1, DEADLINE: 2, BAD_CRC: 3, LOAD: 4, INIT: 5 } as const;
/** HELLO/INFO state_flags bits. */
export const StateFlag = { SAFE_MODE: 0x01, FIRST_HELLO: 0x02 } as const;
/** RESET flags bits. */
export const ResetFlag = { SAFE_MODE: 0x01, TEXT_MODE: 0x02 } as const;
/** FLASH_COMMIT flags bits. */
export const CommitFlag = { NO_REBOOT: 0x01 } as const;
/** FLASH_BEGIN slot value meaning "whichever slot is inactive". */
export const SLOT_INACTIVE = 0xff;
/** HELLO/INFO active_slot value meaning "no valid image". */
export const SLOT_NONE = 0xff;
/** The link protocol version carried in HELLO/INFO. */
export const PROTOCOL_VERSION = 1;

/** The body of HELLO and INFO (same layout, 69 + fw_len bytes; later versions may append). */
export interface BoardInfo {
  proto: number; // u8
  bootReason: number; // u8
  activeSlot: number; // u8
  rollbackReason: number; // u8
  abiVersion: number; // u16
  maxPayload: number; // u16
  rxWindow: number; // u16
  processors: number; // u8
  stateFlags: number; // u8
  imageCrc: number; // u32
  failedCrc: number; // u32
  slotSize: number; // u32
  maxInput: number; // u32
  freeHeap: number; // u32
  uptimeMs: number; // u32
  linkIdleMs: number; // u32
  heapUsed: number; // u32
  wasmMemory: number; // u32
  kvEntries: number; // u32
  queued: number; // u32
  badFrames: number; // u32
  retransmits: number; // u32
  session: number; // u32, chosen anew each time the board starts a session
  firmware: string; // ASCII, at most 255 bytes
}
/** Bytes of HELLO/INFO before the firmware text. */
export const BOARD_INFO_FIXED = 69;
/** Offset of the session field in HELLO/INFO. */
export const BOARD_INFO_SESSION_OFFSET = 64;

export type Message =
  | { type: "ACK"; req: 0 }
  | { type: "NAK"; req: 0 }
  | { type: "INTERRUPT"; req: number } // req: the request to interrupt, 0 = all
  | { type: "HELLO"; req: number; info: BoardInfo }
  | { type: "INFO"; req: number; info: BoardInfo }
  | { type: "RESULT"; req: number; value: Uint8Array }
  | { type: "LOG"; req: number; text: Uint8Array }
  | { type: "EVENT"; req: number; channel: number; topic: number; data: Uint8Array }
  | { type: "PONG"; req: number; data: Uint8Array }
  | { type: "OK"; req: number; value: number }
  | { type: "ERROR"; req: number; code: number; message: Uint8Array }
  | { type: "EXEC"; req: number; proc: number; textLength: number; text: Uint8Array }
  | { type: "WATCH"; req: number; channel: number; on: boolean; topic: number }
  | { type: "PING"; req: number; data: Uint8Array }
  | { type: "RESET"; req: number; flags: number }
  | { type: "GET_INFO"; req: number }
  | { type: "LEAVE"; req: number }
  | { type: "FLASH_BEGIN"; req: number; size: number; crc: number; slot: number }
  | { type: "FLASH_DATA"; req: number; offset: number; data: Uint8Array }
  | { type: "FLASH_COMMIT"; req: number; flags: number };

/** A message as it travels: type code, request id, payload bytes (any length). */
export interface RawMessage {
  type: number;
  req: number;
  payload: Uint8Array;
}

export class MessageError extends Error {
  constructor(
    readonly code: number, // an ErrorCode: UNKNOWN_TYPE or MALFORMED
    readonly type: number,
    message: string,
  ) {
    super(`${msgTypeName(type)}: ${message}`);
    this.name = "MessageError";
  }
}

const te = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function u(name: string, v: number, bits: 8 | 16 | 32): void {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} ${v} out of range 0..${max}`);
}

class W {
  private parts: number[] = [];
  private tail: Uint8Array | null = null;
  u8(v: number, n = "u8"): this {
    u(n, v, 8);
    this.parts.push(v);
    return this;
  }
  u16(v: number, n = "u16"): this {
    u(n, v, 16);
    this.parts.push(v & 0xff, v >>> 8);
    return this;
  }
  u32(v: number, n = "u32"): this {
    u(n, v, 32);
    this.parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    return this;
  }
  i32(v: number, n = "i32"): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`${n} ${v} out of range`);
    return this.u32(v >>> 0, n);
  }
  bytes(b: Uint8Array): Uint8Array {
    this.tail = b;
    return this.done();
  }
  done(): Uint8Array {
    const head = Uint8Array.from(this.parts);
    if (!this.tail) return head;
    const out = new Uint8Array(head.length + this.tail.length);
    out.set(head, 0);
    out.set(this.tail, head.length);
    return out;
  }
}

/** The message's type code, request id and payload. */
export function encodeMessage(m: Message): RawMessage {
  const type = MsgType[m.type];
  u("req", m.req, 32);
  let p: Uint8Array;
  switch (m.type) {
    case "ACK":
    case "NAK":
    case "INTERRUPT":
    case "GET_INFO":
    case "LEAVE":
      p = new Uint8Array(0);
      break;
    case "HELLO":
    case "INFO":
      p = encodeBoardInfo(m.info);
      break;
    case "RESULT":
      p = m.value.slice();
      break;
    case "LOG":
      p = m.text.slice();
      break;
    case "EVENT":
      p = new W().u8(m.channel, "channel").u8(0).u16(m.topic, "topic").bytes(m.data);
      break;
    case "PONG":
    case "PING":
      p = m.data.slice();
      break;
    case "OK":
      p = new W().u32(m.value, "value").done();
      break;
    case "ERROR":
      p = new W().u16(m.code, "code").bytes(m.message);
      break;
    case "EXEC":
      p = new W().u32(m.textLength, "text_len").u8(m.proc, "proc").bytes(m.text);
      break;
    case "WATCH":
      p = new W().u8(m.channel, "channel").u8(m.on ? 1 : 0).u16(0).i32(m.topic, "topic").done();
      break;
    case "RESET":
      p = new W().u8(m.flags, "flags").done();
      break;
    case "FLASH_BEGIN":
      p = new W().u32(m.size, "size").u32(m.crc, "crc").u8(m.slot, "slot").u8(0).u16(0).done();
      break;
    case "FLASH_DATA":
      p = new W().u32(m.offset, "offset").bytes(m.data);
      break;
    case "FLASH_COMMIT":
      p = new W().u8(m.flags, "flags").done();
      break;
  }
  return { type, req: m.req, payload: p };
}

export function encodeBoardInfo(i: BoardInfo): Uint8Array {
  const fw = te.encode(i.firmware);
  if (fw.length > 255) throw new RangeError("firmware text longer than 255 bytes");
  return new W()
    .u8(i.proto, "proto")
    .u8(i.bootReason, "boot_reason")
    .u8(i.activeSlot, "active_slot")
    .u8(i.rollbackReason, "rollback_reason")
    .u16(i.abiVersion, "abi_version")
    .u16(i.maxPayload, "max_payload")
    .u16(i.rxWindow, "rx_window")
    .u8(i.processors, "processors")
    .u8(i.stateFlags, "state_flags")
    .u32(i.imageCrc, "image_crc")
    .u32(i.failedCrc, "failed_crc")
    .u32(i.slotSize, "slot_size")
    .u32(i.maxInput, "max_input")
    .u32(i.freeHeap, "free_heap")
    .u32(i.uptimeMs, "uptime_ms")
    .u32(i.linkIdleMs, "link_idle_ms")
    .u32(i.heapUsed, "heap_used")
    .u32(i.wasmMemory, "wasm_memory")
    .u32(i.kvEntries, "kv_entries")
    .u32(i.queued, "queued")
    .u32(i.badFrames, "bad_frames")
    .u32(i.retransmits, "retransmits")
    .u32(i.session, "session")
    .u8(fw.length)
    .bytes(fw);
}

export function decodeBoardInfo(p: Uint8Array, type: number = MsgType.HELLO): BoardInfo {
  if (p.length < BOARD_INFO_FIXED) throw new MessageError(ErrorCode.MALFORMED, type, `${p.length} bytes, need at least ${BOARD_INFO_FIXED}`);
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const fwLen = dv.getUint8(68);
  if (p.length < BOARD_INFO_FIXED + fwLen)
    throw new MessageError(ErrorCode.MALFORMED, type, `firmware text of ${fwLen} bytes runs past the end`);
  const u32 = (o: number) => dv.getUint32(o, true);
  return {
    proto: dv.getUint8(0),
    bootReason: dv.getUint8(1),
    activeSlot: dv.getUint8(2),
    rollbackReason: dv.getUint8(3),
    abiVersion: dv.getUint16(4, true),
    maxPayload: dv.getUint16(6, true),
    rxWindow: dv.getUint16(8, true),
    processors: dv.getUint8(10),
    stateFlags: dv.getUint8(11),
    imageCrc: u32(12),
    failedCrc: u32(16),
    slotSize: u32(20),
    maxInput: u32(24),
    freeHeap: u32(28),
    uptimeMs: u32(32),
    linkIdleMs: u32(36),
    heapUsed: u32(40),
    wasmMemory: u32(44),
    kvEntries: u32(48),
    queued: u32(52),
    badFrames: u32(56),
    retransmits: u32(60),
    session: u32(64),
    firmware: latin1.decode(p.subarray(69, 69 + fwLen)),
  };
}

function exact(type: number, p: Uint8Array, n: number): DataView {
  if (p.length !== n) throw new MessageError(ErrorCode.MALFORMED, type, `payload of ${p.length} bytes, expected ${n}`);
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

function atLeast(type: number, p: Uint8Array, n: number): DataView {
  if (p.length < n) throw new MessageError(ErrorCode.MALFORMED, type, `payload of ${p.length} bytes, expected at least ${n}`);
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

/**
 * Decode a complete (reassembled) message. Throws MessageError with code UNKNOWN_TYPE
 * or MALFORMED. Field values are not range-checked beyond their layout (the board
 * checks channel numbers, slots and so on and answers ERROR BAD_ARGUMENT itself).
 */
export function decodeMessage(type: number, req: number, p: Uint8Array): Message {
  switch (type) {
    case MsgType.ACK:
      exact(type, p, 0);
      return { type: "ACK", req: 0 };
    case MsgType.NAK:
      exact(type, p, 0);
      return { type: "NAK", req: 0 };
    case MsgType.INTERRUPT:
      exact(type, p, 0);
      return { type: "INTERRUPT", req };
    case MsgType.HELLO:
      return { type: "HELLO", req, info: decodeBoardInfo(p, type) };
    case MsgType.INFO:
      return { type: "INFO", req, info: decodeBoardInfo(p, type) };
    case MsgType.RESULT:
      return { type: "RESULT", req, value: p.slice() };
    case MsgType.LOG:
      return { type: "LOG", req, text: p.slice() };
    case MsgType.EVENT: {
      const dv = atLeast(type, p, 4);
      return { type: "EVENT", req, channel: dv.getUint8(0), topic: dv.getUint16(2, true), data: p.slice(4) };
    }
    case MsgType.PONG:
      return { type: "PONG", req, data: p.slice() };
    case MsgType.OK:
      return { type: "OK", req, value: exact(type, p, 4).getUint32(0, true) };
    case MsgType.ERROR: {
      const dv = atLeast(type, p, 2);
      return { type: "ERROR", req, code: dv.getUint16(0, true), message: p.slice(2) };
    }
    case MsgType.EXEC: {
      const dv = atLeast(type, p, 5);
      const textLength = dv.getUint32(0, true);
      if (p.length - 5 !== textLength)
        throw new MessageError(ErrorCode.MALFORMED, type, `text_len ${textLength} but ${p.length - 5} text bytes`);
      return { type: "EXEC", req, textLength, proc: dv.getUint8(4), text: p.slice(5) };
    }
    case MsgType.WATCH: {
      const dv = exact(type, p, 8);
      const on = dv.getUint8(1);
      if (on > 1) throw new MessageError(ErrorCode.MALFORMED, type, `on must be 0 or 1, not ${on}`);
      return { type: "WATCH", req, channel: dv.getUint8(0), on: on === 1, topic: dv.getInt32(4, true) };
    }
    case MsgType.PING:
      return { type: "PING", req, data: p.slice() };
    case MsgType.RESET:
      return { type: "RESET", req, flags: exact(type, p, 1).getUint8(0) };
    case MsgType.GET_INFO:
      exact(type, p, 0);
      return { type: "GET_INFO", req };
    case MsgType.LEAVE:
      exact(type, p, 0);
      return { type: "LEAVE", req };
    case MsgType.FLASH_BEGIN: {
      const dv = exact(type, p, 12);
      return { type: "FLASH_BEGIN", req, size: dv.getUint32(0, true), crc: dv.getUint32(4, true), slot: dv.getUint8(8) };
    }
    case MsgType.FLASH_DATA: {
      const dv = atLeast(type, p, 4);
      return { type: "FLASH_DATA", req, offset: dv.getUint32(0, true), data: p.slice(4) };
    }
    case MsgType.FLASH_COMMIT:
      return { type: "FLASH_COMMIT", req, flags: exact(type, p, 1).getUint8(0) };
    default:
      throw new MessageError(ErrorCode.UNKNOWN_TYPE, type, "unknown message type");
  }
}

export function decodeRaw(m: RawMessage): Message {
  return decodeMessage(m.type, m.req, m.payload);
}

/** Convenience for building EXEC: textLength follows the text. */
export function execMessage(req: number, proc: number, text: Uint8Array | string): Message {
  const t = typeof text === "string" ? te.encode(text) : text;
  return { type: "EXEC", req, proc, textLength: t.length, text: t };
}

/** The messages the host may send (the board answers any other type with ERROR UNKNOWN_TYPE). */
export const HOST_TO_BOARD: readonly number[] = [
  MsgType.INTERRUPT,
  MsgType.EXEC,
  MsgType.WATCH,
  MsgType.PING,
  MsgType.RESET,
  MsgType.GET_INFO,
  MsgType.LEAVE,
  MsgType.FLASH_BEGIN,
  MsgType.FLASH_DATA,
  MsgType.FLASH_COMMIT,
];

/** The only host-to-board message type that may be fragmented. */
export function mayFragmentToBoard(type: number): boolean {
  return type === MsgType.EXEC;
}
