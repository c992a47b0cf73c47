// One link frame: header + payload + CRC-32, COBS-encoded and followed by 0x00
// (docs/link.md sections 3 and 4).
//
// Decoded frame ("body"), all integers little-endian:
//   off size field
//   0   1    type     message type (0x01..0x0F link control, unsequenced; 0x10..0xFF messages)
//   1   1    flags    bit 0 MORE (another fragment of this message follows), bit 1 POLL
//                     (answer with an ACK at once); bits 2..7 zero when sent, ignored when read
//   2   2    seq      sequence number of a message frame; in a NAK the seq of the frame
//                     that revealed the gap; 0 in ACK and INTERRUPT
//   4   2    ack      the sequence number the sender expects next from its peer
//   6   2    credit   bytes of frames (cost 18 + len each) the sender can still buffer, counted from `ack`
//   8   4    req      request id the message belongs to (0: none)
//   12  2    len      payload length, 0..MAX_PAYLOAD
//   14  len  payload
//   14+len 4 crc      CRC-32 of bytes 0 .. 14+len-1

import { cobsDecode, cobsEncode, cobsMaxEncodedLength, CobsError } from "./cobs.js";
import { crc32 } from "./crc32.js";

export const HEADER_LEN = 14;
export const CRC_LEN = 4;
/** Bytes a frame adds to its payload before COBS: header + CRC. Also the credit cost base. */
export const FRAME_OVERHEAD = HEADER_LEN + CRC_LEN;
/** Largest payload of one frame (protocol version 1). */
export const MAX_PAYLOAD = 1024;
/** Largest decoded frame: 18 + 1024 = 1042 bytes. */
export const MAX_BODY = FRAME_OVERHEAD + MAX_PAYLOAD;
/** Largest COBS-encoded frame without its delimiter: 1047 bytes. */
export const MAX_ENCODED = cobsMaxEncodedLength(MAX_BODY);
/** Largest frame on the wire, delimiter included: 1048 bytes. */
export const MAX_WIRE = MAX_ENCODED + 1;

export const FLAG_MORE = 0x01;
export const FLAG_POLL = 0x02;
export const FLAGS_KNOWN = FLAG_MORE | FLAG_POLL;

export interface Frame {
  type: number; // u8
  flags: number; // u8
  seq: number; // u16
  ack: number; // u16
  credit: number; // u16
  req: number; // u32
  payload: Uint8Array;
}

/** Control frames (ACK, NAK, INTERRUPT) carry no sequence number and are not acknowledged. */
export function isControlType(type: number): boolean {
  return type >= 0x01 && type <= 0x0f;
}

/** The credit a frame consumes at its receiver: its decoded size, 18 + payload length. */
export function frameCost(payloadLength: number): number {
  return FRAME_OVERHEAD + payloadLength;
}

export type FrameErrorReason =
  | "cobs" // the bytes between two delimiters are not valid COBS
  | "short" // decoded frame shorter than 18 bytes
  | "oversize" // decoded frame longer than 18 + max payload
  | "crc" // CRC-32 does not match
  | "length"; // the len field disagrees with the decoded size

export class FrameError extends Error {
  constructor(
    readonly reason: FrameErrorReason,
    message: string,
  ) {
    super(`frame: ${message}`);
    this.name = "FrameError";
  }
}

function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`frame: ${name} ${v} out of range 0..${max}`);
}

/** Header + payload + CRC (the decoded frame). */
export function encodeFrameBody(f: Frame, maxPayload = MAX_PAYLOAD): Uint8Array {
  checkField("type", f.type, 0xff);
  checkField("flags", f.flags, 0xff);
  checkField("seq", f.seq, 0xffff);
  checkField("ack", f.ack, 0xffff);
  checkField("credit", f.credit, 0xffff);
  checkField("req", f.req, 0xffffffff);
  if (f.type === 0) throw new RangeError("frame: type 0 is reserved");
  if (f.flags & ~FLAGS_KNOWN) throw new RangeError(`frame: reserved flag bits set in ${f.flags}`);
  if (f.payload.length > maxPayload) throw new RangeError(`frame: payload of ${f.payload.length} bytes exceeds ${maxPayload}`);
  const n = f.payload.length;
  const body = new Uint8Array(FRAME_OVERHEAD + n);
  const dv = new DataView(body.buffer);
  dv.setUint8(0, f.type);
  dv.setUint8(1, f.flags);
  dv.setUint16(2, f.seq, true);
  dv.setUint16(4, f.ack, true);
  dv.setUint16(6, f.credit, true);
  dv.setUint32(8, f.req, true);
  dv.setUint16(12, n, true);
  body.set(f.payload, HEADER_LEN);
  dv.setUint32(HEADER_LEN + n, crc32(body, 0, HEADER_LEN + n), true);
  return body;
}

/** The bytes to write to the line: COBS(body) followed by the 0x00 delimiter. */
export function encodeFrame(f: Frame, maxPayload = MAX_PAYLOAD): Uint8Array {
  const enc = cobsEncode(encodeFrameBody(f, maxPayload));
  const wire = new Uint8Array(enc.length + 1);
  wire.set(enc, 0);
  return wire; // last byte already 0x00
}

/**
 * Check and split a decoded frame. Checks in this order, the first failure is thrown:
 * short (< 18), oversize (> 18 + maxPayload), crc, length.
 */
export function decodeFrameBody(body: Uint8Array, maxPayload = MAX_PAYLOAD): Frame {
  if (body.length < FRAME_OVERHEAD) throw new FrameError("short", `${body.length} bytes, need at least ${FRAME_OVERHEAD}`);
  if (body.length > FRAME_OVERHEAD + maxPayload)
    throw new FrameError("oversize", `${body.length} bytes, at most ${FRAME_OVERHEAD + maxPayload}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const end = body.length - CRC_LEN;
  const want = dv.getUint32(end, true);
  const got = crc32(body, 0, end);
  if (want !== got)
    throw new FrameError("crc", `CRC-32 ${hex32(got)} but frame says ${hex32(want)}`);
  const len = dv.getUint16(12, true);
  if (len !== end - HEADER_LEN) throw new FrameError("length", `len field ${len} but ${end - HEADER_LEN} payload bytes`);
  return {
    type: dv.getUint8(0),
    flags: dv.getUint8(1),
    seq: dv.getUint16(2, true),
    ack: dv.getUint16(4, true),
    credit: dv.getUint16(6, true),
    req: dv.getUint32(8, true),
    payload: body.slice(HEADER_LEN, end),
  };
}

/** Decode the bytes between two delimiters (COBS, then the checks of decodeFrameBody). */
export function decodeFrame(encoded: Uint8Array, maxPayload = MAX_PAYLOAD): Frame {
  let body: Uint8Array;
  try {
    body = cobsDecode(encoded);
  } catch (e) {
    if (e instanceof CobsError) throw new FrameError("cobs", e.message);
    throw e;
  }
  return decodeFrameBody(body, maxPayload);
}

export function hex32(n: number): string {
  return "0x" + (n >>> 0).toString(16).padStart(8, "0");
}
