// core/util/log (SPEC.md section 5): one line, strings raw, other values canonical,
// joined by single spaces. The line is built in the frame's own text because evaluating
// an argument may yield (an await inside it) while other tasks log.

import * as M from "../gen/messages";
import { hostLog } from "../host";
import { release } from "../slp/format";
import { TRUE } from "../slp/errors";
import { textNew, textByte, textPtr, textLen } from "../mem/text";
import { printRaw } from "../slp/print";
import { fPc, fX, setX, fIdx, setIdx } from "./frame";
import { A_RET, C_LOG, failCmd, fail, takeRet } from "./machine";
import { argc, evalArg } from "./args";
import { setRet } from "../sched/task";

export function stepLog(t: usize, f: usize): i32 {
  if (fPc(f) == 0) {
    if (argc(f) < 1) return failCmd(t, C_LOG, M.EXPECTED_AT_LEAST_1);
    let x = textNew(64);
    if (!x) return fail(t, M.OUT_OF_MEMORY);
    setX(f, <u32>x);
    setIdx(f, 1);
    return evalArg(t, f, 1, 1);
  }
  let v = takeRet(t);
  let i = <i32>fIdx(f);
  let x = <usize>fX(f);
  if (i > 1) x = textByte(x, 32);
  x = printRaw(x, v);
  release(v);
  setX(f, <u32>x);
  if (!x) return fail(t, M.OUT_OF_MEMORY);
  if (i >= argc(f)) {
    hostLog(textPtr(x), textLen(x));
    setRet(t, TRUE);
    return A_RET;
  }
  setIdx(f, i + 1);
  return evalArg(t, f, i + 1, 1);
}
