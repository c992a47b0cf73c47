// core/expr/eval and core/expr/await (SPEC.md section 5).

import * as M from "../gen/messages";
import { DEFAULT_AWAIT_TIMEOUT_MS } from "../limits";
import { hostNow } from "../host";
import {
  Value, vtag, vbuf, release, textOf, textOfLen, T_STRING, T_BODY, T_CALL, T_ERROR,
} from "../slp/format";
import { parse } from "../slp/parse";
import { maxInput } from "../sched/config";
import { nextSeq } from "../events/queue";
import {
  waiterAt, waiterAdd, waiterRemove, wGot, setGot, wDeadline, setDeadline, setBlocked,
} from "../events/subs";
import {
  fPc, setPc, setA, fX, setX, fY, setY, fZ, setZ, fIdx, setIdx, fCtx, fLevel,
} from "./frame";
import {
  A_CONT, A_RET, A_BLOCK, C_EVAL, C_AWAIT, failCmd, fail, failValue, takeRet, evalObj, pushSeq,
} from "./machine";
import { argc, arg, evalArg, takeChannel, takeTopic, takeNatural } from "./args";
import { setRet, setState, S_AWAIT } from "../sched/task";

export function stepEval(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 1) return failCmd(t, C_EVAL, M.EXPECTED_1);
      return evalArg(t, f, 1, 1);
    case 1: {
      let v = takeRet(t);
      let tag = vtag(v);
      let level = fLevel(f) + 1;
      if (tag == T_STRING) {
        let code = parse(textOf(v), textOfLen, maxInput);
        release(v);
        if (vtag(code) == T_ERROR) return failValue(t, code);
        setPc(f, 2);
        return pushSeq(t, code, fCtx(f), level, vbuf(code));
      }
      if (tag == T_BODY) {
        setA(f, v); // keeps the body's buffer alive while it runs
        setPc(f, 2);
        return pushSeq(t, v, fCtx(f), level, 0);
      }
      if (tag == T_CALL) {
        setA(f, v);
        setPc(f, 2);
        return evalObj(t, v, fCtx(f), level);
      }
      setRet(t, v);
      return A_RET;
    }
    default:
      return A_RET;
  }
}

function answer(t: usize, f: usize, w: usize): i32 {
  setRet(t, wGot(w));
  setGot(w, 0);
  waiterRemove(<i32>fX(f) - 1);
  setX(f, 0);
  return A_RET;
}

// await: x = waiter index + 1, y = channel, z = topic, idx = timeout in ms
export function stepAwait(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0: {
      let n = argc(f);
      if (n != 3 && n != 4) return fail(t, M.AWAIT_EXPECTED_3_OR_4);
      return evalArg(t, f, 2, 1);
    }
    case 1: {
      let ch = takeChannel(t);
      if (ch < 1) return failCmd(t, C_AWAIT, M.INVALID_CHANNEL);
      setY(f, <u32>ch);
      return evalArg(t, f, 3, 2);
    }
    case 2: {
      let topic = takeTopic(t);
      if (topic < 0) return failCmd(t, C_AWAIT, M.TOPIC_RANGE);
      setZ(f, <u32>topic);
      if (argc(f) == 4) return evalArg(t, f, 4, 3);
      setIdx(f, <u32>DEFAULT_AWAIT_TIMEOUT_MS);
      setPc(f, 4);
      return A_CONT;
    }
    case 3: {
      let ms = takeNatural(t);
      if (ms < 0) return failCmd(t, C_AWAIT, M.TIMEOUT_NOT_NATURAL);
      setIdx(f, <u32>ms);
      setPc(f, 4);
      return A_CONT;
    }
    case 4: {
      // listen first, then run EXPR: its own event counts
      let w = waiterAdd(<i32>fY(f), <i32>fZ(f), nextSeq, t);
      if (w < 0) return failCmd(t, C_AWAIT, M.TOO_MANY_WAITERS);
      setX(f, <u32>(w + 1));
      let expr = arg(f, 1);
      setPc(f, 5);
      if (vtag(expr) == T_BODY) return pushSeq(t, expr, fCtx(f), fLevel(f) + 1, 0);
      return evalObj(t, expr, fCtx(f), fLevel(f) + 1);
    }
    case 5: {
      release(takeRet(t));
      let w = waiterAt(<i32>fX(f) - 1);
      if (wGot(w)) return answer(t, f, w);
      setDeadline(w, hostNow() + <f64>fIdx(f));
      setBlocked(w, true);
      setState(t, S_AWAIT);
      setPc(f, 6);
      return A_BLOCK;
    }
    default: {
      let w = waiterAt(<i32>fX(f) - 1);
      if (wGot(w)) return answer(t, f, w);
      if (hostNow() >= wDeadline(w)) {
        waiterRemove(<i32>fX(f) - 1);
        setX(f, 0);
        return failCmd(t, C_AWAIT, M.TIMEOUT);
      }
      setBlocked(w, true);
      setState(t, S_AWAIT);
      return A_BLOCK;
    }
  }
}
