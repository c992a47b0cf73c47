// The canonical form of SPEC.md section 3. Units sit in preorder, so printing is one
// linear walk with a stack of open lists (bounded: no native recursion).

import * as M from "../gen/messages";
import { MAX_DEPTH } from "../limits";
import { textByte, textBytes, textMsg, textInt, textLen } from "../mem/text";
import {
  Value, vbuf, vptr, LIST_HEADER, T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_CALL, T_BODY,
  T_QUOTE, T_ERROR, symEntry,
} from "./format";
import { formatReal } from "./number";

// Parsed data nests at most MAX_DEPTH levels plus the request root; values built by the
// image never nest deeper than what was parsed.
const STACK = MAX_DEPTH + 4;
const remaining = memory.data(STACK * 4);
const closers = memory.data(STACK);
const realDigits = memory.data(40);

@inline function hexDigit(d: u32): i32 {
  return <i32>(d < 10 ? 48 + d : 87 + d);
}

function printString(t: usize, p: usize, n: u32): usize {
  t = textByte(t, 34);
  let run = p;
  let end = p + n;
  while (p < end && t) {
    let c = <u32>load<u8>(p);
    if (c >= 0x20 && c != 34 && c != 92 && c != 0x7f) { p++; continue; }
    t = textBytes(t, run, <i32>(p - run));
    if (c == 34) t = textMsg(t, M.ESC_QUOTE);
    else if (c == 92) t = textMsg(t, M.ESC_BACKSLASH);
    else if (c == 10) t = textMsg(t, M.ESC_N);
    else if (c == 9) t = textMsg(t, M.ESC_T);
    else if (c == 13) t = textMsg(t, M.ESC_R);
    else {
      t = textMsg(t, M.ESC_X);
      t = textByte(t, hexDigit(c >> 4));
      t = textByte(t, hexDigit(c & 15));
    }
    p++;
    run = p;
  }
  t = textBytes(t, run, <i32>(p - run));
  return textByte(t, 34);
}

function printReal(t: usize, x: f64): usize {
  if (x == 0 && 1 / x < 0) return textMsg(t, M.MINUS_ZERO);
  let n = formatReal(x, realDigits);
  t = textBytes(t, realDigits, n);
  // ".0" when the result has neither "." nor "e" (and is a number)
  for (let i = 0; i < n; i++) {
    let c = load<u8>(realDigits + i);
    if (c == 46 || c == 101 || c == 78 || c == 73) return t;
  }
  return textMsg(t, M.POINT_ZERO);
}

/**
 * Appends the canonical form of v to text t. Returns the text (it may move), or 0 when
 * memory ran out. When `cap` >= 0, stops as soon as the text grows past `cap` bytes (the
 * caller only wanted to know that it is too long).
 */
export function printValue(t: usize, v: Value, cap: i32): usize {
  if (!t) return 0;
  let buf = vbuf(v);
  let p = vptr(v);
  let sp = 0;
  while (true) {
    if (!t) return 0;
    if (cap >= 0 && textLen(t) > cap) return t;
    let tag = load<u8>(p);
    if (tag == T_QUOTE) { t = textByte(t, 39); p++; continue; }
    if (tag == T_ERROR) { t = textByte(t, 64); p++; continue; }
    if (tag >= T_CALL && tag <= T_CALL + 2) {
      let count = load<u32>(p, 1);
      let open: i32 = tag == T_CALL ? 40 : tag == T_BODY ? 123 : 91;
      let close: i32 = tag == T_CALL ? 41 : tag == T_BODY ? 125 : 93;
      t = textByte(t, open);
      p += <usize>(LIST_HEADER + (count << 2));
      if (count > 0 && sp < STACK) {
        store<u32>(remaining + (<usize>sp << 2), count);
        store<u8>(closers + sp, <u8>close);
        sp++;
        continue;
      }
      t = textByte(t, close);
    } else if (tag == T_INT32) {
      t = textInt(t, <i64>load<i32>(p, 1));
      p += 5;
    } else if (tag == T_INT64) {
      t = textInt(t, load<i64>(p, 1));
      p += 9;
    } else if (tag == T_REAL) {
      t = printReal(t, load<f64>(p, 1));
      p += 9;
    } else if (tag == T_STRING) {
      let n = load<u32>(p, 1);
      t = printString(t, p + 5, n);
      p += 5 + n;
    } else {
      // T_SYMBOL
      let e = symEntry(buf, load<u32>(p, 1));
      t = textBytes(t, e + 4, load<i32>(e));
      p += 5;
    }
    // one object is complete: close the lists it completes
    while (sp > 0) {
      let slot = remaining + (<usize>(sp - 1) << 2);
      let left = load<u32>(slot) - 1;
      store<u32>(slot, left);
      if (left > 0) { t = textByte(t, 32); break; }
      sp--;
      t = textByte(t, load<u8>(closers + sp));
    }
    if (sp == 0) return t;
  }
  return t;
}

/** Appends v as `core/util/log` shows it: a string's raw bytes, anything else canonical. */
export function printRaw(t: usize, v: Value): usize {
  if (!t) return 0;
  let p = vptr(v);
  if (load<u8>(p) == T_STRING) return textBytes(t, p + 5, load<i32>(p, 1));
  return printValue(t, v, -1);
}

/** Appends an error's message: the raw text of @"message", else the canonical form of what @ wraps. */
export function printErrorMessage(t: usize, v: Value): usize {
  let p = vptr(v);
  if (load<u8>(p) == T_ERROR) return printRaw(t, v + 1);
  return printRaw(t, v);
}
