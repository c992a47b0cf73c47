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
import { kvPut, KV_FULL, kvDel, kvCount, entryAt, entryKey, entryKeyLen, entryValue } from "./store";

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

// ---- CRC-32 (IEEE, reflected, init and final xor 0xFFFFFFFF), one 1 KiB table ----

// The table is computed on first use rather than shipped: 1 KB less in the image.
const CRC_TABLE = memory.data(256 * 4);
let crcReady = false;

function crcTable(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & (0 - (c & 1)));
    store<u32>(CRC_TABLE + (<usize>i << 2), c);
  }
  crcReady = true;
}

export function crc32(p: usize, n: u32, crc: u32 = 0): u32 {
  if (!crcReady) crcTable();
  crc = ~crc;
  let end = p + <usize>n;
  // four bytes a step: fewer loop turns and loads under an interpreter, same table
  while (p + 4 <= end) {
    crc ^= load<u32>(p);
    crc = (crc >>> 8) ^ load<u32>(<usize>(crc & 255) << 2, CRC_TABLE);
    crc = (crc >>> 8) ^ load<u32>(<usize>(crc & 255) << 2, CRC_TABLE);
    crc = (crc >>> 8) ^ load<u32>(<usize>(crc & 255) << 2, CRC_TABLE);
    crc = (crc >>> 8) ^ load<u32>(<usize>(crc & 255) << 2, CRC_TABLE);
    p += 4;
  }
  while (p < end) {
    crc = (crc >>> 8) ^ load<u32>(<usize>((crc ^ <u32>load<u8>(p)) & 255) << 2, CRC_TABLE);
    p++;
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
          let old = kvPut(r + 8, keyLen, mkv(buf, HEADER), <usize>-1);
          stored = old != KV_FULL;
          if (stored && old) releaseBuf(old);
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
