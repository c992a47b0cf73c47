// core/event/pub and core/event/sub (SPEC.md section 5).

import * as M from "../gen/messages";
import { MAX_SUBS, STORE_RESERVE } from "../limits";
import { heapAvailable } from "../mem/heap";
import { unitSize } from "../slp/format";
import { textNew, textMsg, textInt, textPtr, textLen, textFree, bytesEqMsg } from "../mem/text";
import {
  Value, vtag, vbuf, vptr, release, textOf, textLenOf, isInt, intOf, makeString, T_SYMBOL, T_STRING,
  T_BODY, T_CALL,
} from "../slp/format";
import { TRUE } from "../slp/errors";
import { copyValue } from "../slp/value";
import { queueFull, queueLength, queuePush, Q_EVENT, Q_REQUEST } from "../events/queue";
import { subAdd, subCount } from "../events/subs";
import { processors } from "../sched/config";
import { fPc, fA, setA, fX, setX, fY, setY } from "./frame";
import { A_CONT, A_RET, A_BLOCK, C_PUB, C_SUB, failCmd, fail, failValue, takeRet } from "./machine";
import { argc, arg, evalArg, storeRoom, takeChannel, takeTopic } from "./args";
import { setRet } from "../sched/task";
import { waitForQueueRoom, isDeadlockVictim } from "../sched/scheduler";


function noProcessor(t: usize, n: i32): i32 {
  let x = textNew(40);
  x = textMsg(x, M.NO_PROCESSOR);
  x = textInt(x, n);
  let e: Value = x ? makeString(textPtr(x), textLen(x), true) : 0;
  if (x) textFree(x);
  if (!e) return fail(t, M.OUT_OF_MEMORY);
  return failValue(t, e);
}

// pub: x = channel, y = topic, a = payload
@inline export function stepPub(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 3) return failCmd(t, C_PUB, M.EXPECTED_3);
      return evalArg(t, f, 1, 1);
    case 1: {
      let ch = takeChannel(t);
      if (ch < 0) return failCmd(t, C_PUB, M.INVALID_CHANNEL);
      setX(f, <u32>ch);
      return evalArg(t, f, 2, 2);
    }
    case 2: {
      let topic = takeTopic(t);
      if (topic < 0) return failCmd(t, C_PUB, M.TOPIC_RANGE);
      if (fX(f) == 0 && topic >= processors) return noProcessor(t, topic);
      setY(f, <u32>topic);
      return evalArg(t, f, 3, 3);
    }
    case 3: {
      let v = takeRet(t);
      setA(f, v);
      if (fX(f) == 0) {
        let tag = vtag(v);
        if (tag != T_STRING && tag != T_BODY && tag != T_CALL) {
          return failCmd(t, C_PUB, M.EXEC_NOT_CODE);
        }
      }
      // fall through to the enqueue attempt
      store<u16>(f, 4, 2);
      return A_CONT;
    }
    default: {
      // the queue is full, or events wait and hold what is left of the heap: wait for
      // them to be handled (queued payloads must not take what running tasks need).
      // When nothing else can run, a full queue is an error; short memory is not: the
      // entry goes in if memory allows after all.
      let victim = false;
      if (queueFull() || (queueLength() > 0 && heapAvailable() < <usize>STORE_RESERVE)) {
        victim = isDeadlockVictim(t);
        if (!victim) {
          waitForQueueRoom(t);
          return A_BLOCK;
        }
        if (queueFull()) return failCmd(t, C_PUB, M.QUEUE_FULL);
      }
      let ch = <i32>fX(f);
      let ok = ch == 0
        ? queuePush(Q_REQUEST, 0, 0, 0, <i32>fY(f), fA(f))
        : queuePush(Q_EVENT, ch, <i32>fY(f), 0, -1, fA(f));
      if (!ok) {
        // no memory for the queue to take it: while events wait, handling them gives
        // memory back, so wait as for a full queue
        if (!victim && queueLength() > 0 && !isDeadlockVictim(t)) {
          waitForQueueRoom(t);
          return A_BLOCK;
        }
        return fail(t, M.OUT_OF_MEMORY);
      }
      setA(f, 0); // the queue holds the payload now
      setRet(t, TRUE);
      return A_RET;
    }
  }
}

// sub: x = channel
export function stepSub(t: usize, f: usize): i32 {
  switch (fPc(f)) {
    case 0:
      if (argc(f) != 3) return failCmd(t, C_SUB, M.EXPECTED_3);
      return evalArg(t, f, 1, 1);
    case 1: {
      let ch = takeChannel(t);
      if (ch < 1) return failCmd(t, C_SUB, M.INVALID_CHANNEL);
      setX(f, <u32>ch);
      return evalArg(t, f, 2, 2);
    }
    default: {
      let topic = takeTopic(t);
      if (topic < 0) return failCmd(t, C_SUB, M.TOPIC_RANGE);
      let body = arg(f, 3);
      if (vtag(body) != T_BODY) return failCmd(t, C_SUB, M.EXPECTED_A_BODY);
      if (subCount() >= MAX_SUBS) return failCmd(t, C_SUB, M.TOO_MANY_SUBS);
      if (!storeRoom(<usize>unitSize(vptr(body)) * 2)) return failCmd(t, C_SUB, M.STORE_FULL);
      let own = copyValue(body);
      if (!own) return failCmd(t, C_SUB, M.STORE_FULL);
      if (!subAdd(<i32>fX(f), topic, vbuf(own))) {
        release(own);
        return failCmd(t, C_SUB, M.TOO_MANY_SUBS);
      }
      setRet(t, TRUE);
      return A_RET;
    }
  }
}
