// The evaluator: evaluation of one object (evalObj) and the frame loop that runs a task
// (runTask). Commands are state machines over their frame (cmd_*.ts); a command that
// needs an argument's value sets its next pc and asks evalObj, which either answers at
// once (literals, variables, quotes) or pushes a frame for a nested call. Errors unwind
// the whole task (SPEC.md section 4: any error stops what is running).

import * as M from "../gen/messages";
import { msgLen, msgPtr } from "../gen/messages";
import { MAX_DEPTH, MAX_FRAMES } from "../limits";
import { free } from "../mem/heap";
import { textNew, textMsg, textBytes, textPtr, textLen, textFree, bytesEq, bytesEqMsg } from "../mem/text";
import {
  Value, vptr, vbuf, vtag, retain, release, releaseBuf, listCount, listChild, textOf, textOfLen, symEntry,
  makeString, T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_CALL, T_BODY, T_DATA, T_QUOTE,
  T_ERROR,
} from "../slp/format";
import { printValue } from "../slp/print";
import { NIL, oomError, channelSymbol } from "../slp/errors";
import {
  K_SEQ, K_CALL, K_ONE, frameInit, fCmd, fPc, setPc, fLevel, fUnit, fHold, fCtx, fIdx,
  setIdx, fA, fB, fC, fX, fY, fZ,
} from "./frame";
import { ctxLookup, ctxSet, ctxFree, V_RESULT, V_KEY, V_DATA, V_CHANNEL, V_TOPIC } from "./context";
import {
  tNFrames, setNFrames, topFrame, pushFrameSlot, tRet, setRet, tSteps, setSteps,
  tInterrupted,
} from "../sched/task";
import { maxSteps, stepSlice, countStep, totalSteps } from "../sched/config";
import { waiterRemove } from "../events/subs";
import * as kv from "./cmd_kv";
import * as ev from "./cmd_event";
import * as ex from "./cmd_expr";
import * as ut from "./cmd_util";

// Actions a step returns to the loop.
export const A_CONT = 0; // step the (possibly new) top frame again
export const A_RET = 1; // the top frame is finished; its value is in the task's ret
export const A_ERR = 2; // an error is in the task's ret: unwind
export const A_YIELD = 3; // stop here, stay runnable
export const A_BLOCK = 4; // stop here, the command set the task's state

// Outcomes of runTask.
export const R_DONE = 1;
export const R_YIELD = 2;
export const R_BLOCK = 3;

// Command ids.
export const C_SET = 1;
export const C_GET = 2;
export const C_DEL = 3;
export const C_EXISTS = 4;
export const C_SNX = 5;
export const C_CAS = 6;
export const C_ITERATE = 7;
export const C_PUB = 8;
export const C_SUB = 9;
export const C_EVAL = 10;
export const C_AWAIT = 11;
export const C_LOG = 12;
/** The command byte of a K_ONE frame (a K_SEQ frame's is 0): stepFrame switches on that byte alone. */
const C_ONE: u8 = 13;

// The message holding each command's name, by command id (a table: no branches).
const CMD_NAMES = memory.data<i32>([
  0, M.CORE_KV_SET, M.CORE_KV_GET, M.CORE_KV_DEL, M.CORE_KV_EXISTS, M.CORE_KV_SNX, M.CORE_KV_CAS,
  M.CORE_KV_ITERATE, M.CORE_EVENT_PUB, M.CORE_EVENT_SUB, M.CORE_EXPR_EVAL, M.CORE_EXPR_AWAIT,
  M.CORE_UTIL_LOG,
]);

/** The message holding command `cmd`'s name. */
@inline export function cmdName(cmd: i32): i32 {
  return load<i32>(<usize>cmd << 2, CMD_NAMES);
}

/** The command named by bytes [p, p+n), or 0. */
@inline export function lookupCommand(p: usize, n: i32): i32 {
  if (n < 11 || n > 15) return 0;
  let c = 0;
  let ns = load<u8>(p, 5); // k(v), e(vent/xpr), u(til)
  if (ns == 107) {
    let a = load<u8>(p, 8);
    if (n == 11) c = a == 115 ? (load<u8>(p, 9) == 101 ? C_SET : C_SNX) : a == 103 ? C_GET : a == 100 ? C_DEL : a == 99 ? C_CAS : 0;
    else c = n == 14 ? C_EXISTS : n == 15 ? C_ITERATE : 0;
  } else if (ns == 101) {
    let a = load<u8>(p, 6);
    let b = load<u8>(p, 11);
    if (a == 118) c = b == 112 ? C_PUB : C_SUB; // core/event/pub|sub
    else c = n == 14 ? C_EVAL : C_AWAIT; // core/expr/eval|await
  } else if (ns == 117) c = C_LOG;
  if (!c) return 0;
  // the name's length matched in choosing c: compare the bytes only
  let m = cmdName(c);
  return n == msgLen(m) && bytesEq(p, msgPtr(m), n) ? c : 0;
}

// ---- errors ----

/** Sets the task's ret to an error value built from up to three ASCII/byte pieces. */
function setError(t: usize, v: Value): i32 {
  setRet(t, v ? v : oomError());
  return A_ERR;
}

/** Fails with @"MESSAGE". */
export function fail(t: usize, msg: i32): i32 {
  let x = textNew(msgLen(msg));
  x = textMsg(x, msg);
  let v: Value = x ? makeString(textPtr(x), textLen(x), true) : 0;
  if (x) textFree(x);
  return setError(t, v);
}

/** A frame could not be pushed: the frame limit (nesting), or no memory to grow the stack. */
function noFrame(t: usize): i32 {
  return fail(t, <i32>tNFrames(t) >= MAX_FRAMES ? M.NESTING_TOO_DEEP : M.OUT_OF_MEMORY);
}

/** Fails with @"CMD: MESSAGE". */
export function failCmd(t: usize, cmd: i32, msg: i32): i32 {
  let x = textNew(48);
  x = textMsg(x, cmdName(cmd));
  x = textMsg(x, M.SEPARATOR);
  x = textMsg(x, msg);
  let v: Value = x ? makeString(textPtr(x), textLen(x), true) : 0;
  if (x) textFree(x);
  return setError(t, v);
}

/** Fails with @"PREFIX" followed by the bytes [p, p+n). */
function failWith(t: usize, prefix: i32, p: usize, n: i32): i32 {
  let x = textNew(msgLen(prefix) + n);
  x = textMsg(x, prefix);
  x = textBytes(x, p, n);
  let v: Value = x ? makeString(textPtr(x), textLen(x), true) : 0;
  if (x) textFree(x);
  return setError(t, v);
}

/** Fails with an existing error value (taking its reference). */
export function failValue(t: usize, v: Value): i32 {
  return setError(t, v);
}

// ---- evaluation of one object ----

@inline function lookupVariable(t: usize, v: Value, ctx: usize): i32 {
  let p = textOf(v);
  let n = textOfLen;
  let found: Value = 0;
  // the names have different lengths: one comparison decides
  if (n == 7) {
    if (bytesEqMsg(p, n, M.VAR_RESULT)) {
      found = ctxLookup(ctx, V_RESULT);
      if (!found) found = NIL;
    }
  } else if (n == 4) {
    if (bytesEqMsg(p, n, M.VAR_KEY)) found = ctxLookup(ctx, V_KEY);
  } else if (n == 5) {
    if (bytesEqMsg(p, n, M.VAR_DATA)) found = ctxLookup(ctx, V_DATA);
  } else if (n == 8) {
    if (bytesEqMsg(p, n, M.VAR_CHANNEL)) found = ctxLookup(ctx, V_CHANNEL);
  } else if (n == 6) {
    if (bytesEqMsg(p, n, M.VAR_TOPIC)) found = ctxLookup(ctx, V_TOPIC);
  } else if (n == 10) {
    if (bytesEqMsg(p, 9, M.VAR_CHANNEL_PREFIX)) {
      let c = <i32>load<u8>(p + 9) - 64; // 'A' -> 1
      if (c >= 1 && c <= 6) found = channelSymbol(c);
    }
  } else if (n == 13) {
    if (bytesEqMsg(p, n, M.VAR_CHANNEL_EXEC)) found = channelSymbol(0);
  }
  if (!found) return failWith(t, M.UNBOUND_VARIABLE, p, n);
  setRet(t, retain(found));
  return A_CONT;
}

/**
 * Evaluates the object v in context ctx at nesting level `level`. Either the value is in
 * the task's ret at once (A_CONT), or a frame was pushed that will leave it there
 * (A_CONT too), or it failed (A_ERR). The caller has already set its own next pc, and
 * must not use its frame address afterwards (pushing may move the frame array).
 */
export function evalObj(t: usize, v: Value, ctx: usize, level: i32): i32 {
  let steps = tSteps(t) + 1;
  setSteps(t, steps);
  countStep();
  if (<i32>steps > maxSteps) return fail(t, M.STEP_LIMIT);
  let tag = vtag(v);
  if (tag == T_SYMBOL) {
    // the name's first byte, straight from the symbol table (textOf without the call)
    if (load<u8>(symEntry(vbuf(v), load<u32>(vptr(v), 1)), 4) == 36) return lookupVariable(t, v, ctx); // '$'
    setRet(t, retain(v));
    return A_CONT;
  }
  if (tag == T_CALL) {
    if (level > MAX_DEPTH) return fail(t, M.NESTING_TOO_DEEP);
    let cmd = 0;
    let head: Value = 0;
    if (listCount(v) > 0) {
      head = listChild(v, 0);
      if (vtag(head) == T_SYMBOL) {
        let e = symEntry(vbuf(head), load<u32>(vptr(head), 1));
        cmd = lookupCommand(e + 4, load<i32>(e));
      }
    }
    if (!cmd) {
      let x = textNew(32);
      x = textMsg(x, M.UNKNOWN_COMMAND);
      if (head) x = printValue(x, head, -1);
      let e: Value = x ? makeString(textPtr(x), textLen(x), true) : 0;
      if (x) textFree(x);
      return setError(t, e);
    }
    let f = pushFrameSlot(t);
    if (!f) return noFrame(t);
    frameInit(f, K_CALL, <u8>cmd, level, v, ctx);
    return A_CONT;
  }
  if (tag == T_QUOTE) {
    if (vtag(v + 1) == T_ERROR) return setError(t, retain(v + 1));
    setRet(t, retain(v + 1));
    return A_CONT;
  }
  if (tag == T_ERROR) return setError(t, retain(v));
  // integers, reals, strings, data lists and bodies evaluate to themselves
  setRet(t, retain(v));
  return A_CONT;
}

/** Pushes a frame that runs the forms of body `body` in ctx, their calls at `level`. */
export function pushSeq(t: usize, body: Value, ctx: usize, level: i32, hold: usize): i32 {
  let f = pushFrameSlot(t);
  if (!f) {
    if (hold) releaseBuf(hold);
    return noFrame(t);
  }
  frameInit(f, K_SEQ, 0, level, body, ctx);
  store<u32>(f, <u32>hold, 16);
  return A_CONT;
}

/** Pushes a frame that evaluates one object (an EXEC request that is a call list). */
export function pushOne(t: usize, v: Value, ctx: usize, level: i32, hold: usize): i32 {
  let f = pushFrameSlot(t);
  if (!f) {
    if (hold) releaseBuf(hold);
    return noFrame(t);
  }
  frameInit(f, K_ONE, C_ONE, level, v, ctx);
  store<u32>(f, <u32>hold, 16);
  return A_CONT;
}

/** Takes the value out of the task's ret register. */
@inline export function takeRet(t: usize): Value {
  let v = tRet(t);
  setRet(t, 0);
  return v;
}

@inline function stepSeq(t: usize, f: usize): i32 {
  let i = fIdx(f);
  let body = fUnit(f);
  let ctx = fCtx(f);
  if (i > 0) {
    // the previous form completed: it is now $result here
    ctxSet(ctx, V_RESULT, retain(tRet(t)));
  }
  let n = listCount(body);
  if (i >= n) {
    if (n == 0) setRet(t, NIL);
    return A_RET; // ret holds the last form's value
  }
  release(takeRet(t));
  setIdx(f, i + 1);
  return evalObj(t, listChild(body, i), ctx, fLevel(f));
}

@inline function stepOne(t: usize, f: usize): i32 {
  if (fPc(f) == 1) return A_RET;
  setPc(f, 1);
  return evalObj(t, fUnit(f), fCtx(f), fLevel(f));
}

// stepFrame, stepSeq, stepOne and popFrame are inlined into runTask, their one caller in
// the loop: under wasm3 a call costs about as much as a dozen simple instructions.
@inline function stepFrame(t: usize, f: usize): i32 {
  switch (<i32>fCmd(f)) {
    case 0: return stepSeq(t, f);
    case C_ONE: return stepOne(t, f);
    case C_SET: return kv.stepSet(t, f);
    case C_GET: return kv.stepGet(t, f);
    case C_DEL: return kv.stepDel(t, f);
    case C_EXISTS: return kv.stepExists(t, f);
    case C_SNX: return kv.stepSnx(t, f);
    case C_CAS: return kv.stepCas(t, f);
    case C_ITERATE: return kv.stepIterate(t, f);
    case C_PUB: return ev.stepPub(t, f);
    case C_SUB: return ev.stepSub(t, f);
    case C_EVAL: return ex.stepEval(t, f);
    case C_AWAIT: return ex.stepAwait(t, f);
    default: return ut.stepLog(t, f);
  }
}

/** Pops the top frame, releasing what it holds. */
@inline function popFrame(t: usize): void {
  let f = topFrame(t);
  let cmd = <i32>fCmd(f); // 0 or C_ONE for the frames that are not calls
  if (cmd == C_ITERATE) {
    free(fY(f)); // the key snapshot
    ctxFree(fZ(f)); // the step context
  } else if (cmd == C_LOG) {
    textFree(fX(f));
  } else if (cmd == C_AWAIT) {
    if (fX(f)) waiterRemove(<i32>fX(f) - 1);
  }
  release(fA(f));
  release(fB(f));
  release(fC(f));
  let hold = fHold(f);
  if (hold) releaseBuf(hold);
  setNFrames(t, tNFrames(t) - 1);
}

/** Pops every frame (after an error or an interrupt). */
export function unwind(t: usize): void {
  while (tNFrames(t) > 0) popFrame(t);
}

/**
 * Runs task t until it finishes, yields (slice used up, or `budget` steps of the whole
 * board spent), or blocks. The task's ret holds the result when R_DONE.
 */
@inline export function runTask(t: usize, budgetEnd: u64): i32 {
  // Every step adds one to totalSteps, and a slice starts with each call: the slice is
  // used up where totalSteps reaches this call's start plus stepSlice.
  let limit = totalSteps + <u64>stepSlice;
  if (budgetEnd < limit) limit = budgetEnd;
  // only sxs_interrupt sets the flag, between sxs_run calls: checked once per slice
  if (tNFrames(t) > 0 && tInterrupted(t)) {
    release(takeRet(t));
    unwind(t);
    fail(t, M.INTERRUPTED);
    return R_DONE;
  }
  while (true) {
    if (tNFrames(t) == 0) return R_DONE;
    if (totalSteps >= limit) return R_YIELD;
    let a = stepFrame(t, topFrame(t));
    if (a == A_CONT) continue;
    if (a == A_RET) {
      popFrame(t);
      continue;
    }
    if (a == A_ERR) {
      let e = takeRet(t);
      unwind(t);
      setRet(t, e);
      return R_DONE;
    }
    return a == A_YIELD ? R_YIELD : R_BLOCK;
  }
  return R_DONE;
}

// Re-exported for the commands.
export { T_INT32, T_INT64, T_REAL, T_STRING, T_SYMBOL, T_CALL, T_BODY, T_DATA };
