// Argument handling shared by the commands (SPEC.md section 5).

import * as M from "../gen/messages";
import { MAX_KEY, MAX_VALUE, STORE_RESERVE } from "../limits";
import { heapLargestAvailable } from "../mem/heap";
import { textNew, textLen, textClear, textFree, bytesEqMsg } from "../mem/text";
import {
  Value, vtag, vbuf, retain, release, listCount, listChild, textOf, textOfLen, textLenOf, isInt, intOf,
  T_STRING, T_SYMBOL, T_QUOTE, T_ERROR, T_INT32, T_INT64, T_REAL, LIST_HEADER, vptr, unitSize, symEntry,
  mkv, HEADER, releaseBuf,
} from "../slp/format";
import { printValue } from "../slp/print";
import { copyValue } from "../slp/value";
import { kvPut, kvDel, KV_FULL } from "../kv/store";
import { logSet, logRepair } from "../kv/log";
import { fUnit, fCtx, fLevel, setPc, setA } from "./frame";
import { A_CONT, A_ERR, evalObj, failCmd, takeRet } from "./machine";
import { setRet } from "../sched/task";

/** Arguments of the call in frame f (the head not counted). */
@inline export function argc(f: usize): i32 {
  return <i32>listCount(fUnit(f)) - 1;
}

/** Argument i (1-based) of the call in frame f. */
@inline export function arg(f: usize, i: i32): Value {
  return listChild(fUnit(f), <u32>i);
}

/** Evaluates argument i; its value will be in the task's ret when frame f runs at `next`. */
export function evalArg(t: usize, f: usize, i: i32, next: i32): i32 {
  setPc(f, next);
  return evalObj(t, arg(f, i), fCtx(f), fLevel(f) + 1);
}

/** Key argument i: a plain symbol or a string is taken as written, anything else is evaluated. */
export function evalKeyArg(t: usize, f: usize, i: i32, next: i32): i32 {
  let a = arg(f, i);
  let tag = vtag(a);
  if (tag == T_STRING || (tag == T_SYMBOL && load<u8>(textOf(a)) != 36)) {
    setPc(f, next);
    setRet(t, retain(a));
    return A_CONT;
  }
  return evalArg(t, f, i, next);
}

/** Checks the key in the task's ret and keeps it in slot A; an empty key is allowed for prefixes. */
export function takeKey(t: usize, f: usize, cmd: i32, allowEmpty: bool): i32 {
  let k = takeRet(t);
  let tag = vtag(k);
  if (tag != T_STRING && tag != T_SYMBOL) {
    release(k);
    return failCmd(t, cmd, M.KEY_NOT_STRING);
  }
  let n = textLenOf(k);
  if (n > MAX_KEY || (n == 0 && !allowEmpty)) {
    release(k);
    return failCmd(t, cmd, M.INVALID_KEY_LENGTH);
  }
  setA(f, k);
  return A_CONT;
}

// Each take* reads the argument value in the task's ret, releases it, and answers what it
// denotes, or -1 for a value of the wrong kind (the caller words the error).

/** A non-negative integer (clamped to 2^32-1), or -1. */
export function takeNatural(t: usize): i64 {
  let v = takeRet(t);
  let x: i64 = -1;
  if (isInt(v)) {
    x = intOf(v);
    if (x > 0xffffffff) x = 0xffffffff;
    if (x < 0) x = -1;
  }
  release(v);
  return x;
}

/** A topic: an integer 0..65535, or -1. */
export function takeTopic(t: usize): i32 {
  let x = takeNatural(t);
  return x <= 65535 ? <i32>x : -1;
}

/** A channel: 0 for EXEC, 1..6 for A..F (the symbols), or -1. */
export function takeChannel(t: usize): i32 {
  let v = takeRet(t);
  let ch = -1;
  if (vtag(v) == T_SYMBOL) {
    let p = textOf(v);
    let n = textOfLen;
    if (n == 1) {
      let c = <i32>load<u8>(p) - 64;
      if (c >= 1 && c <= 6) ch = c;
    } else if (bytesEqMsg(p, n, M.EXEC)) ch = 0;
  }
  release(v);
  return ch;
}

/** True when `need` more bytes can go to the store and STORE_RESERVE contiguous bytes remain. */
export function storeRoom(need: usize): bool {
  return heapLargestAvailable() >= <usize>STORE_RESERVE + need;
}

/** A text kept for measuring canonical lengths (MAX_VALUE). */
let measure: usize = 0;
let measuring = false;

/** Gives back the measuring text between uses (the heap's reclaimer); true when one was kept. */
export function releaseIdleMeasure(): bool {
  if (measuring || !measure) return false;
  textFree(measure);
  measure = 0;
  return true;
}

/**
 * Whether v's canonical form surely fits MAX_VALUE, without printing it. Every unit of
 * the buffer format prints in at most 4 characters per byte of its encoding (a string
 * byte as \xHH at worst, 2147483647 in 5 bytes, a real in 9, a list's brackets and
 * spaces in its header and offsets), except a symbol, which prints its name: one of up
 * to 20 bytes keeps the bound (its unit is 5 bytes). So with every symbol of v that
 * short, 4 * (v's encoded size) bounds its print.
 */
@inline function surelyFits(v: Value): bool {
  let p = vptr(v);
  let end = p + <usize>unitSize(p);
  if (end - p > <usize>(MAX_VALUE / 4)) return false;
  // v's units (at most MAX_VALUE / 4 bytes of them), in order: look at its symbols only,
  // not at the whole symbol table of the buffer it sits in
  let buf = vbuf(v);
  while (p < end) {
    let tag = load<u8>(p);
    if (tag == T_SYMBOL) {
      if (load<u32>(symEntry(buf, load<u32>(p, 1))) > 20) return false;
      p += 5;
    } else if (tag == T_QUOTE || tag == T_ERROR) p += 1;
    else if (tag == T_INT32) p += 5;
    else if (tag == T_INT64 || tag == T_REAL) p += 9;
    else if (tag == T_STRING) p += 5 + <usize>load<u32>(p, 1);
    else p += <usize>LIST_HEADER + (<usize>load<u32>(p, 1) << 2); // a list: its children follow
  }
  return true;
}

/**
 * Stores v under key k after the MAX_VALUE check; A_CONT on success, else the error
 * (`value too large`, `store full`). Does not take v's reference.
 */
export function storeValue(t: usize, cmd: i32, k: Value, v: Value): i32 {
  // a value of a few dozen bytes need not be printed to know it fits (an interpreter
  // on a board pays for every byte printed)
  let len = <i32>unitSize(vptr(v));
  if (!surelyFits(v)) {
    measuring = true;
    if (!measure) measure = textNew(MAX_VALUE + 64);
    if (measure) {
      textClear(measure);
      measure = printValue(measure, v, MAX_VALUE);
    }
    measuring = false;
    if (!measure) return failCmd(t, cmd, M.STORE_FULL);
    len = textLen(measure);
    if (len > MAX_VALUE) return failCmd(t, cmd, M.VALUE_TOO_LARGE);
  }
  // The value's copy, the entry and a grown index come out of the heap; STORE_RESERVE
  // contiguous bytes must remain for requests (a reserve in fragments serves nobody).
  // Short of that, the write may still go into holes deleted keys left: it is made, and
  // undone when it took the largest block below the reserve (checked below).
  let largest = heapLargestAvailable();
  let need = <usize>STORE_RESERVE + <usize>(len + textLenOf(k)) + 64;
  let roomy = largest >= need;
  let own = copyValue(v);
  if (!own) return failCmd(t, cmd, M.STORE_FULL);
  let kp = textOf(k);
  let kn = textOfLen;
  // RAM first (it can fail for memory), then the log; a refused log write undoes the RAM change
  // the replaced value's buffer (its reference is now ours); the index may grow only
  // into what the write leaves beyond the reserve
  let old = kvPut(kp, kn, own, roomy ? largest - need : 0);
  if (old == KV_FULL) {
    release(own);
    return failCmd(t, cmd, M.STORE_FULL);
  }
  // a write made short of room must have left the reserve, or else the largest block as it was
  let after = roomy ? largest : heapLargestAvailable();
  let full = after < largest && after < <usize>STORE_RESERVE;
  let ok = !full && logSet(kp, kn, vbuf(own));
  if (!ok) {
    // put the old value back (replacing needs no memory) or take the new key out
    if (old) releaseBuf(kvPut(kp, kn, mkv(old, HEADER), 0));
    else kvDel(kp, kn);
    if (!full) logRepair(); // flash must not keep what RAM no longer has
  }
  if (old) releaseBuf(old);
  release(own);
  if (!ok) return failCmd(t, cmd, M.STORE_FULL);
  return A_CONT;
}

export { A_ERR };
