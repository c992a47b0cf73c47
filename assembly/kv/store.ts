// The K/V store: a sorted array of entry pointers, searched by binary search, so that
// lookups are O(log n) and a prefix walk is O(log n + k). Inserting moves the tail of
// the array (a memmove of 4-byte pointers): the right trade for the few thousand keys
// a microcontroller holds, with one 4-byte slot of overhead per key.
//
// An entry is one heap block: [u32 value buffer][u32 key length][key bytes]. The value
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
 * bytes past n undefined): most keys differ in their first eight bytes, so one 64-bit XOR
 * usually decides without a call. Reading eight bytes at a key is safe: an entry block
 * is at least 16 bytes and another block header or the heap's end marker follows it.
 */
@inline function keyCompare(e: usize, p: usize, n: i32, q: u64): i32 {
  let kn = entryKeyLen(e);
  let m = kn < n ? kn : n;
  let x = load<u64>(e + 8) ^ q;
  if (m < 8) x &= (<u64>1 << (<u64>m << 3)) - 1;
  if (x) {
    let k = <usize>(ctz(x) >> 3);
    return <i32>load<u8>(e + 8 + k) - <i32>load<u8>(p + k);
  }
  if (m <= 8) return kn - n;
  return bytesCompare(e + 8, kn, p, n);
}

/** The first eight bytes of (p, n), read without going past the end of memory. */
function keyWord(p: usize, n: i32): u64 {
  if (n >= 8 && p + 8 <= (<usize>memory.size() << 16)) return load<u64>(p);
  let q: u64 = 0;
  let m = n < 8 ? n : 8;
  for (let i = 0; i < m; i++) q |= <u64>load<u8>(p + i) << (<u64>i << 3);
  return q;
}

/** Position of the first key >= (p, n); sets `found` when that key is (p, n). */
export function lowerBound(p: usize, n: i32): u32 {
  let lo: u32 = 0, hi = count;
  let q = keyWord(p, n);
  found = false;
  while (lo < hi) {
    let mid = (lo + hi) >>> 1;
    let c = keyCompare(entryAt(mid), p, n, q);
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

/**
 * Stores value v (the root of its buffer, see copyValue; the store takes a reference) under key
 * (p, n). Returns false, changing nothing, when memory runs out.
 */
export function kvSet(p: usize, n: i32, v: Value): bool {
  let i = lowerBound(p, n);
  if (found) {
    let e = entryAt(i);
    let old = load<u32>(e);
    retainBuf(vbuf(v));
    store<u32>(e, <u32>vbuf(v));
    releaseBuf(old);
    return true;
  }
  if (count == cap) {
    let ncap: u32 = cap ? cap * 2 : 16;
    let q = realloc(index, <usize>ncap << 2, <usize>count << 2);
    if (!q) return false;
    index = q;
    cap = ncap;
  }
  let e = alloc(8 + <usize>n);
  if (!e) return false;
  retainBuf(vbuf(v));
  store<u32>(e, <u32>vbuf(v));
  store<i32>(e, n, 4);
  memory.copy(e + 8, p, n);
  let slot = index + (<usize>i << 2);
  memory.copy(slot + 4, slot, <usize>(count - i) << 2);
  store<u32>(slot, <u32>e);
  count++;
  return true;
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
