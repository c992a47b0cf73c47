// Checks that bytes from outside (a flash log, a link, a test vector) form a well-formed
// SLP buffer (format.ts) before anything reads them: every offset and length in bounds,
// every list's size and child offsets consistent with the preorder layout, every symbol
// id in the table, nesting within MAX_DEPTH. Linear time, no recursion.

import { MAX_DEPTH } from "../limits";
import {
  HEADER, LIST_HEADER, SLP_VERSION, T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_CALL, T_DATA,
  T_QUOTE, T_ERROR,
} from "./format";

const STACK = MAX_DEPTH + 4;
const listStart = memory.data(STACK * 4);
const listEnd = memory.data(STACK * 4);
const listLeft = memory.data(STACK * 4);
const listNext = memory.data(STACK * 4);

/** True when [buf, buf+n) is a valid buffer whose root is one object. */
export function validBuffer(buf: usize, n: u32): bool {
  if (n < HEADER + 1) return false;
  if (load<u8>(buf) != SLP_VERSION || load<u8>(buf, 1) != 0 || load<u16>(buf, 2) != 0) return false;
  if (load<u32>(buf, 4) != n) return false;
  let nsym = load<u32>(buf, 8);
  let symtab = load<u32>(buf, 12);
  if (symtab < HEADER + 1 || symtab > n) return false;
  if (<u64>nsym * 4 > <u64>(n - symtab)) return false;
  // symbol entries lie after the offset array, in bounds
  let entriesFrom = symtab + nsym * 4;
  for (let i: u32 = 0; i < nsym; i++) {
    let e = load<u32>(buf + symtab + (i << 2));
    if (e < entriesFrom || e > n - 4) return false;
    let len = load<u32>(buf + e);
    if (<u64>e + 4 + <u64>len > <u64>n) return false;
  }
  // units: a preorder walk that must end exactly at the symbol table
  let p: u32 = HEADER;
  let sp = 0;
  let prefixed = false;
  while (true) {
    if (p >= symtab) return false;
    let tag = load<u8>(buf + p);
    let size: u32 = 0;
    if (tag == T_QUOTE || tag == T_ERROR) {
      if (!prefixed && sp > 0 && !advanceChild(buf, sp)) return false;
      prefixed = true;
      p++;
      continue;
    }
    if (!prefixed && sp > 0 && !advanceChild(buf, sp)) return false;
    prefixed = false;
    if (tag == T_INT32) size = 5;
    else if (tag == T_INT64) size = 9;
    else if (tag == T_REAL) {
      // the parser never makes NaN or an infinity (they would not read back)
      if (symtab - p < 9 || !isFinite<f64>(load<f64>(buf + p, 1))) return false;
      size = 9;
    }
    else if (tag == T_SYMBOL) {
      if (symtab - p < 5 || load<u32>(buf + p, 1) >= nsym) return false;
      size = 5;
    } else if (tag == T_STRING) {
      if (symtab - p < 5) return false;
      let len = load<u32>(buf + p, 1);
      if (<u64>len + 5 > <u64>(symtab - p)) return false;
      size = 5 + len;
    } else if (tag >= T_CALL && tag <= T_DATA) {
      if (symtab - p < LIST_HEADER) return false;
      let count = load<u32>(buf + p, 1);
      let lsize = load<u32>(buf + p, 5);
      if (<u64>LIST_HEADER + <u64>count * 4 > <u64>lsize || <u64>lsize > <u64>(symtab - p)) return false;
      if (sp >= MAX_DEPTH + 1) return false;
      if (count > 0) {
        let s = <usize>sp << 2;
        store<u32>(listStart + s, p);
        store<u32>(listEnd + s, p + lsize);
        store<u32>(listLeft + s, count);
        store<u32>(listNext + s, p + LIST_HEADER + count * 4);
        sp++;
        p += LIST_HEADER + count * 4;
        continue;
      }
      if (lsize != LIST_HEADER) return false;
      size = LIST_HEADER;
    } else return false;
    if (<u64>p + <u64>size > <u64>symtab) return false;
    p += size;
    // close every list this object completes
    while (sp > 0) {
      let s = (<usize>(sp - 1)) << 2;
      store<u32>(listNext + s, p);
      if (load<u32>(listLeft + s) > 0) break;
      if (load<u32>(listEnd + s) != p) return false;
      sp--;
    }
    if (sp == 0) return p == symtab;
  }
  return false;
}

/** Consumes one child slot of the innermost open list, checking its recorded offset. */
function advanceChild(buf: usize, sp: i32): bool {
  let s = (<usize>(sp - 1)) << 2;
  let left = load<u32>(listLeft + s);
  if (left == 0) return false;
  let start = load<u32>(listStart + s);
  let count = load<u32>(buf + start, 1);
  let i = count - left;
  // the offset table must point at this child, right after the previous one
  if (load<u32>(buf + start + LIST_HEADER + (i << 2)) != load<u32>(listNext + s) - start) return false;
  store<u32>(listLeft + s, left - 1);
  return true;
}
