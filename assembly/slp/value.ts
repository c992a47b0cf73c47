// Operations over whole values: structural equality and copying a subtree out into a
// buffer of its own. Both are single linear walks over the preorder unit range.

import { alloc, free } from "../mem/heap";
import { bytesEq } from "../mem/text";
import {
  Value, HEADER, LIST_HEADER, T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_QUOTE, T_ERROR,
  vbuf, voff, vptr, mkv, unitSize, symEntry, bufAlloc, writeHeader, retain, intOf,
} from "./format";

/** Bytes of the leaf or list header at p (a list's children not included). */
@inline function headSize(p: usize): u32 {
  let tag = load<u8>(p);
  if (tag == T_QUOTE || tag == T_ERROR) return 1;
  if (tag == T_INT32 || tag == T_SYMBOL) return 5;
  if (tag == T_INT64 || tag == T_REAL) return 9;
  if (tag == T_STRING) return 5 + load<u32>(p, 1);
  return LIST_HEADER + (load<u32>(p, 1) << 2);
}

function symEq(abuf: usize, aid: u32, bbuf: usize, bid: u32): bool {
  let a = symEntry(abuf, aid);
  let b = symEntry(bbuf, bid);
  let n = load<u32>(a);
  if (n != load<u32>(b)) return false;
  return bytesEq(a + 4, b + 4, n);
}

/**
 * Structural equality (SPEC.md section 4): same type and contents; reals equal when
 * their bits are; integers equal whatever their width in the buffer.
 */
export function valuesEqual(a: Value, b: Value): bool {
  let ab = vbuf(a), bb = vbuf(b);
  let p = vptr(a), q = vptr(b);
  let pend = p + unitSize(p);
  while (p < pend) {
    let ta = load<u8>(p), tb = load<u8>(q);
    let ia = ta == T_INT32 || ta == T_INT64;
    let ib = tb == T_INT32 || tb == T_INT64;
    if (ia || ib) {
      if (!(ia && ib)) return false;
      if (intOf(mkv(ab, <u32>(p - ab))) != intOf(mkv(bb, <u32>(q - bb)))) return false;
    } else {
      if (ta != tb) return false;
      if (ta == T_REAL) {
        if (load<u64>(p, 1) != load<u64>(q, 1)) return false;
      } else if (ta == T_STRING) {
        let n = load<u32>(p, 1);
        if (n != load<u32>(q, 1) || !bytesEq(p + 5, q + 5, n)) return false;
      } else if (ta == T_SYMBOL) {
        if (!symEq(ab, load<u32>(p, 1), bb, load<u32>(q, 1))) return false;
      } else if (ta != T_QUOTE && ta != T_ERROR) {
        if (load<u32>(p, 1) != load<u32>(q, 1)) return false; // list counts
      }
    }
    p += headSize(p);
    q += headSize(q);
  }
  return true;
}

/**
 * A value with a buffer of its own holding v's subtree and only the symbols it uses.
 * When v is already the root of its buffer, that buffer is shared (refcount +1).
 * Returns 0 when out of memory.
 */
export function copyValue(v: Value): Value {
  let src = vbuf(v);
  if (voff(v) == HEADER) return retain(v);
  let p = vptr(v);
  let size = unitSize(p);
  // Collect the distinct symbol ids used, with a small open-addressing map old -> new.
  let nsymUnits: u32 = 0;
  let q = p, end = p + size;
  while (q < end) {
    if (load<u8>(q) == T_SYMBOL) nsymUnits++;
    q += headSize(q);
  }
  let cap: u32 = 8;
  while (cap < nsymUnits * 2) cap <<= 1;
  let map: usize = 0;
  let nsym: u32 = 0;
  let symBytes: u32 = 0;
  if (nsymUnits) {
    map = alloc(<usize>cap * 8); // u32 old+1, u32 new
    if (!map) return 0;
    memory.fill(map, 0, <usize>cap * 8);
    q = p;
    while (q < end) {
      if (load<u8>(q) == T_SYMBOL) {
        let id = load<u32>(q, 1);
        let j = (id * 2654435761) & (cap - 1);
        while (true) {
          let e = map + (<usize>j << 3);
          let k = load<u32>(e);
          if (!k) {
            store<u32>(e, id + 1);
            store<u32>(e, nsym++, 4);
            symBytes += 4 + load<u32>(symEntry(src, id));
            break;
          }
          if (k == id + 1) break;
          j = (j + 1) & (cap - 1);
        }
      }
      q += headSize(q);
    }
  }
  let symtab = HEADER + size;
  let total = symtab + nsym * 4 + symBytes;
  let buf = bufAlloc(total);
  if (!buf) { free(map); return 0; }
  writeHeader(buf, total, nsym, symtab);
  // units are position independent (list offsets are relative): copy, then renumber symbols
  memory.copy(buf + HEADER, p, size);
  if (nsym) {
    let entry = symtab + nsym * 4;
    for (let j: u32 = 0; j < cap; j++) {
      let e = map + (<usize>j << 3);
      let k = load<u32>(e);
      if (!k) continue;
      let newId = load<u32>(e, 4);
      let se = symEntry(src, k - 1);
      let n = load<u32>(se);
      store<u32>(buf + symtab + (newId << 2), entry);
      memory.copy(buf + entry, se, 4 + n);
      entry += 4 + n;
    }
    q = buf + HEADER;
    let qend = q + size;
    while (q < qend) {
      if (load<u8>(q) == T_SYMBOL) {
        let id = load<u32>(q, 1);
        let j = (id * 2654435761) & (cap - 1);
        while (load<u32>(map + (<usize>j << 3)) != id + 1) j = (j + 1) & (cap - 1);
        store<u32>(q, load<u32>(map + (<usize>j << 3), 4), 1);
      }
      q += headSize(q);
    }
    free(map);
  }
  return mkv(buf, HEADER);
}
