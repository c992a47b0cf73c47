// The K/V store: a sorted array of entry pointers, searched by binary search, so that
// lookups are O(log n) and a prefix walk is O(log n + k). Inserting moves the tail of
// the array (a memmove of 4-byte pointers): the right trade for the few thousand keys
// a microcontroller holds, with one 4-byte slot of overhead per key.
//
// An entry is one heap block: [u32 value buffer][u32 key length][key bytes, zero-padded
// to at least eight for the search's 64-bit compare]. The value
// is a whole SLP buffer (format.ts, its root at HEADER) kept by reference count, so
// `get` hands out the stored object without copying it.

import { alloc, free, realloc } from "../mem/heap";
import { bytesCompare, bytesEq } from "../mem/text";
import { Value, HEADER, mkv, vbuf, retainBuf, releaseBuf } from "../slp/format";

let index: usize = 0; // u32 entry pointers, sorted by key
let count: u32 = 0;
let cap: u32 = 0;
// Keys taken out so far: a window snapshot taken when this was N holds only keys that
// still exist while it is still N (iterate then skips the lookup per key).
let removals: u32 = 0;

@inline export function entryAt(i: u32): usize {
  return <usize>load<u32>(index + (<usize>i << 2));
}
@inline export function entryKeyLen(e: usize): i32 {
  return load<i32>(e, 4);
}
@inline export function entryKey(e: usize): usize {
  return e + 8;
}
@inline export function entryValue(e: usize): Value {
  return mkv(load<u32>(e), HEADER);
}

export function kvCount(): u32 {
  return count;
}

/** Whether the last lowerBound found the key itself (keys are unique: it stopped there). */
let found = false;

/**
 * Compares entry e's key with (p, n), whose first eight bytes are `q` (little-endian,
 * zero past n). Entry keys are zero-padded to eight bytes too (kvPut), so one 64-bit XOR
 * usually decides without masking or a call: at the first differing byte either both
 * keys have a byte there, or the one that ended has a 0 and is the smaller (a prefix),
 * as bytewise order wants. When the first eight bytes agree and a key ends within them,
 * the shorter key is the smaller.
 */
@inline function keyCompare(e: usize, p: usize, n: i32, q: u64): i32 {
  let kn = entryKeyLen(e);
  let w = load<u64>(e + 8);
  let x = w ^ q;
  if (x) {
    // the first differing byte decides: compare both words masked to it (past n, only
    // q is zero: p's memory is not)
    let m = <u64>255 << (ctz(x) & ~7);
    return (w & m) > (q & m) ? 1 : -1;
  }
  if (kn <= 8 || n <= 8) return kn - n;
  return bytesCompare(e + 16, kn - 8, p + 8, n - 8);
}

/** The first eight bytes of (p, n), zero past n, read without going past the end of memory. */
function keyWord(p: usize, n: i32): u64 {
  if (p + 8 <= (<usize>memory.size() << 16)) {
    let w = load<u64>(p);
    return n >= 8 ? w : w & ((<u64>1 << (<u64>n << 3)) - 1);
  }
  let q: u64 = 0;
  let m = n < 8 ? n : 8;
  for (let i = 0; i < m; i++) q |= <u64>load<u8>(p + i) << (<u64>i << 3);
  return q;
}

/** Position of the first key >= (p, n); sets `found` when that key is (p, n). */
export function lowerBound(p: usize, n: i32): u32 {
  let lo: u32 = 0, hi = count;
  let q = keyWord(p, n);
  let base = index;
  found = false;
  while (lo < hi) {
    let mid = (lo + hi) >>> 1;
    let c = keyCompare(<usize>load<u32>(base + (<usize>mid << 2)), p, n, q);
    if (c < 0) lo = mid + 1;
    else if (c > 0) hi = mid;
    else { found = true; return mid; }
  }
  return lo;
}

/** The entry for key (p, n), or 0. */
@inline export function kvFind(p: usize, n: i32): usize {
  let i = lowerBound(p, n);
  return found ? entryAt(i) : 0;
}

/** The stored value (not retained), or 0 when the key is missing. */
export function kvGet(p: usize, n: i32): Value {
  let e = kvFind(p, n);
  return e ? entryValue(e) : 0;
}

/** What kvPut returns when memory runs out (never a buffer address: those are 4 mod 8). */
export const KV_FULL: usize = 1;

/**
 * Stores value v (the root of its buffer, see copyValue; the store takes a reference) under
 * key (p, n). Returns the buffer of the value it replaced, whose reference passes to the
 * caller (so that a set the log refuses can be undone without a second search), 0 when
 * the key is new, or KV_FULL, changing nothing, when memory runs out or a new key would
 * grow the index by more than `spare` bytes.
 */
export function kvPut(p: usize, n: i32, v: Value, spare: usize): usize {
  let i = lowerBound(p, n);
  if (found) {
    let e = entryAt(i);
    let old = <usize>load<u32>(e);
    retainBuf(vbuf(v));
    store<u32>(e, <u32>vbuf(v));
    return old;
  }
  if (count == cap) {
    // a grown index stays grown when a write is undone: it may take only what the
    // caller can spare
    let ncap: u32 = cap ? cap * 2 : 16;
    if (<usize>ncap << 2 > spare) return KV_FULL;
    let q = realloc(index, <usize>ncap << 2, <usize>count << 2);
    if (!q) return KV_FULL;
    index = q;
    cap = ncap;
  }
  // the key zero-padded to at least eight bytes, for keyCompare
  let e = alloc(n < 8 ? 16 : 8 + <usize>n);
  if (!e) return KV_FULL;
  retainBuf(vbuf(v));
  store<u32>(e, <u32>vbuf(v));
  store<i32>(e, n, 4);
  store<u64>(e + 8, 0);
  memory.copy(e + 8, p, n);
  let slot = index + (<usize>i << 2);
  memory.copy(slot + 4, slot, <usize>(count - i) << 2);
  store<u32>(slot, <u32>e);
  count++;
  return 0;
}

/**
 * Takes key (p, n)'s entry out of the store without freeing it (0 when absent), so that
 * a deletion the log refuses can be undone with kvAttach, which needs no memory.
 */
export function kvDetach(p: usize, n: i32): usize {
  let i = lowerBound(p, n);
  if (!found) return 0;
  let e = entryAt(i);
  let slot = index + (<usize>i << 2);
  memory.copy(slot, slot + 4, <usize>(count - i - 1) << 2);
  count--;
  removals++;
  return e;
}

/** Puts back an entry from kvDetach (the index has room: it held the entry before). */
export function kvAttach(e: usize): void {
  let i = lowerBound(entryKey(e), entryKeyLen(e));
  let slot = index + (<usize>i << 2);
  memory.copy(slot + 4, slot, <usize>(count - i) << 2);
  store<u32>(slot, <u32>e);
  count++;
}

/** Frees an entry from kvDetach. */
export function kvFreeEntry(e: usize): void {
  releaseBuf(load<u32>(e));
  free(e);
}

/** Removes key (p, n) if present. */
export function kvDel(p: usize, n: i32): void {
  let i = lowerBound(p, n);
  if (!found) return;
  let e = entryAt(i);
  releaseBuf(load<u32>(e));
  free(e);
  let slot = index + (<usize>i << 2);
  memory.copy(slot, slot + 4, <usize>(count - i - 1) << 2);
  count--;
  removals++;
}

/** Offset of the first key in a kvWindow snapshot. */
export const WINDOW_KEYS: u32 = 8;

/** Whether every key of snapshot `snap` is still in the store (none was removed since). */
export function windowIntact(snap: usize): bool {
  return load<u32>(snap, 4) == removals;
}

function hasPrefix(e: usize, p: usize, n: i32): bool {
  if (entryKeyLen(e) < n) return false;
  return bytesEq(entryKey(e), p, n);
}

/**
 * A snapshot of the window of keys starting with prefix (p, n): skip `offset` of them,
 * take at most `limit`. Returns a heap block [u32 count][u32 removals when taken] then
 * per key [u32 len][bytes] (from WINDOW_KEYS), or 0 when out of memory.
 */
export function kvWindow(p: usize, n: i32, offset: u32, limit: u32): usize {
  let start = lowerBound(p, n);
  let i = start;
  // skip the offset (the matching keys are contiguous)
  let skipped: u32 = 0;
  while (skipped < offset && i < count && hasPrefix(entryAt(i), p, n)) { i++; skipped++; }
  let first = i;
  let bytes: usize = WINDOW_KEYS;
  let taken: u32 = 0;
  while (taken < limit && i < count) {
    let e = entryAt(i);
    if (!hasPrefix(e, p, n)) break;
    bytes += 4 + <usize>entryKeyLen(e);
    taken++;
    i++;
  }
  let snap = alloc(bytes);
  if (!snap) return 0;
  store<u32>(snap, taken);
  store<u32>(snap, removals, 4);
  let w = snap + WINDOW_KEYS;
  for (let j: u32 = 0; j < taken; j++) {
    let e = entryAt(first + j);
    let kn = entryKeyLen(e);
    store<i32>(w, kn);
    memory.copy(w + 4, entryKey(e), kn);
    w += 4 + kn;
  }
  return snap;
}
