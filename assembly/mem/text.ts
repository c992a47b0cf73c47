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

@inline export function textClear(t: usize): void {
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
  return n == msgLen(m) && bytesEq(p, msgPtr(m), n);
}

/**
 * Whether [a, a+n) and [b, b+n) hold the same bytes. Eight at a time, the last word
 * overlapping the one before (its first bytes are known equal): few steps under an
 * interpreter, where every Wasm instruction counts.
 */
export function bytesEq(a: usize, b: usize, n: i32): bool {
  if (n >= 8) {
    for (let i = 0; i + 8 < n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
    return load<u64>(a + n - 8) == load<u64>(b + n - 8);
  }
  if (n >= 4) return load<u32>(a) == load<u32>(b) && load<u32>(a + n - 4) == load<u32>(b + n - 4);
  for (let i = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

/** Bytewise comparison, then by length: <0, 0, >0. */
export function bytesCompare(a: usize, an: i32, b: usize, bn: i32): i32 {
  let n = an < bn ? an : bn;
  if (n >= 8) {
    // eight bytes at a time, the last word overlapping as in bytesEq; Wasm is
    // little-endian, so the lowest set byte of the XOR of two words is their first
    // differing byte in memory order
    for (let i = 0; ; i += 8) {
      if (i + 8 > n) i = n - 8;
      let x = load<u64>(a + i) ^ load<u64>(b + i);
      if (x) {
        let k = <usize>(ctz(x) >> 3);
        return <i32>load<u8>(a + i + k) - <i32>load<u8>(b + i + k);
      }
      if (i + 8 >= n) break;
    }
  } else {
    for (let i = 0; i < n; i++) {
      let x = <i32>load<u8>(a + i);
      let y = <i32>load<u8>(b + i);
      if (x != y) return x - y;
    }
  }
  return an - bn;
}
