// SLP text -> one SLP buffer (format.ts), per SPEC.md section 1.
//
// Two passes over the text, no recursion: pass 1 validates everything, interns the
// symbols and measures every list (children and bytes, recorded in preorder); pass 2
// allocates the exact buffer and writes the units in preorder. Errors are found left to
// right in pass 1, before anything is allocated for the result. Nesting is bounded by
// MAX_DEPTH, so the level stacks are fixed arrays.

import * as M from "../gen/messages";
import { MAX_DEPTH } from "../limits";
import { alloc, free, realloc } from "../mem/heap";
import { textNew, textMsg, textByte, textInt, textPtr, textLen, textFree, bytesEq } from "../mem/text";
import {
  Value, HEADER, LIST_HEADER, T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_CALL, T_BODY, T_DATA,
  T_QUOTE, T_ERROR, bufAlloc, mkv, writeHeader, makeString,
} from "./format";
import { parseInteger, parseReal, numStatus, NUM_OK } from "./number";
import { oomError } from "./errors";

// ---- scanner state shared by both passes ----
let src: usize = 0;
let srcEnd: usize = 0;

// per level (0 = the synthetic root body)
const LEVELS = MAX_DEPTH + 2;
const lvCount = memory.data(LEVELS * 4);
const lvSize = memory.data(LEVELS * 4);
const lvOrd = memory.data(LEVELS * 4);
const lvOpen = memory.data(LEVELS * 4);
const lvKind = memory.data(LEVELS * 4);
const lvPending = memory.data(LEVELS * 4);
const lvPendPos = memory.data(LEVELS * 4);

@inline function lvGet(arr: usize, d: i32): u32 { return load<u32>(arr + (<usize>d << 2)); }
@inline function lvSet(arr: usize, d: i32, x: u32): void { store<u32>(arr + (<usize>d << 2), x); }

// scratch growable arrays
let listInfo: usize = 0; // per list in preorder: u32 count, u32 size
let listCap: u32 = 0;
let nLists: u32 = 0;
let symHash: usize = 0; // open addressing: u32 ptr, u32 len, u32 id+1, u32 generation
let generation: u32 = 1; // entries of older parses count as empty
let symCap: u32 = 0;
let symList: usize = 0; // per id: u32 ptr, u32 len
let symListCap: u32 = 0;
let nSyms: u32 = 0;
let symBytes: u32 = 0;
let oom: bool = false;

// Atoms (symbols, numbers, strings) as pass 1 found them, so that pass 2 need not scan and
// look them up again: per atom u32 (end offset | kind << 30), u32 (symbol id, int32 or
// string length).
// Fixed size; tokens past it are scanned again by pass 2.
const TOK_CACHE: u32 = 128;
const tokCache = memory.data(TOK_CACHE * 8);
const TC_SYMBOL: u32 = 0;
const TC_INT32: u32 = 1;
const TC_RESCAN: u32 = 2; // a wider integer or a real
const TC_STRING: u32 = 3; // value: the length of a string without escapes, or NOT_PLAIN
const NOT_PLAIN: u32 = 0xffffffff;
let nTok: u32 = 0;
let tokRead: u32 = 0;

@inline function cacheToken(end: usize, kind: u32, v: u32): void {
  if (nTok < TOK_CACHE) {
    let e = tokCache + (<usize>nTok << 3);
    store<u32>(e, <u32>(end - src) | (kind << 30));
    store<u32>(e, v, 4);
    nTok++;
  }
}

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

// split mode: top-level form ranges
let splitMode: bool = false;
let forms: usize = 0;
let formsCap: u32 = 0;
let nForms: u32 = 0;
let formStart: u32 = 0;

// What a byte starts (or, inside a bare token, whether it ends it): both passes switch on
// this class, one table load instead of a chain of comparisons per token.
const CL_BARE = 0; // a symbol or number byte
const CL_PREFIX = 1; // ' and @: prefixes where a token starts, ordinary bytes inside one
const CL_WHITE = 2; // from here on, the bytes that end a bare token
const CL_COMMENT = 3; // ;
const CL_STRING = 4; // "
const CL_OPEN = 5; // ( { [
const CL_CLOSE = 6; // ) } ]
const CLASS = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  2, 0, 4, 0, 0, 0, 0, 1, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0,
  1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

@inline function cls(c: u32): i32 {
  return <i32>load<u8>(CLASS + <usize>c);
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
function scanBare(p: usize): usize {
  let i = p;
  let e = srcEnd;
  let c = <u32>load<u8>(i);
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

// String scanning. Pass 1 validates and measures; pass 2 decodes into `out`.
let strDecoded: u32 = 0;
let strPlain: bool = false; // the string had no escapes: its bytes are its content

/** Scans the string whose opening quote is at p; returns the position after the closing quote, or 0 on error. */
function scanString(p: usize, out: usize): usize {
  let open = p;
  p++;
  let n: u32 = 0;
  strPlain = true;
  while (true) {
    // a run of plain bytes, copied at once
    let run = p;
    let c: u32 = 0;
    while (p < srcEnd) {
      c = <u32>load<u8>(p);
      if (c == 34 || c == 92) break;
      p++;
    }
    if (out && p > run) memory.copy(out + n, run, p - run);
    n += <u32>(p - run);
    if (p >= srcEnd) { fail(E_UNCLOSED_STRING, open); return 0; }
    if (c == 34) { strDecoded = n; return p + 1; }
    // escape
    strPlain = false;
    if (p + 1 >= srcEnd) { fail(E_UNCLOSED_STRING, open); return 0; }
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
      if (p + 2 >= srcEnd) { fail(E_UNCLOSED_STRING, open); return 0; }
      let h = hexVal(<u32>load<u8>(p + 2));
      if (h < 0) { fail(E_INVALID_ESCAPE, p); return 0; }
      if (p + 3 >= srcEnd) { fail(E_UNCLOSED_STRING, open); return 0; }
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

function pushList(): u32 {
  if (nLists == listCap) {
    let q = growScratch(listInfo, listCap, 8, nLists);
    if (oom) return 0;
    listInfo = q;
    listCap = listCap ? listCap * 2 : 16;
  }
  return nLists++;
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

/** The symbol id of [p, p+n) whose hash is `hash`, interning it when `add`; -1 when absent (or out of memory). */
function symbolId(p: usize, n: u32, hash: u32, add: bool): i32 {
  if (add && (nSyms + 1) * 2 > symCap) {
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
  if (!symCap) return -1;
  let j = hash & (symCap - 1);
  while (true) {
    let e = symHash + <usize>j * 16;
    if (load<u32>(e, 12) != generation) break;
    let id1 = load<u32>(e, 8);
    if (load<u32>(e, 4) == n && bytesEq(load<u32>(e), p, <i32>n)) return <i32>id1 - 1;
    j = (j + 1) & (symCap - 1);
  }
  if (!add) return -1;
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

/** Scratch kept between parses up to this many bytes each; larger scratch is given back. */
const KEEP_SCRATCH: u32 = 4096;

function resetScratch(): void {
  if (listCap * 8 > KEEP_SCRATCH) { free(listInfo); listInfo = 0; listCap = 0; }
  if (symCap * 16 > KEEP_SCRATCH) { free(symHash); symHash = 0; symCap = 0; }
  if (symListCap * 8 > KEEP_SCRATCH) { free(symList); symList = 0; symListCap = 0; }
  nLists = 0;
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

// ---- pass 1 ----


/** An object ended at level d, just before `at`. */
@inline function objectEnds(d: i32, at: usize): void {
  if (d == 0 && splitMode) pushForm(formStart, <u32>(at - src));
}

// Both passes keep the innermost open list's state in locals and spill it to the level
// arrays only when a list opens or closes: most tokens touch no memory but their own.

function pass1(): bool {
  nTok = 0;
  let depth: i32 = 0;
  let count: u32 = 0; // children of the innermost list so far
  let size: u32 = 0; // bytes of its units so far (list header and offsets added at close)
  let pending: u32 = 0; // prefixes (' @) waiting for the object they wrap
  let pendPos: u32 = 0; // where the last of them is
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
    case CL_OPEN: {
      if (depth + 1 > MAX_DEPTH) return fail(E_TOO_DEEP, p);
      // a new child of the enclosing list, unless a prefix chain already counted it
      if (pending) pending = 0;
      else {
        count++;
        if (depth == 0 && splitMode) formStart = <u32>(p - src);
      }
      let ord = pushList();
      if (oom) return false;
      lvSet(lvCount, depth, count);
      lvSet(lvSize, depth, size);
      lvSet(lvPending, depth, pending);
      lvSet(lvPendPos, depth, pendPos);
      depth++;
      count = 0;
      size = LIST_HEADER;
      lvSet(lvOrd, depth, ord);
      lvSet(lvOpen, depth, <u32>(p - src));
      lvSet(lvKind, depth, c);
      p++;
      continue;
    }
    case CL_CLOSE: {
      if (depth == 0) return fail(E_UNEXPECTED, p, <i32>c);
      let open = lvGet(lvKind, depth);
      let want: u32 = open == 40 ? 41 : open == 123 ? 125 : 93;
      if (c != want) return fail(E_UNEXPECTED, p, <i32>c);
      if (pending) return fail(E_NOTHING_TO_QUOTE, src + pendPos);
      let listSize = size + count * 4;
      let info = listInfo + (<usize>lvGet(lvOrd, depth) << 3);
      store<u32>(info, count);
      store<u32>(info, listSize, 4);
      depth--;
      count = lvGet(lvCount, depth);
      size = lvGet(lvSize, depth) + listSize;
      pending = lvGet(lvPending, depth);
      pendPos = lvGet(lvPendPos, depth);
      p++;
      objectEnds(depth, p);
      continue;
    }
    case CL_PREFIX: {
      if (!pending) {
        count++;
        if (depth == 0 && splitMode) formStart = <u32>(p - src);
      }
      pending++;
      pendPos = <u32>(p - src);
      size++;
      p++;
      continue;
    }
    default: break;
    }
    if (pending) pending = 0;
    else {
      count++;
      if (depth == 0 && splitMode) formStart = <u32>(p - src);
    }
    if (cl == CL_STRING) {
      let q = scanString(p, 0);
      if (!q) return false;
      size += 5 + strDecoded;
      cacheToken(q, TC_STRING, strPlain ? strDecoded : NOT_PLAIN);
      p = q;
    } else {
      let e = scanBare(p);
      let kind = tokKind;
      if (kind == K_INT) {
        let x = tokInt;
        if (!tokExact) {
          x = parseInteger(p, <i32>(e - p));
          if (numStatus != NUM_OK) return fail(E_INT_RANGE, p);
        }
        let small = x == <i64><i32>x;
        size += small ? 5 : 9;
        cacheToken(e, small ? TC_INT32 : TC_RESCAN, <u32><i32>x);
      } else if (kind == K_REAL) {
        parseReal(p, <i32>(e - p));
        if (numStatus != NUM_OK) return fail(E_REAL_RANGE, p);
        size += 9;
        cacheToken(e, TC_RESCAN, 0);
      } else {
        let id = symbolId(p, <u32>(e - p), tokHash, true);
        if (id < 0) return false;
        size += 5;
        cacheToken(e, TC_SYMBOL, <u32>id);
      }
      p = e;
    }
    objectEnds(depth, p);
  }
  if (pending) return fail(E_NOTHING_TO_QUOTE, src + pendPos);
  if (depth > 0) {
    let k = lvGet(lvKind, depth);
    return fail(E_UNCLOSED_LIST, src + lvGet(lvOpen, depth), <i32>k);
  }
  // the root's totals, for parse()
  lvSet(lvCount, 0, count);
  lvSet(lvSize, 0, size);
  return oom ? false : true;
}

// ---- pass 2 ----

const wPos = lvOpen; // reuse: unit position of each open list
const wIdx = lvCount; // reuse: next child index of each open list

function pass2(buf: usize, rootCount: u32, rootSize: u32): u32 {
  let w: u32 = HEADER;
  store<u8>(buf + w, T_BODY);
  store<u32>(buf + w, rootCount, 1);
  store<u32>(buf + w, rootSize, 5);
  let depth: i32 = 0;
  // the innermost open list: its unit position, its next child's index, and whether a
  // prefix chain already placed the object coming next
  let lp: u32 = w;
  let idx: u32 = 0;
  let pending = false;
  w += LIST_HEADER + rootCount * 4;
  let ord: u32 = 0;
  let end = srcEnd;
  let p = src;
  tokRead = 0;
  while (p < end) {
    let c = <u32>load<u8>(p);
    let cl = cls(c);
    switch (cl) {
    case CL_WHITE: { p++; continue; }
    case CL_COMMENT: {
      while (p < end && load<u8>(p) != 10) p++;
      continue;
    }
    case CL_OPEN: {
      if (pending) pending = false;
      else store<u32>(buf + lp + LIST_HEADER + (idx++ << 2), w - lp);
      let info = listInfo + (<usize>ord << 3);
      ord++;
      let count = load<u32>(info);
      store<u8>(buf + w, c == 40 ? T_CALL : c == 123 ? T_BODY : T_DATA);
      store<u32>(buf + w, count, 1);
      store<u32>(buf + w, load<u32>(info, 4), 5);
      lvSet(wPos, depth, lp);
      lvSet(wIdx, depth, idx);
      depth++;
      lp = w;
      idx = 0;
      w += LIST_HEADER + count * 4;
      p++;
      continue;
    }
    case CL_CLOSE: {
      depth--;
      lp = lvGet(wPos, depth);
      idx = lvGet(wIdx, depth);
      pending = false; // a prefix chain before the list that closed was used by it
      p++;
      continue;
    }
    case CL_PREFIX: {
      if (!pending) {
        store<u32>(buf + lp + LIST_HEADER + (idx++ << 2), w - lp);
        pending = true;
      }
      store<u8>(buf + w, c == 39 ? T_QUOTE : T_ERROR);
      w++;
      p++;
      continue;
    }
    default: break;
    }
    if (pending) pending = false;
    else store<u32>(buf + lp + LIST_HEADER + (idx++ << 2), w - lp);
    // pass 1 saw this atom: symbols, 32-bit integers and strings without escapes come
    // from the cache
    let a: u32 = 0;
    let v: u32 = 0;
    if (tokRead < nTok) {
      let t = tokCache + (<usize>tokRead << 3);
      tokRead++;
      a = load<u32>(t);
      v = load<u32>(t, 4);
    } else {
      a = TC_RESCAN << 30;
    }
    let k = a >>> 30;
    if (c == 34) {
      store<u8>(buf + w, T_STRING);
      if (k == TC_STRING && v != NOT_PLAIN) {
        memory.copy(buf + w + 5, p + 1, v);
        strDecoded = v;
        p = src + <usize>(a & 0x3fffffff);
      } else {
        p = scanString(p, buf + w + 5);
      }
      store<u32>(buf + w, strDecoded, 1);
      w += 5 + strDecoded;
      continue;
    }
    if (k == TC_SYMBOL || k == TC_INT32) {
      store<u8>(buf + w, k == TC_SYMBOL ? T_SYMBOL : T_INT32);
      store<u32>(buf + w, v, 1);
      w += 5;
      p = src + <usize>(a & 0x3fffffff);
      continue;
    }
    let e = scanBare(p);
    let kind = tokKind;
    if (kind == K_INT) {
      let x = tokExact ? tokInt : parseInteger(p, <i32>(e - p));
      if (x == <i64><i32>x) {
        store<u8>(buf + w, T_INT32);
        store<i32>(buf + w, <i32>x, 1);
        w += 5;
      } else {
        store<u8>(buf + w, T_INT64);
        store<i64>(buf + w, x, 1);
        w += 9;
      }
    } else if (kind == K_REAL) {
      store<u8>(buf + w, T_REAL);
      store<f64>(buf + w, parseReal(p, <i32>(e - p)), 1);
      w += 9;
    } else {
      store<u8>(buf + w, T_SYMBOL);
      store<u32>(buf + w, <u32>symbolId(p, <u32>(e - p), tokHash, false), 1);
      w += 5;
    }
    p = e;
  }
  return w;
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
  if (errReason == E_UNCLOSED_LIST) { t = textMsg(t, M.UNCLOSED); t = textByte(t, errChar); }
  else if (errReason == E_UNCLOSED_STRING) t = textMsg(t, M.UNCLOSED_STRING);
  else if (errReason == E_UNEXPECTED) { t = textMsg(t, M.UNEXPECTED); t = textByte(t, errChar); }
  else if (errReason == E_INVALID_ESCAPE) t = textMsg(t, M.INVALID_ESCAPE);
  else if (errReason == E_INT_RANGE) t = textMsg(t, M.INTEGER_RANGE);
  else if (errReason == E_REAL_RANGE) t = textMsg(t, M.REAL_RANGE);
  else if (errReason == E_NOTHING_TO_QUOTE) t = textMsg(t, M.NOTHING_TO_QUOTE);
  else if (errReason == E_TOO_DEEP) t = textMsg(t, M.NESTING_TOO_DEEP);
  else t = textMsg(t, M.INPUT_TOO_LARGE);
  t = textMsg(t, M.AT);
  t = textInt(t, errAt);
  if (!t) return oomError();
  let v = makeString(textPtr(t), textLen(t), true);
  textFree(t);
  return v ? v : oomError();
}

function begin(p: usize, n: i32): void {
  src = p;
  srcEnd = p + <usize>n;
  resetScratch();
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
  if (!pass1()) {
    let oomed = oom;
    resetScratch();
    return oomed ? oomError() : errorValue();
  }
  let rootCount = lvGet(lvCount, 0);
  let rootSize = LIST_HEADER + rootCount * 4 + lvGet(lvSize, 0);
  let symtab = HEADER + rootSize;
  let total = <u64>symtab + <u64>nSyms * 4 + <u64>symBytes;
  let buf = total < 0x7ff00000 ? bufAlloc(<u32>total) : 0;
  if (!buf) { resetScratch(); return oomError(); }
  writeHeader(buf, <u32>total, nSyms, symtab);
  pass2(buf, rootCount, rootSize);
  writeSymbols(buf, symtab);
  resetScratch();
  return mkv(buf, HEADER);
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
  let ok = pass1();
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
  return out;
}
