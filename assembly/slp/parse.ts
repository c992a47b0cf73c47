// SLP text -> one SLP buffer (format.ts), per SPEC.md section 1.
//
// One pass over the text, no recursion: it validates, interns the symbols and writes the
// units in preorder into a scratch area. A list's child offsets go on a stack until the
// list closes; then its children move up to make room for them (each byte moves once
// per enclosing list, and nesting is bounded by MAX_DEPTH). The result is allocated at
// the end at its exact size: the units copied in, the symbol table after them. Errors
// are found left to right; the level stacks are fixed arrays.

import * as M from "../gen/messages";
import { MAX_DEPTH, KEEP_IDLE } from "../limits";
import { alloc, free, realloc } from "../mem/heap";
import { textNew, textMsg, textByte, textInt, textPtr, textLen, textFree, bytesEq } from "../mem/text";
import {
  Value, HEADER, LIST_HEADER, T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_CALL, T_BODY, T_DATA,
  T_QUOTE, T_ERROR, bufAlloc, mkv, writeHeader, makeString,
} from "./format";
import { parseInteger, parseReal, numStatus, NUM_OK } from "./number";
import { oomError } from "./errors";

// ---- scanner state ----
let src: usize = 0;
let srcEnd: usize = 0;

// per level (0 = the synthetic root body)
const LEVELS = MAX_DEPTH + 2;
const lvPos = memory.data(LEVELS * 4); // where the list's unit starts in `units`
const lvBase = memory.data(LEVELS * 4); // its first child's entry on the offset stack
const lvOpen = memory.data(LEVELS * 4);
const lvKind = memory.data(LEVELS * 4);

@inline function lvGet(arr: usize, d: i32): u32 { return load<u32>(arr + (<usize>d << 2)); }
@inline function lvSet(arr: usize, d: i32, x: u32): void { store<u32>(arr + (<usize>d << 2), x); }

// scratch growable arrays
let units: usize = 0; // the units written so far (copied into the result at the end)
let unitsCap: u32 = 0;
let unitsLen: u32 = 0; // bytes of units the last scan wrote
let offs: usize = 0; // u32 child offsets of the open lists, innermost last
let offsCap: u32 = 0;
let symHash: usize = 0; // open addressing: u32 ptr, u32 len, u32 id+1, u32 generation
let generation: u32 = 1; // entries of older parses count as empty
let symCap: u32 = 0;
let symList: usize = 0; // per id: u32 ptr, u32 len
let symListCap: u32 = 0;
let nSyms: u32 = 0;
let symBytes: u32 = 0;
let oom: bool = false;

// error reporting
let errReason: i32 = 0;
let errChar: i32 = 0;
let errAt: i32 = 0;

const E_UNCLOSED_LIST = 1;
const E_UNCLOSED_STRING = 2;
const E_UNEXPECTED = 3;
const E_INVALID_ESCAPE = 4;
const E_INT_RANGE = 5;
const E_REAL_RANGE = 6;
const E_NOTHING_TO_QUOTE = 7;
const E_TOO_DEEP = 8;
const E_TOO_LARGE = 9;
// each reason's message, by reason (a table: no chain of branches in cold code)
const REASON_MSGS = memory.data<i32>([
  M.INPUT_TOO_LARGE, M.UNCLOSED, M.UNCLOSED_STRING, M.UNEXPECTED, M.INVALID_ESCAPE, M.INTEGER_RANGE,
  M.REAL_RANGE, M.NOTHING_TO_QUOTE, M.NESTING_TOO_DEEP, M.INPUT_TOO_LARGE,
]);

// split mode: top-level form ranges
let splitMode: bool = false;
let forms: usize = 0;
let formsCap: u32 = 0;
let nForms: u32 = 0;
let formStart: u32 = 0;

// What a byte starts (or, inside a bare token, whether it ends it): the pass switches on
// this class, one table load instead of a chain of comparisons per token.
const CL_SYMBOL = 0; // a byte that starts a symbol, and no number
const CL_NUMBER = 1; // 0-9 + - . : what a number starts with (a symbol may, too)
const CL_PREFIX = 2; // ' and @: prefixes where a token starts, ordinary bytes inside one
const CL_WHITE = 3; // from here on, the bytes that end a bare token
const CL_COMMENT = 4; // ;
const CL_STRING = 5; // "
const CL_OPEN = 6; // ( { [
const CL_CLOSE = 7; // ) } ]
const CLASS = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  3, 0, 5, 0, 0, 0, 0, 2, 6, 7, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 4, 0, 0, 0, 0,
  2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 7, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 7, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

@inline function cls(c: u32): i32 {
  return <i32>load<u8>(<usize>c, CLASS);
}

/** Ends a bare token: whitespace, brackets, `"` and `;`. */
@inline function isDelim(c: u32): bool {
  return cls(c) >= CL_WHITE;
}

@inline function isDigit(c: u32): bool {
  return c - 48 < 10;
}

function hexVal(c: u32): i32 {
  if (c - 48 < 10) return <i32>(c - 48);
  c |= 32;
  if (c - 97 < 6) return <i32>(c - 87);
  return -1;
}

function fail(reason: i32, at: usize, ch: i32 = 0): bool {
  errReason = reason;
  errAt = <i32>(at - src);
  errChar = ch;
  return false;
}

const K_SYMBOL = 0;
const K_INT = 1;
const K_REAL = 2;

// Set by scanBare: what the token is, and for short integers their value.
let tokKind: i32 = K_SYMBOL;
let tokInt: i64 = 0;
let tokExact: bool = false; // tokInt holds the value (at most 18 digits: no overflow possible)
let tokHash: u32 = 0; // a symbol's hash, computed while scanning it (see hashBytes)

/**
 * Scans the bare token at p in one pass: finds its end, tells an integer, a real or a
 * symbol apart (SPEC.md section 1's grammar), and accumulates a short integer's value.
 */
@inline function scanBare(p: usize, cl: i32): usize {
  let i = p;
  let e = srcEnd;
  let c: u32 = 0;
  // a symbol is told apart from a number by its first byte's class, where it can be
  if (cl == CL_NUMBER) {
    c = <u32>load<u8>(i);
    let neg = false;
    if (c == 43 || c == 45) { neg = c == 45; i++; }
    let digits = 0;
    let v: i64 = 0;
    while (i < e) {
      c = <u32>load<u8>(i);
      if (c - 48 >= 10) break;
      v = v * 10 + <i64>(c - 48);
      digits++;
      i++;
    }
    let real = false;
    let intDigits = digits;
    if (i < e && load<u8>(i) == 46) {
      real = true;
      i++;
      while (i < e && <u32>load<u8>(i) - 48 < 10) { i++; digits++; }
    }
    let number = digits > 0;
    if (number && i < e && (load<u8>(i) | 32) == 101) {
      real = true;
      i++;
      if (i < e && (load<u8>(i) == 43 || load<u8>(i) == 45)) i++;
      let ed = 0;
      while (i < e && <u32>load<u8>(i) - 48 < 10) { i++; ed++; }
      if (ed == 0) number = false;
    }
    if (number && (i >= e || isDelim(<u32>load<u8>(i)))) {
      tokKind = real ? K_REAL : K_INT;
      tokExact = !real && intDigits <= 18;
      tokInt = neg ? -v : v;
      return i;
    }
  }
  // a symbol: run to the next delimiter, hashing it on the way (one pass over its bytes)
  let h = i > p ? hashBytes(p, <u32>(i - p)) : FNV_BASIS;
  while (i < e) {
    c = <u32>load<u8>(i);
    if (isDelim(c)) break;
    h = (h ^ c) * FNV_PRIME;
    i++;
  }
  tokKind = K_SYMBOL;
  tokHash = h;
  return i;
}

// String scanning: validates and measures, and decodes into `out` when given one.
let strDecoded: u32 = 0;
let strPlain: bool = false; // the string had no escapes: its bytes are its content

/** Scans the string whose opening quote is at p; returns the position after the closing quote, or 0 on error. */
function scanString(p: usize, out: usize): usize {
  let end = srcEnd;
  let open = p;
  p++;
  let n: u32 = 0;
  strPlain = true;
  while (true) {
    // a run of plain bytes, copied at once
    let run = p;
    let c: u32 = 0;
    while (p < end) {
      c = <u32>load<u8>(p);
      if (c == 34 || c == 92) break;
      p++;
    }
    if (out && p > run) memory.copy(out + n, run, p - run);
    n += <u32>(p - run);
    if (p >= end) { fail(E_UNCLOSED_STRING, open); return 0; }
    if (c == 34) { strDecoded = n; return p + 1; }
    // escape
    strPlain = false;
    if (p + 1 >= end) { fail(E_UNCLOSED_STRING, open); return 0; }
    let e = <u32>load<u8>(p + 1);
    let b: i32 = -1;
    let adv = 2;
    if (e == 34) b = 34;
    else if (e == 92) b = 92;
    else if (e == 110) b = 10;
    else if (e == 116) b = 9;
    else if (e == 114) b = 13;
    else if (e == 48) b = 0;
    else if (e == 120) {
      if (p + 2 >= end) { fail(E_UNCLOSED_STRING, open); return 0; }
      let h = hexVal(<u32>load<u8>(p + 2));
      if (h < 0) { fail(E_INVALID_ESCAPE, p); return 0; }
      if (p + 3 >= end) { fail(E_UNCLOSED_STRING, open); return 0; }
      let l = hexVal(<u32>load<u8>(p + 3));
      if (l < 0) { fail(E_INVALID_ESCAPE, p); return 0; }
      b = (h << 4) | l;
      adv = 4;
    }
    if (b < 0) { fail(E_INVALID_ESCAPE, p); return 0; }
    if (out) store<u8>(out + n, <u8>b);
    n++;
    p += adv;
  }
  return 0; // not reached: the loop returns
}

// ---- scratch arrays ----

function growScratch(p: usize, cap: u32, elem: u32, used: u32): usize {
  let ncap = cap ? cap * 2 : 16;
  let q = realloc(p, <usize>ncap * elem, <usize>used * elem);
  if (!q) { oom = true; return p; }
  return q;
}

/** Grows the units scratch to at least `need` bytes, keeping the first `used`; false when out of memory. */
function growUnits(need: u32, used: u32): bool {
  let ncap: u32 = unitsCap ? unitsCap * 2 : 256;
  while (ncap < need) ncap *= 2;
  let q = realloc(units, ncap, used);
  if (!q) { oom = true; return false; }
  units = q;
  unitsCap = ncap;
  return true;
}

/** Grows the offset stack, keeping its first n entries; false when out of memory. */
function growOffs(n: u32): bool {
  let q = growScratch(offs, offsCap, 4, n);
  if (oom) return false;
  offs = q;
  offsCap = offsCap ? offsCap * 2 : 16;
  return true;
}

/**
 * Closes the list whose unit starts at lp (its children's offsets on the stack from
 * `base` to `top`, its units running to w): moves the children up past the offset table,
 * writes the table, the count and the size. Returns the new end of the units, 0 when out
 * of memory; the stack is then back at `base`.
 */
function closeList(lp: u32, base: u32, top: u32, w: u32): u32 {
  let count = top - base;
  let shift = count << 2;
  if (w + shift > unitsCap && !growUnits(w + shift, w)) return 0;
  let at = units + <usize>lp;
  let body = at + LIST_HEADER;
  memory.copy(body + shift, body, <usize>(w - lp - LIST_HEADER));
  let from = offs + (<usize>base << 2);
  for (let to = body, stop = body + <usize>shift; to < stop; to += 4, from += 4) {
    store<u32>(to, load<u32>(from) + shift);
  }
  store<u32>(at, count, 1);
  store<u32>(at, w + shift - lp, 5);
  return w + shift;
}

function pushForm(start: u32, end: u32): void {
  if (nForms == formsCap) {
    let q = growScratch(forms, formsCap, 8, nForms);
    if (oom) return;
    forms = q;
    formsCap = formsCap ? formsCap * 2 : 16;
  }
  store<u32>(forms + (<usize>nForms << 3), start);
  store<u32>(forms + (<usize>nForms << 3), end, 4);
  nForms++;
}

// FNV-1a over a symbol's bytes (scanBare computes the same as it scans)
const FNV_BASIS: u32 = 2166136261;
const FNV_PRIME: u32 = 16777619;

function hashBytes(p: usize, n: u32): u32 {
  let h = FNV_BASIS;
  for (let i: u32 = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * FNV_PRIME;
  return h;
}

/** The symbol id of [p, p+n) whose hash is `hash`, interning it when new; -1 when out of memory. */
@inline function symbolId(p: usize, n: u32, hash: u32): i32 {
  if ((nSyms + 1) * 2 > symCap) {
    // rehash into a table twice as large
    let ncap: u32 = symCap ? symCap * 2 : 64;
    let t = alloc(<usize>ncap * 16);
    if (!t) { oom = true; return -1; }
    memory.fill(t, 0, <usize>ncap * 16);
    for (let i: u32 = 0; i < symCap; i++) {
      let e = symHash + <usize>i * 16;
      if (load<u32>(e, 12) != generation) continue;
      let j = hashBytes(load<u32>(e), load<u32>(e, 4)) & (ncap - 1);
      while (load<u32>(t + <usize>j * 16, 12) == generation) j = (j + 1) & (ncap - 1);
      memory.copy(t + <usize>j * 16, e, 16);
    }
    free(symHash);
    symHash = t;
    symCap = ncap;
  }
  let j = hash & (symCap - 1);
  while (true) {
    let e = symHash + <usize>j * 16;
    if (load<u32>(e, 12) != generation) break;
    let id1 = load<u32>(e, 8);
    if (load<u32>(e, 4) == n && bytesEq(load<u32>(e), p, <i32>n)) return <i32>id1 - 1;
    j = (j + 1) & (symCap - 1);
  }
  if (nSyms == symListCap) {
    let q = growScratch(symList, symListCap, 8, nSyms);
    if (oom) return -1;
    symList = q;
    symListCap = symListCap ? symListCap * 2 : 16;
  }
  let e = symHash + <usize>j * 16;
  store<u32>(e, <u32>p);
  store<u32>(e, n, 4);
  store<u32>(e, nSyms + 1, 8);
  store<u32>(e, generation, 12);
  store<u32>(symList + (<usize>nSyms << 3), <u32>p);
  store<u32>(symList + (<usize>nSyms << 3), n, 4);
  symBytes += 4 + n;
  let id = nSyms++;
  return <i32>id;
}

/** True from the start of a parse or split until its result is built. */
let scratchBusy = false;

/** Gives back the scratch kept between parses (the heap's reclaimer); true when any was kept. */
export function releaseIdleScratch(): bool {
  if (scratchBusy || !(units | offs | symHash | symList)) return false;
  free(units); units = 0; unitsCap = 0;
  free(offs); offs = 0; offsCap = 0;
  free(symHash); symHash = 0; symCap = 0;
  free(symList); symList = 0; symListCap = 0;
  return true;
}

function resetScratch(): void {
  if (unitsCap > KEEP_IDLE) { free(units); units = 0; unitsCap = 0; }
  if (offsCap * 4 > KEEP_IDLE) { free(offs); offs = 0; offsCap = 0; }
  if (symCap * 16 > KEEP_IDLE) { free(symHash); symHash = 0; symCap = 0; }
  if (symListCap * 8 > KEEP_IDLE) { free(symList); symList = 0; symListCap = 0; }
  nSyms = 0;
  symBytes = 0;
  oom = false;
  // a new generation empties the symbol table without touching it
  generation++;
  if (generation == 0) {
    if (symHash) memory.fill(symHash, 0, <usize>symCap * 16);
    generation = 1;
  }
}

// ---- the pass ----

/** An object ended at level d, just before `at`. */
@inline function objectEnds(d: i32, at: usize, split: bool): void {
  if (d == 0 && split) pushForm(formStart, <u32>(at - src));
}

// The innermost open list's state stays in locals and is spilled to the level arrays
// only when a list opens or closes: most tokens touch no memory but their own. In split
// mode nothing is written: only the top-level forms' ranges are recorded.

function scan(): bool {
  let build = !splitMode;
  let depth: i32 = 0;
  let pending: u32 = 0; // prefixes (' @) waiting for the object they wrap
  let pendPos: u32 = 0; // where the last of them is
  let lp: u32 = 0; // the innermost list's unit position in `units`
  let base: u32 = 0; // its first child's entry on the offset stack
  let w: u32 = 0; // end of the units written
  // the offset stack's top, capacity and address, in locals as the units' below
  let no: u32 = 0;
  let oc = offsCap;
  let ob = offs;
  // `units` and its capacity in locals (globals cost an operation each under wasm3),
  // refreshed whenever the scratch may have moved
  let u0 = units;
  let cap = unitsCap;
  if (build) {
    // the root: a BODY of the top-level forms
    if (LIST_HEADER > cap) {
      if (!growUnits(LIST_HEADER, 0)) return false;
      u0 = units;
      cap = unitsCap;
    }
    store<u8>(u0, T_BODY);
    w = LIST_HEADER;
  }
  let end = srcEnd;
  let p = src;
  while (p < end) {
    let c = <u32>load<u8>(p);
    let cl = cls(c);
    switch (cl) {
    case CL_WHITE: { p++; continue; }
    case CL_COMMENT: {
      while (p < end && load<u8>(p) != 10) p++;
      continue;
    }
    case CL_CLOSE: {
      if (depth == 0) return fail(E_UNEXPECTED, p, <i32>c);
      let open = lvGet(lvKind, depth);
      let want: u32 = open == 40 ? 41 : open == 123 ? 125 : 93;
      if (c != want) return fail(E_UNEXPECTED, p, <i32>c);
      if (pending) return fail(E_NOTHING_TO_QUOTE, src + pendPos);
      if (build) {
        w = closeList(lp, base, no, w);
        if (!w) return false;
        no = base;
        u0 = units;
        cap = unitsCap;
      }
      depth--;
      lp = lvGet(lvPos, depth);
      base = lvGet(lvBase, depth);
      p++;
      objectEnds(depth, p, !build);
      continue;
    }
    default: break;
    }
    // An object starts here (or the prefix chain before one): a new child of the
    // enclosing list, unless a prefix chain already counted it. Room first for any one
    // unit but a string's bytes (at most LIST_HEADER).
    if (build && w + LIST_HEADER > cap) {
      if (!growUnits(w + LIST_HEADER, w)) return false;
      u0 = units;
      cap = unitsCap;
    }
    if (!pending) {
      if (build) {
        if (no == oc) {
          if (!growOffs(no)) return false;
          ob = offs;
          oc = offsCap;
        }
        store<u32>(ob + (<usize>no << 2), w - lp);
        no++;
      } else if (depth == 0) formStart = <u32>(p - src);
    }
    if (cl == CL_PREFIX) {
      pending++;
      pendPos = <u32>(p - src);
      if (build) {
        store<u8>(u0 + <usize>w, c == 39 ? T_QUOTE : T_ERROR);
        w++;
      }
      p++;
      continue;
    }
    // (no prefix chain can be pending across a list: one before it is used by it, one
    // inside must be used before it closes, so nothing of it is kept per level)
    pending = 0;
    if (cl == CL_OPEN) {
      if (depth + 1 > MAX_DEPTH) return fail(E_TOO_DEEP, p);
      lvSet(lvPos, depth, lp);
      lvSet(lvBase, depth, base);
      depth++;
      lvSet(lvOpen, depth, <u32>(p - src));
      lvSet(lvKind, depth, c);
      if (build) {
        store<u8>(u0 + <usize>w, c == 40 ? T_CALL : c == 123 ? T_BODY : T_DATA);
        lp = w;
        base = no;
        w += LIST_HEADER;
      }
      p++;
      continue;
    }
    if (cl == CL_STRING) {
      let q = scanString(p, 0);
      if (!q) return false;
      if (build) {
        let n = strDecoded;
        if (w + 5 + n > cap) {
          if (!growUnits(w + 5 + n, w)) return false;
          u0 = units;
          cap = unitsCap;
        }
        let u = u0 + <usize>w;
        store<u8>(u, T_STRING);
        store<u32>(u, n, 1);
        // a string without escapes is its own bytes; one with escapes is decoded again
        if (strPlain) memory.copy(u + 5, p + 1, n);
        else scanString(p, u + 5);
        w += 5 + n;
      }
      p = q;
    } else {
      let e = scanBare(p, cl);
      let kind = tokKind;
      let u = u0 + <usize>w;
      if (kind == K_INT) {
        let x = tokInt;
        if (!tokExact) {
          x = parseInteger(p, <i32>(e - p));
          if (numStatus != NUM_OK) return fail(E_INT_RANGE, p);
        }
        if (build) {
          if (x == <i64><i32>x) {
            store<u8>(u, T_INT32);
            store<i32>(u, <i32>x, 1);
            w += 5;
          } else {
            store<u8>(u, T_INT64);
            store<i64>(u, x, 1);
            w += 9;
          }
        }
      } else if (kind == K_REAL) {
        let x = parseReal(p, <i32>(e - p));
        if (numStatus != NUM_OK) return fail(E_REAL_RANGE, p);
        if (build) {
          store<u8>(u, T_REAL);
          store<f64>(u, x, 1);
          w += 9;
        }
      } else {
        let id = symbolId(p, <u32>(e - p), tokHash);
        if (id < 0) return false;
        if (build) {
          store<u8>(u, T_SYMBOL);
          store<u32>(u, <u32>id, 1);
          w += 5;
        }
      }
      p = e;
    }
    objectEnds(depth, p, !build);
  }
  if (pending) return fail(E_NOTHING_TO_QUOTE, src + pendPos);
  if (depth > 0) {
    let k = lvGet(lvKind, depth);
    return fail(E_UNCLOSED_LIST, src + lvGet(lvOpen, depth), <i32>k);
  }
  if (build) {
    w = closeList(0, 0, no, w);
    if (!w) return false;
    unitsLen = w;
  }
  return oom ? false : true;
}

function writeSymbols(buf: usize, symtab: u32): void {
  let entry = symtab + nSyms * 4;
  for (let i: u32 = 0; i < nSyms; i++) {
    let sp = <usize>load<u32>(symList + (<usize>i << 3));
    let sn = load<u32>(symList + (<usize>i << 3), 4);
    store<u32>(buf + symtab + (i << 2), entry);
    store<u32>(buf + entry, sn);
    memory.copy(buf + entry + 4, sp, sn);
    entry += 4 + sn;
  }
}

function errorValue(): Value {
  let t = textNew(48);
  t = textMsg(t, M.PARSE_PREFIX);
  t = textMsg(t, load<i32>(<usize>errReason << 2, REASON_MSGS));
  // the two that name the character found
  if (errReason == E_UNCLOSED_LIST || errReason == E_UNEXPECTED) t = textByte(t, errChar);
  t = textMsg(t, M.AT);
  t = textInt(t, errAt);
  if (!t) return oomError();
  let v = makeString(textPtr(t), textLen(t), true);
  textFree(t);
  return v ? v : oomError();
}

/** Starts a parse of n bytes at p (the scratch is already reset: every parse resets it when done). */
@inline function begin(p: usize, n: i32): void {
  src = p;
  srcEnd = p + <usize>n;
  scratchBusy = true;
}

/**
 * Parses n bytes at p into a new buffer whose root is a BODY of the top-level forms.
 * Returns that value (refcount 1), or an error value.
 */
export function parse(p: usize, n: i32, maxInput: i32): Value {
  if (n > maxInput) {
    errReason = E_TOO_LARGE;
    errAt = maxInput;
    src = 0;
    return errorValue();
  }
  begin(p, n);
  splitMode = false;
  if (!scan()) {
    let oomed = oom;
    resetScratch();
    scratchBusy = false;
    return oomed ? oomError() : errorValue();
  }
  let symtab = HEADER + unitsLen;
  let total = <u64>symtab + <u64>nSyms * 4 + <u64>symBytes;
  let buf = total < 0x7ff00000 ? bufAlloc(<u32>total) : 0;
  if (buf) {
    writeHeader(buf, <u32>total, nSyms, symtab);
    memory.copy(buf + HEADER, units, unitsLen);
    writeSymbols(buf, symtab);
  }
  resetScratch();
  scratchBusy = false;
  return buf ? mkv(buf, HEADER) : oomError();
}

/** The parse error of the last failed split(), or 0. */
export let splitError: Value = 0;

/**
 * Finds the top-level forms of n bytes at p (SPEC.md section 8's transcripts run each as
 * its own request). Returns a heap block: u32 count then count pairs u32 start, u32 end;
 * 0 on a parse error (then splitError holds it) or when out of memory.
 */
export function split(p: usize, n: i32, maxInput: i32): usize {
  splitError = 0;
  if (n > maxInput) {
    errReason = E_TOO_LARGE;
    errAt = maxInput;
    splitError = errorValue();
    return 0;
  }
  begin(p, n);
  splitMode = true;
  nForms = 0;
  let ok = scan();
  splitMode = false;
  if (!ok) splitError = oom ? oomError() : errorValue();
  else if (oom) splitError = oomError();
  resetScratch();
  let out: usize = 0;
  if (!splitError) {
    out = alloc(4 + (<usize>nForms << 3));
    if (out) {
      store<u32>(out, nForms);
      if (nForms) memory.copy(out + 4, forms, <usize>nForms << 3);
    }
  }
  free(forms); forms = 0; formsCap = 0; nForms = 0;
  scratchBusy = false;
  return out;
}
