// The image file: a 32-byte header followed by the Wasm module (docs/link.md section 12).
// Written by the build tools, read by the host before flashing and by the board at
// FLASH_COMMIT and at boot.
//
//   off size field
//   0   4    magic          "SXSI" (53 58 53 49)
//   4   2    format         1
//   6   2    header_len     32
//   8   4    abi_version    the image ABI version (docs/abi.md), 1
//   12  4    wasm_len       bytes of Wasm after the header
//   16  4    wasm_crc       CRC-32 of those bytes (the "image id" shown in HELLO/INFO)
//   20  4    flags          0 (reserved)
//   24  4    build_time     Unix seconds when built (informational, may be 0)
//   28  4    header_crc     CRC-32 of bytes 0..27

import { crc32 } from "./crc32.js";
import { ErrorCode } from "./messages.js";

export const IMAGE_MAGIC = Uint8Array.of(0x53, 0x58, 0x53, 0x49); // "SXSI"
export const IMAGE_FORMAT = 1;
export const IMAGE_HEADER_LEN = 32;
export const WASM_PREAMBLE = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

export interface ImageHeader {
  format: number;
  headerLen: number;
  abiVersion: number;
  wasmLen: number;
  wasmCrc: number;
  flags: number;
  buildTime: number;
  headerCrc: number;
}

export type ImageErrorReason = "truncated" | "magic" | "header-crc" | "format" | "abi" | "length" | "wasm-crc" | "not-wasm";

/** Why an image is refused; `code` is the ERROR code the board answers FLASH_COMMIT with. */
export class ImageError extends Error {
  constructor(
    readonly reason: ImageErrorReason,
    readonly code: number,
    message: string,
  ) {
    super(`image: ${message}`);
    this.name = "ImageError";
  }
}

export function encodeImageHeader(h: { abiVersion: number; wasmLen: number; wasmCrc: number; flags?: number; buildTime?: number }): Uint8Array {
  const b = new Uint8Array(IMAGE_HEADER_LEN);
  const dv = new DataView(b.buffer);
  b.set(IMAGE_MAGIC, 0);
  dv.setUint16(4, IMAGE_FORMAT, true);
  dv.setUint16(6, IMAGE_HEADER_LEN, true);
  dv.setUint32(8, h.abiVersion, true);
  dv.setUint32(12, h.wasmLen, true);
  dv.setUint32(16, h.wasmCrc >>> 0, true);
  dv.setUint32(20, h.flags ?? 0, true);
  dv.setUint32(24, h.buildTime ?? 0, true);
  dv.setUint32(28, crc32(b, 0, 28), true);
  return b;
}

/** Header + Wasm: the image file the build tools write. */
export function buildImage(wasm: Uint8Array, opts: { abiVersion: number; buildTime?: number }): Uint8Array {
  const h = encodeImageHeader({ abiVersion: opts.abiVersion, wasmLen: wasm.length, wasmCrc: crc32(wasm), buildTime: opts.buildTime ?? 0 });
  const out = new Uint8Array(h.length + wasm.length);
  out.set(h, 0);
  out.set(wasm, h.length);
  return out;
}

/** Read the header fields; checks only length, magic and header CRC. */
export function decodeImageHeader(file: Uint8Array): ImageHeader {
  if (file.length < IMAGE_HEADER_LEN)
    throw new ImageError("truncated", ErrorCode.IMAGE_BAD_HEADER, `${file.length} bytes, shorter than the ${IMAGE_HEADER_LEN}-byte header`);
  for (let i = 0; i < 4; i++)
    if (file[i] !== IMAGE_MAGIC[i]) throw new ImageError("magic", ErrorCode.IMAGE_BAD_HEADER, "bad magic (not an sxs image)");
  const dv = new DataView(file.buffer, file.byteOffset, IMAGE_HEADER_LEN);
  const headerCrc = dv.getUint32(28, true);
  if (crc32(file, 0, 28) !== headerCrc) throw new ImageError("header-crc", ErrorCode.IMAGE_BAD_HEADER, "header CRC mismatch");
  return {
    format: dv.getUint16(4, true),
    headerLen: dv.getUint16(6, true),
    abiVersion: dv.getUint32(8, true),
    wasmLen: dv.getUint32(12, true),
    wasmCrc: dv.getUint32(16, true),
    flags: dv.getUint32(20, true),
    buildTime: dv.getUint32(24, true),
    headerCrc,
  };
}

/**
 * Every check a board makes before handing the Wasm to its engine, in this order:
 * truncated, magic, header-crc, format (format 1 and header_len 32), abi, length
 * (file size = 32 + wasm_len), wasm-crc, not-wasm (the 8-byte Wasm preamble).
 * Returns the header and the Wasm bytes.
 */
export function verifyImage(file: Uint8Array, supportedAbi: number): { header: ImageHeader; wasm: Uint8Array } {
  const h = decodeImageHeader(file);
  if (h.format !== IMAGE_FORMAT || h.headerLen !== IMAGE_HEADER_LEN)
    throw new ImageError("format", ErrorCode.IMAGE_BAD_HEADER, `format ${h.format} with a ${h.headerLen}-byte header is not supported`);
  if (h.abiVersion !== supportedAbi)
    throw new ImageError("abi", ErrorCode.IMAGE_BAD_ABI, `ABI version ${h.abiVersion}, this board runs ABI ${supportedAbi}`);
  if (file.length !== IMAGE_HEADER_LEN + h.wasmLen)
    throw new ImageError(
      "length",
      ErrorCode.IMAGE_BAD_HEADER,
      `header says ${h.wasmLen} Wasm bytes but the file has ${file.length - IMAGE_HEADER_LEN}` +
        (file.length < IMAGE_HEADER_LEN + h.wasmLen ? " (truncated)" : ""),
    );
  const wasm = file.subarray(IMAGE_HEADER_LEN);
  const c = crc32(wasm);
  if (c !== h.wasmCrc)
    throw new ImageError("wasm-crc", ErrorCode.IMAGE_BAD_CRC, `Wasm CRC-32 0x${c.toString(16).padStart(8, "0")} but header says 0x${h.wasmCrc.toString(16).padStart(8, "0")}`);
  for (let i = 0; i < WASM_PREAMBLE.length; i++)
    if (wasm[i] !== WASM_PREAMBLE[i]) throw new ImageError("not-wasm", ErrorCode.IMAGE_NOT_WASM, "the payload is not a Wasm version-1 module");
  return { header: h, wasm };
}
