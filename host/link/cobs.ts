// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), as used by the link
// (docs/link.md section 3). The encoded form contains no 0x00 byte; on the wire each
// encoded frame is followed by one 0x00 delimiter, which these functions do not add.
//
// Encoding of n bytes: the data is cut at each 0x00 into blocks; each block is written
// as a code byte (block length + 1) and the block's bytes. A block of 254 non-zero bytes
// is written with code 0xFF and has no implied zero after it. The encoding is the
// minimal one (as in Cheshire & Baker and the usual reference code): a final code byte
// is written after a full 0xFF block only if more input follows it, so 254 non-zero
// bytes encode as FF + the 254 bytes. The empty input encodes as the single byte 0x01.
// Size: 1 byte for the empty input, else n + ceil(n / 254) bytes at most.

/** The largest encoded size of `n` bytes: 1 for n = 0, else n + ceil(n / 254). */
export function cobsMaxEncodedLength(n: number): number {
  return n === 0 ? 1 : n + Math.ceil(n / 254);
}

export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  let codeAt = 0; // where the current block's code byte goes
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b !== 0) {
      out[o++] = b;
      code++;
    }
    if (b === 0 || code === 0xff) {
      out[codeAt] = code;
      code = 1;
      codeAt = o;
      // after a full block at the very end, no further code byte
      if (b === 0 || i < data.length - 1) o++;
    }
  }
  if (codeAt < o) out[codeAt] = code;
  return out.subarray(0, o);
}

export class CobsError extends Error {
  constructor(
    readonly reason: "zero byte" | "truncated run",
    readonly offset: number,
  ) {
    super(`COBS: ${reason} at ${offset}`);
    this.name = "CobsError";
  }
}

/**
 * Decode one encoded frame (without its delimiter). Throws CobsError when the input
 * holds a 0x00 byte or a code byte announces more bytes than remain. The empty input
 * is invalid too ("truncated run" at 0): every encoding has at least one code byte.
 * A redundant final 0x01 after a full 0xFF block (FF + 254 bytes + 01, as some
 * encoders write) decodes to the same bytes as the minimal form.
 */
export function cobsDecode(enc: Uint8Array): Uint8Array {
  const out = new Uint8Array(enc.length);
  let o = 0;
  let i = 0;
  if (enc.length === 0) throw new CobsError("truncated run", 0);
  while (i < enc.length) {
    const code = enc[i]!;
    if (code === 0) throw new CobsError("zero byte", i);
    const end = i + code;
    if (end > enc.length) throw new CobsError("truncated run", i);
    for (let j = i + 1; j < end; j++) {
      const b = enc[j]!;
      if (b === 0) throw new CobsError("zero byte", j);
      out[o++] = b;
    }
    i = end;
    if (code !== 0xff && i < enc.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
