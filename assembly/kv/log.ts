// The K/V log (SPEC.md section 7): the store survives a reboot through an append-only
// log in the K/V flash partition, which the host gives the image through the flash
// imports (NOR semantics: erase sets 4 KiB sectors to 0xFF, a write only clears bits).
//
// Format, version 1. The partition is split into two areas of equal size (whole sectors).
//   area header (16 bytes): u32 magic "SXKV", u32 generation, u32 0xFFFFFFFF, u32 CRC-32
//                           of the first 12 bytes
//   records from offset 16, each starting 4-aligned:
//     u32 length (bytes from this field to the CRC, CRC included)
//     u8 op (1 = SET, 2 = DEL), u8 key length, u16 0
//     key bytes, then for SET the value's SLP buffer (slp/format.ts)
//     u32 CRC-32 of everything before it in the record
//     padding to 4 bytes, left erased
// The active area is the valid header with the highest generation; its records replay
// in order up to the first erased length (the end) or the first bad record (a torn
// write: discarded). When the area fills, or after a torn tail, the live entries are
// written as SET records into the other area (erased first) and its header, with the
// next generation, is written last: a power cut at any point leaves one complete area.
// A write is acknowledged once host_flash_write has returned (durable).

import { FLASH_SECTOR, MAX_KEY } from "../limits";
import { hostFlashSize, hostFlashRead, hostFlashWrite, hostFlashErase } from "../host";
import { alloc, free } from "../mem/heap";
import { textNew, textReserve, textPtr, textLen, textClear } from "../mem/text";
import { HEADER, bufAlloc, releaseBuf, mkv, bufLength } from "../slp/format";
import { validBuffer } from "../slp/validate";
import { kvSet, kvDel, kvCount, entryAt, entryKey, entryKeyLen, entryValue } from "./store";

const MAGIC: u32 = 0x564b5853; // "SXKV" little-endian
const AREA_HEADER: u32 = 16;
const OP_SET: u8 = 1;
const OP_DEL: u8 = 2;
const RECORD_MIN: u32 = 12; // length, op/key length, CRC, empty key

let areaSize: u32 = 0; // 0: no partition, the store lives in RAM only
let active: u32 = 0; // 0 or 1
let generation: u32 = 0;
let writePos: u32 = 0; // next record's offset inside the active area
let record: usize = 0; // a text reused to build records
// A write that failed may have left a record (whole or torn) where the next would go, and
// RAM no longer matches flash: compact from RAM before anything else is appended.
let dirty = false;

// ---- CRC-32 (IEEE, reflected, init and final xor 0xFFFFFFFF), a byte at a time ----

const CRC_TABLE = memory.data<u32>([
  0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
  0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
  0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
  0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
  0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
  0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
  0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
  0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
  0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
  0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
  0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
  0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
  0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
  0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
  0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
  0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
  0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
  0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
  0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
  0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
  0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
  0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
  0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
  0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
  0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
  0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
  0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
  0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
  0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
  0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
  0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
  0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
]);

export function crc32(p: usize, n: u32, crc: u32 = 0): u32 {
  crc = ~crc;
  for (let i: u32 = 0; i < n; i++) {
    crc = (crc >>> 8) ^ load<u32>(CRC_TABLE + ((<usize>((crc ^ <u32>load<u8>(p + i)) & 255)) << 2));
  }
  return ~crc;
}

// ---- flash access ----

@inline function areaBase(a: u32): u32 {
  return a * areaSize;
}

const word = memory.data(16);

function readHeader(a: u32): u32 {
  // the generation of area a's valid header, or 0
  if (hostFlashRead(areaBase(a), word, 16) != 0) return 0;
  if (load<u32>(word) != MAGIC || load<u32>(word, 8) != 0xffffffff) return 0;
  if (crc32(word, 12) != load<u32>(word, 12)) return 0;
  return load<u32>(word, 4);
}

function writeHeader(a: u32, gen: u32): bool {
  store<u32>(word, MAGIC);
  store<u32>(word, gen, 4);
  store<u32>(word, 0xffffffff, 8);
  store<u32>(word, crc32(word, 12), 12);
  return hostFlashWrite(areaBase(a), word, 16) == 0;
}

@inline function padded(n: u32): u32 {
  return (n + 3) & ~3;
}

/** Builds a record in the reusable text; its length before padding, or 0 when out of memory. */
function build(op: u8, key: usize, keyLen: i32, buf: usize): u32 {
  let valueLen: u32 = buf ? bufLength(buf) : 0;
  let n: u32 = 8 + <u32>keyLen + valueLen + 4;
  if (!record) record = textNew(256);
  if (!record) return 0;
  textClear(record);
  let r = textReserve(record, <i32>padded(n));
  if (!r) { record = 0; return 0; }
  record = r;
  let p = textPtr(r);
  store<u32>(p, n);
  store<u8>(p, op, 4);
  store<u8>(p, <u8>keyLen, 5);
  store<u16>(p, 0, 6);
  memory.copy(p + 8, key, keyLen);
  if (buf) memory.copy(p + 8 + keyLen, buf, valueLen);
  store<u32>(p + n - 4, crc32(p, n - 4));
  // padding stays erased
  for (let i = n; i < padded(n); i++) store<u8>(p + i, 0xff);
  return n;
}

/** Writes live entries as SET records into the other area, then its header; false when they do not fit. */
function compact(): bool {
  let other = 1 - active;
  if (hostFlashErase(areaBase(other), areaSize) != 0) return false;
  let w: u32 = AREA_HEADER;
  let n = kvCount();
  for (let i: u32 = 0; i < n; i++) {
    let e = entryAt(i);
    let len = build(OP_SET, entryKey(e), entryKeyLen(e), <usize>(entryValue(e) >>> 32));
    if (!len) return false;
    if (w + padded(len) > areaSize) return false;
    if (hostFlashWrite(areaBase(other) + w, textPtr(record), padded(len)) != 0) return false;
    w += padded(len);
  }
  if (!writeHeader(other, generation + 1)) return false;
  generation++;
  active = other;
  writePos = w;
  return true;
}

/**
 * Appends a record already built (length n); compacts first when the area is full or
 * dirty. `inRam`: the change is already in RAM (writes and deletions change RAM first),
 * so a compaction already carries it and the record need not follow.
 */
function append(n: u32, inRam: bool): bool {
  let size = padded(n);
  if (dirty || writePos + size > areaSize) {
    // the record must survive compaction's reuse of the text: keep a copy
    let copy = alloc(size);
    if (!copy) return false;
    memory.copy(copy, textPtr(record), size);
    let compacted = compact();
    if (compacted) dirty = false;
    if (compacted && inRam) {
      free(copy);
      return true;
    }
    let ok = compacted && writePos + size <= areaSize;
    let wrote = ok && hostFlashWrite(areaBase(active) + writePos, copy, size) == 0;
    free(copy);
    if (ok && !wrote) return failed();
    if (!wrote) return false;
  } else if (hostFlashWrite(areaBase(active) + writePos, textPtr(record), size) != 0) {
    return failed();
  }
  writePos += size;
  return true;
}

/**
 * A record write failed: the caller undoes its RAM change, so flash must not keep the
 * record. Compact from RAM now (best effort; if the flash is gone this fails too, and the
 * next write tries again first).
 */
function failed(): bool {
  dirty = true;
  return false;
}

/** Called after the caller has undone its RAM change for a failed log write. */
export function logRepair(): void {
  if (dirty && areaSize && compact()) dirty = false;
}

// ---- the store's write path ----

/** True when the store is backed by flash. */
export function logEnabled(): bool {
  return areaSize != 0;
}

/** Logs key := value (a buffer root, already in RAM) durably; false when the log has no room (store full). */
export function logSet(key: usize, keyLen: i32, buf: usize): bool {
  if (!areaSize) return true;
  let n = build(OP_SET, key, keyLen, buf);
  return n != 0 && append(n, true);
}

/** Logs the deletion of key (already gone from RAM) durably; false when the log has no room. */
export function logDel(key: usize, keyLen: i32): bool {
  if (!areaSize) return true;
  let n = build(OP_DEL, key, keyLen, 0);
  return n != 0 && append(n, true);
}

// ---- boot: replay ----

const REPLAY_CLEAN = 0; // the log ends in erased flash
const REPLAY_TORN = 1; // a bad record (a torn write) cut it short: compact
const REPLAY_FAILED = 2; // memory or flash failed: leave the flash alone

/** Applies the records of the active area. */
function replay(): i32 {
  let pos: u32 = AREA_HEADER;
  let base = areaBase(active);
  let clean = true;
  while (pos + 4 <= areaSize) {
    if (hostFlashRead(base + pos, word, 4) != 0) return REPLAY_FAILED;
    let n = load<u32>(word);
    if (n == 0xffffffff) break;
    if (n < RECORD_MIN || n > areaSize - pos) { clean = false; break; }
    let r = alloc(n);
    if (!r) return REPLAY_FAILED;
    if (hostFlashRead(base + pos, r, n) != 0) { free(r); return REPLAY_FAILED; }
    let ok = crc32(r, n - 4) == load<u32>(r + n - 4);
    let op = load<u8>(r, 4);
    let keyLen = <i32>load<u8>(r, 5);
    if (ok) ok = keyLen >= 1 && keyLen <= MAX_KEY && <u32>(8 + keyLen + 4) <= n;
    if (ok && op == OP_SET) {
      let valueLen = n - 12 - <u32>keyLen;
      let v = r + 8 + keyLen;
      ok = validBuffer(v, valueLen);
      if (ok) {
        let buf = bufAlloc(valueLen);
        let stored = buf != 0;
        if (stored) {
          memory.copy(buf, v, valueLen);
          stored = kvSet(r + 8, keyLen, mkv(buf, HEADER));
          releaseBuf(buf);
        }
        if (!stored) { free(r); return REPLAY_FAILED; }
      }
    } else if (ok && op == OP_DEL) {
      kvDel(r + 8, keyLen);
    } else ok = false;
    free(r);
    if (!ok) { clean = false; break; }
    pos += padded(n);
  }
  writePos = pos;
  if (!clean) return REPLAY_TORN;
  // everything after the end must still be erased, or appends would land on garbage
  let p = pos;
  while (p < areaSize) {
    let chunk: u32 = areaSize - p < 16 ? areaSize - p : 16;
    if (hostFlashRead(base + p, word, chunk) != 0) return REPLAY_FAILED;
    for (let i: u32 = 0; i < chunk; i++) if (load<u8>(word + i) != 0xff) return REPLAY_TORN;
    p += chunk;
  }
  return REPLAY_CLEAN;
}

/**
 * Opens the log at boot: picks the newest valid area, replays it into the (empty) store,
 * and compacts after a torn tail. Returns false, having written nothing, when the flash
 * cannot be read or the store does not fit in memory.
 */
export function logBoot(): bool {
  let size = <u32>hostFlashSize();
  areaSize = (size / 2) & ~(FLASH_SECTOR - 1);
  if (areaSize < FLASH_SECTOR) { areaSize = 0; return true; }
  let g0 = readHeader(0);
  let g1 = readHeader(1);
  if (!g0 && !g1) {
    // a blank (or foreign) partition: start area 0 afresh
    active = 1;
    generation = 0;
    return compact();
  }
  active = g1 > g0 ? 1 : 0;
  generation = g1 > g0 ? g1 : g0;
  let r = replay();
  if (r == REPLAY_FAILED) {
    areaSize = 0;
    return false;
  }
  return r == REPLAY_CLEAN || compact();
}
