// CRC-32 (IEEE 802.3): reflected, polynomial 0xEDB88320, initial value and final
// XOR 0xFFFFFFFF. The check value of the ASCII bytes "123456789" is 0xCBF43926.
// Used for link frames (docs/link.md section 4) and image files (section 12).

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continue a CRC over more bytes. Start with `crc32Init()`, end with `crc32Final()`. */
export function crc32Update(state: number, data: Uint8Array, start = 0, end = data.length): number {
  let c = state >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

export function crc32Init(): number {
  return 0xffffffff;
}

export function crc32Final(state: number): number {
  return (state ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of `data[start..end)` as an unsigned 32-bit number. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  return crc32Final(crc32Update(crc32Init(), data, start, end));
}
