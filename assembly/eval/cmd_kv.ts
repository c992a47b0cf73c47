// core/kv/*: set, get, del, exists, snx, cas, iterate (SPEC.md section 5). Each runs
// inside one frame step once its arguments are in, so no task ever sees another in the
// middle of a K/V operation: snx and cas are atomic.

import * as M from "../gen/messages";
import {
  Value, vtag, retain, release, textOf, textOfLen, makeString, rewriteString, T_BODY,
} from "../slp/format";
import { TRUE, FALSE, boolValue } from "../slp/errors";
import { valuesEqual } from "../slp/value";
import { kvGet, kvFind, kvWindow, kvDetach, kvAttach, kvFreeEntry, windowIntact, WINDOW_KEYS } from "../kv/store";
import { logDel, logRepair } from "../kv/log";
import { ctxNew, ctxSet, V_KEY, V_RESULT } from "./context";
import {
  fPc, setPc, fA, setB, fB, fX, setX, fY, setY, fZ, setZ, fIdx, setIdx, fCtx, fLevel,
} from "./frame";
import {
  A_CONT, A_RET, C_SET, C_GET, C_DEL, C_EXISTS, C_SNX, C_CAS, C_ITERATE, failCmd, fail, takeRet,
  pushSeq,
} from "./machine";
import { argc, arg, evalArg, evalKeyArg, takeKey, takeNatural, storeValue } from "./args";
import { setRet } from "../sched/task";

function ret(t: usize, v: Value): i32 {
  setRet(t, v);
  return A_RET;
}

export function stepSet(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 2) return failCmd(t, C_SET, M.EXPECTED_2);
      return evalKeyArg(t, f, 1, 1);
    case 1: {
      let a = takeKey(t, f, C_SET, false);
      if (a != A_CONT) return a;
      return evalArg(t, f, 2, 2);
    }
    default: {
      let v = takeRet(t);
      let a = storeValue(t, C_SET, fA(f), v);
      release(v);
      if (a != A_CONT) return a;
      return ret(t, TRUE);
    }
  }
}

export function stepGet(t: usize, f: usize): i32 {
  if (fPc(f) == 0) {
    if (argc(f) != 1) return failCmd(t, C_GET, M.EXPECTED_1);
    return evalKeyArg(t, f, 1, 1);
  }
  let a = takeKey(t, f, C_GET, false);
  if (a != A_CONT) return a;
  let k = fA(f);
  let v = kvGet(textOf(k), textOfLen);
  if (!v) return failCmd(t, C_GET, M.KEY_NOT_FOUND);
  return ret(t, retain(v));
}

@inline export function stepDel(t: usize, f: usize): i32 {
  if (fPc(f) == 0) {
    if (argc(f) != 1) return failCmd(t, C_DEL, M.EXPECTED_1);
    return evalKeyArg(t, f, 1, 1);
  }
  let a = takeKey(t, f, C_DEL, false);
  if (a != A_CONT) return a;
  let k = fA(f);
  let kp = textOf(k);
  let kn = textOfLen;
  // RAM first, as for writes: a compaction then leaves the key out (a full log can still
  // shrink); if the log refuses, the entry goes back without allocating
  let e = kvDetach(kp, kn);
  if (e) {
    if (!logDel(kp, kn)) {
      kvAttach(e);
      logRepair(); // flash must not keep a deletion RAM undid
      return failCmd(t, C_DEL, M.STORE_FULL);
    }
    kvFreeEntry(e);
  }
  return ret(t, TRUE);
}

export function stepExists(t: usize, f: usize): i32 {
  if (fPc(f) == 0) {
    if (argc(f) != 1) return failCmd(t, C_EXISTS, M.EXPECTED_1);
    return evalKeyArg(t, f, 1, 1);
  }
  let a = takeKey(t, f, C_EXISTS, false);
  if (a != A_CONT) return a;
  let k = fA(f);
  return ret(t, boolValue(kvFind(textOf(k), textOfLen) != 0));
}

export function stepSnx(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 2) return failCmd(t, C_SNX, M.EXPECTED_2);
      return evalKeyArg(t, f, 1, 1);
    case 1: {
      let a = takeKey(t, f, C_SNX, false);
      if (a != A_CONT) return a;
      return evalArg(t, f, 2, 2);
    }
    default: {
      let v = takeRet(t);
      let k = fA(f);
      if (kvFind(textOf(k), textOfLen)) {
        release(v);
        return ret(t, FALSE);
      }
      let a = storeValue(t, C_SNX, k, v);
      release(v);
      if (a != A_CONT) return a;
      return ret(t, TRUE);
    }
  }
}

@inline export function stepCas(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 3) return failCmd(t, C_CAS, M.EXPECTED_3);
      return evalKeyArg(t, f, 1, 1);
    case 1: {
      let a = takeKey(t, f, C_CAS, false);
      if (a != A_CONT) return a;
      return evalArg(t, f, 2, 2);
    }
    case 2:
      setB(f, takeRet(t));
      return evalArg(t, f, 3, 3);
    default: {
      let v = takeRet(t);
      let k = fA(f);
      let cur = kvGet(textOf(k), textOfLen);
      if (!cur || !valuesEqual(cur, fB(f))) {
        release(v);
        return ret(t, FALSE);
      }
      let a = storeValue(t, C_CAS, k, v);
      release(v);
      if (a != A_CONT) return a;
      return ret(t, TRUE);
    }
  }
}

// iterate: x = offset, then keys left; y = snapshot; idx = cursor in it; z = step context
@inline export function stepIterate(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 4) return failCmd(t, C_ITERATE, M.EXPECTED_4);
      return evalKeyArg(t, f, 1, 1);
    case 1: {
      let a = takeKey(t, f, C_ITERATE, true);
      if (a != A_CONT) return a;
      return evalArg(t, f, 2, 2);
    }
    case 2: {
      let n = takeNatural(t);
      if (n < 0) return failCmd(t, C_ITERATE, M.OFFSET_NOT_NATURAL);
      setX(f, <u32>n);
      return evalArg(t, f, 3, 3);
    }
    case 3: {
      let limit = takeNatural(t);
      if (limit < 0) return failCmd(t, C_ITERATE, M.LIMIT_NOT_NATURAL);
      if (vtag(arg(f, 4)) != T_BODY) return failCmd(t, C_ITERATE, M.EXPECTED_A_BODY);
      let k = fA(f);
      let snap = kvWindow(textOf(k), textOfLen, fX(f), <u32>limit);
      if (!snap) return fail(t, M.OUT_OF_MEMORY);
      setY(f, <u32>snap);
      setX(f, load<u32>(snap));
      setIdx(f, WINDOW_KEYS);
      let c = ctxNew(fCtx(f));
      if (!c) return fail(t, M.OUT_OF_MEMORY);
      setZ(f, <u32>c);
      setPc(f, 4);
      return A_CONT;
    }
    case 4: {
      // next key of the window that still exists
      let left = fX(f);
      if (left == 0) return ret(t, TRUE);
      setX(f, left - 1);
      let p = <usize>fY(f) + <usize>fIdx(f);
      let n = load<i32>(p);
      setIdx(f, fIdx(f) + 4 + <u32>n);
      // skip a key deleted before its turn (no lookup while nothing was removed)
      if (!windowIntact(<usize>fY(f)) && !kvFind(p + 4, n)) return A_CONT;
      // $key: the previous turn's string rewritten when only this context holds it
      let c = <usize>fZ(f);
      ctxSet(c, V_RESULT, 0);
      if (!rewriteString(load<u64>(c + V_KEY), p + 4, n)) {
        let key = makeString(p + 4, n);
        if (!key) return fail(t, M.OUT_OF_MEMORY);
        ctxSet(c, V_KEY, key);
      }
      setPc(f, 5);
      return pushSeq(t, arg(f, 4), c, fLevel(f) + 1, 0);
    }
    default:
      release(takeRet(t));
      setPc(f, 4);
      return A_CONT;
  }
}
