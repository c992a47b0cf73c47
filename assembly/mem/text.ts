// Growable byte buffers ("texts") on the heap: the printer, log lines and error
// messages are built in them. A text is a heap block: [u32 len][u32 cap] bytes...
import { alloc, free, realloc } from "./heap";
import { msgPtr, msgLen } from "../gen/messages";

const HDR: usize = 8;

/** A new empty text, or 0 when out of memory. */
export function textNew(cap: i32): usize {
  let t = alloc(HDR + <usize>cap);
  if (!t) return 0;
  store<u32>(t, 0);
  store<u32>(t, cap, 4);
  return t;
}

export function textFree(t: usize): void {
  free(t);
}

@inline export function textLen(t: usize): i32 {
  return load<i32>(t);
}

@inline export function textPtr(t: usize): usize {
  return t + HDR;
}

export function textClear(t: usize): void {
  store<u32>(t, 0);
}

/** Makes room for `n` more bytes; returns the (possibly moved) text, or 0 when out of memory (the old text is then freed). */
export function textReserve(t: usize, n: i32): usize {
  let len = load<u32>(t);
  let cap = load<u32>(t, 4);
  if (<u64>len + <u64>n <= <u64>cap) return t;
  let ncap = <u64>cap * 2;
  if (ncap < <u64>len + <u64>n) ncap = <u64>len + <u64>n;
  if (ncap > 0x7ff00000) { free(t); return 0; }
  let q = realloc(t, HDR + <usize>ncap, HDR + <usize>len);
  if (!q) { free(t); return 0; }
  store<u32>(q, <u32>ncap, 4);
  return q;
}

// The append functions return the text (it may move) or 0 when memory ran out.

export function textByte(t: usize, b: i32): usize {
  if (!t) return 0;
  t = textReserve(t, 1);
  if (!t) return 0;
  let len = load<u32>(t);
  store<u8>(t + HDR + len, <u8>b);
  store<u32>(t, len + 1);
  return t;
}

export function textBytes(t: usize, p: usize, n: i32): usize {
  if (!t) return 0;
  t = textReserve(t, n);
  if (!t) return 0;
  let len = load<u32>(t);
  memory.copy(t + HDR + len, p, n);
  store<u32>(t, len + n);
  return t;
}

/** Appends message m (assembly/messages.txt). */
export function textMsg(t: usize, m: i32): usize {
  return textBytes(t, msgPtr(m), msgLen(m));
}

/** Appends a signed 64-bit integer in decimal. */
export function textInt(t: usize, v: i64): usize {
  if (!t) return 0;
  let digits = memory.data(24);
  let n = 0;
  let neg = v < 0;
  // work on the negative value so that i64.MIN_VALUE needs no special case
  let x = neg ? v : -v;
  do {
    let d = <i32>(-(x % 10));
    store<u8>(digits + n++, <u8>(48 + d));
    x /= 10;
  } while (x != 0);
  t = textReserve(t, n + 1);
  if (!t) return 0;
  if (neg) t = textByte(t, 45);
  let len = load<u32>(t);
  let dst = t + HDR + len;
  for (let i = 0; i < n; i++) store<u8>(dst + i, load<u8>(digits + n - 1 - i));
  store<u32>(t, len + n);
  return t;
}

/** True when bytes [p, p+n) equal message m. */
export function bytesEqMsg(p: usize, n: i32, m: i32): bool {
  return n == msgLen(m) && memory.compare(p, msgPtr(m), n) == 0;
}

/** Bytewise comparison, then by length: <0, 0, >0. */
export function bytesCompare(a: usize, an: i32, b: usize, bn: i32): i32 {
  let n = an < bn ? an : bn;
  let i = 0;
  // eight bytes at a time while they are equal
  while (i + 8 <= n && load<u64>(a + i) == load<u64>(b + i)) i += 8;
  for (; i < n; i++) {
    let x = <i32>load<u8>(a + i);
    let y = <i32>load<u8>(b + i);
    if (x != y) return x - y;
  }
  return an - bn;
}
