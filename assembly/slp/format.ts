// The SLP buffer format, version 1: one contiguous, immutable, position-independent
// block per object. This is what the parser builds, what the K/V store keeps, what
// events carry and what runs; nothing is re-parsed on the way.
//
//   header (16 bytes)
//     +0  u8   version (1)
//     +1  u8   flags (0)
//     +2  u16  reserved (0)
//     +4  u32  length: total bytes, header and symbol table included
//     +8  u32  symbol count
//     +12 u32  symbol table offset (from the buffer start)
//   units, the root at +16, laid out in preorder (a list's children follow it, so a
//   subtree is one contiguous byte range):
//     0x01 INT32   i32                       5 bytes (integers that fit in 32 bits)
//     0x02 INT64   i64                       9 bytes
//     0x03 REAL    f64                       9 bytes
//     0x04 STRING  u32 n, n bytes            5+n bytes
//     0x05 SYMBOL  u32 id                    5 bytes
//     0x06 CALL  ( \
//     0x07 BODY  { |  u32 count, u32 size (the whole unit, children included),
//     0x08 DATA  [ /  u32 offset[count] (each child's position minus the list's)
//     0x09 QUOTE   then the quoted unit      1 byte + child
//     0x0A ERROR   then the wrapped unit     1 byte + child
//   symbol table: u32 offset[count] (from the buffer start) to entries u32 n, n bytes;
//   each name is stored once and units refer to it by id.
// All numbers little-endian, no alignment. A parsed request is a BODY root holding its
// top-level forms.
//
// In memory a buffer is preceded by a u32 reference count (at buf-4). A value is a
// view: the buffer address in the high 32 bits of a u64, the unit's offset in the low.

import { alloc, free, heapOwns, blockSize } from "../mem/heap";

export const SLP_VERSION: u8 = 1;
export const HEADER: u32 = 16;

export const T_INT32: u8 = 0x01;
export const T_INT64: u8 = 0x02;
export const T_REAL: u8 = 0x03;
export const T_STRING: u8 = 0x04;
export const T_SYMBOL: u8 = 0x05;
export const T_CALL: u8 = 0x06;
export const T_BODY: u8 = 0x07;
export const T_DATA: u8 = 0x08;
export const T_QUOTE: u8 = 0x09;
export const T_ERROR: u8 = 0x0a;

export const LIST_HEADER: u32 = 9;
const IMMORTAL: u32 = 0x40000000;

export type Value = u64;

@inline export function mkv(buf: usize, off: u32): Value {
  return (<u64>buf << 32) | <u64>off;
}
@inline export function vbuf(v: Value): usize {
  return <usize>(v >>> 32);
}
@inline export function voff(v: Value): u32 {
  return <u32>v;
}
@inline export function vptr(v: Value): usize {
  return <usize>(v >>> 32) + <usize>(<u32>v);
}
@inline export function vtag(v: Value): u8 {
  return load<u8>(vptr(v));
}
@inline export function isList(tag: u8): bool {
  return tag >= T_CALL && tag <= T_DATA;
}
@inline export function bufLength(buf: usize): u32 {
  return load<u32>(buf, 4);
}

// ---- reference counting ----

/** Allocates a buffer of `size` bytes with refcount 1; 0 when out of memory. */
export function bufAlloc(size: u32): usize {
  let p = alloc(<usize>size + 4);
  if (!p) return 0;
  store<u32>(p, 1);
  return p + 4;
}

@inline export function retainBuf(buf: usize): void {
  store<u32>(buf - 4, load<u32>(buf - 4) + 1);
}

export function releaseBuf(buf: usize): void {
  let rc = load<u32>(buf - 4);
  if (rc >= IMMORTAL) return;
  if (rc <= 1) free(buf - 4);
  else store<u32>(buf - 4, rc - 1);
}

export function makeImmortal(buf: usize): void {
  store<u32>(buf - 4, IMMORTAL);
}

@inline export function retain(v: Value): Value {
  if (v) retainBuf(vbuf(v));
  return v;
}

@inline export function release(v: Value): void {
  if (v) releaseBuf(vbuf(v));
}

export function ownedByHeap(buf: usize): bool {
  return heapOwns(buf);
}

// ---- reading ----

@inline export function listCount(v: Value): u32 {
  return load<u32>(vptr(v), 1);
}

@inline export function listChild(v: Value, i: u32): Value {
  return v + <u64>load<u32>(vptr(v) + LIST_HEADER + (<usize>i << 2));
}

/** Bytes the unit at p occupies (children included). */
export function unitSize(p: usize): u32 {
  let n: u32 = 0;
  // prefixes add one byte each to the unit they wrap
  while (true) {
    let tag = load<u8>(p);
    if (tag == T_QUOTE || tag == T_ERROR) { n++; p++; continue; }
    if (tag == T_INT32) return n + 5;
    if (tag == T_INT64 || tag == T_REAL) return n + 9;
    if (tag == T_STRING) return n + 5 + load<u32>(p, 1);
    if (tag == T_SYMBOL) return n + 5;
    return n + load<u32>(p, 5);
  }
}

/** The integer of an INT32/INT64 unit. */
export function intOf(v: Value): i64 {
  let p = vptr(v);
  return load<u8>(p) == T_INT32 ? <i64>load<i32>(p, 1) : load<i64>(p, 1);
}

@inline export function isInt(v: Value): bool {
  let t = vtag(v);
  return t == T_INT32 || t == T_INT64;
}

/**
 * Length of the bytes the last textOf call found: read it right after that call (callers
 * pass `textOf(v), textOfLen` as arguments, evaluated left to right), which saves a
 * second call per use under an interpreter.
 */
export let textOfLen: i32 = 0;

/** Address of the bytes of a STRING unit or of a SYMBOL's name (their length: textOfLen). */
export function textOf(v: Value): usize {
  let p = vptr(v);
  if (load<u8>(p) == T_STRING) {
    textOfLen = load<i32>(p, 1);
    return p + 5;
  }
  let e = symEntry(vbuf(v), load<u32>(p, 1));
  textOfLen = load<i32>(e);
  return e + 4;
}

/** Length of the bytes of a STRING unit or of a SYMBOL's name. */
export function textLenOf(v: Value): i32 {
  let p = vptr(v);
  if (load<u8>(p) == T_STRING) return load<i32>(p, 1);
  return load<i32>(symEntry(vbuf(v), load<u32>(p, 1)));
}

@inline export function symEntry(buf: usize, id: u32): usize {
  return buf + <usize>load<u32>(buf + <usize>load<u32>(buf, 12) + (<usize>id << 2));
}

// ---- building small values ----

function header(buf: usize, length: u32, nsym: u32, symtab: u32): void {
  store<u8>(buf, SLP_VERSION);
  store<u8>(buf, 0, 1);
  store<u16>(buf, 0, 2);
  store<u32>(buf, length, 4);
  store<u32>(buf, nsym, 8);
  store<u32>(buf, symtab, 12);
}

/** A string value holding bytes [p, p+n) (wrapped in an ERROR when `error`); 0 when out of memory. */
export function makeString(p: usize, n: u32, error: bool = false): Value {
  let pre: u32 = error ? 1 : 0;
  let len = HEADER + pre + 5 + n;
  let buf = bufAlloc(len);
  if (!buf) return 0;
  header(buf, len, 0, len);
  let q = buf + HEADER;
  if (error) store<u8>(q++, T_ERROR);
  store<u8>(q, T_STRING);
  store<u32>(q, n, 1);
  memory.copy(q + 5, p, n);
  return mkv(buf, HEADER);
}

/**
 * Makes string value v, the root of a buffer that nothing but the caller holds
 * (refcount 1), hold bytes [p, p+n) instead, when its block has room; false otherwise.
 * A loop variable ($key of iterate) so reuses one buffer instead of allocating one per
 * turn: with a single holder, nobody can see the change.
 */
export function rewriteString(v: Value, p: usize, n: u32): bool {
  if (!v || voff(v) != HEADER) return false;
  let buf = vbuf(v);
  if (load<u32>(buf - 4) != 1 || load<u8>(buf + HEADER) != T_STRING) return false;
  let len = HEADER + 5 + n;
  if (<usize>len + 4 > blockSize(buf - 4)) return false;
  header(buf, len, 0, len);
  store<u32>(buf + HEADER, n, 1);
  memory.copy(buf + HEADER + 5, p, n);
  return true;
}

/** A symbol value named by bytes [p, p+n); 0 when out of memory. */
export function makeSymbol(p: usize, n: u32): Value {
  let symtab = HEADER + 5;
  let len = symtab + 4 + 4 + n;
  let buf = bufAlloc(len);
  if (!buf) return 0;
  header(buf, len, 1, symtab);
  store<u8>(buf + HEADER, T_SYMBOL);
  store<u32>(buf + HEADER, 0, 1);
  store<u32>(buf + symtab, symtab + 4);
  store<u32>(buf + symtab + 4, n);
  memory.copy(buf + symtab + 8, p, n);
  return mkv(buf, HEADER);
}

/** An integer value; 0 when out of memory. */
export function makeInt(x: i64): Value {
  let len = HEADER + 9;
  let buf = bufAlloc(len);
  if (!buf) return 0;
  header(buf, len, 0, len);
  store<u8>(buf + HEADER, T_INT64);
  store<i64>(buf + HEADER, x, 1);
  return mkv(buf, HEADER);
}

/** Writes a buffer header; used by the parser and by copyValue. */
export function writeHeader(buf: usize, length: u32, nsym: u32, symtab: u32): void {
  header(buf, length, nsym, symtab);
}

/** A symbol value named by message m (or by bytes [p, p+n)), immortal: for true/false/nil and channel names. */
export function staticSymbol(p: usize, n: i32): Value {
  let v = makeSymbol(p, n);
  if (v) makeImmortal(vbuf(v));
  return v;
}

/** An error value `@"TEXT"` from bytes [p, p+n), immortal. */
export function staticError(p: usize, n: i32): Value {
  let v = makeString(p, n, true);
  if (v) makeImmortal(vbuf(v));
  return v;
}
