// The cooperative scheduler of SPEC.md section 6: processors that run their requests
// one at a time, handler tasks created per event and consumer, a round-robin of runnable
// tasks, step slices, await timers and queue backpressure.

import * as M from "../gen/messages";
import { MAX_PROCESSORS, MAX_HANDLER_TASKS, MAX_WAITERS, MAX_WATCHES, STORE_RESERVE, HANDLER_ROOM, KEEP_IDLE } from "../limits";
import { hostResult, hostLog, hostEvent, hostNow } from "../host";
import { alloc, free, heapAvailable, heapHasRoom } from "../mem/heap";
import { textNew, textMsg, textByte, textInt, textPtr, textLen, textFree, textClear } from "../mem/text";
import {
  Value, HEADER, vtag, vbuf, vptr, mkv, retain, release, retainBuf, makeInt, textOf, textOfLen, bufLength,
  unitSize, T_STRING, T_BODY, T_CALL, T_ERROR,
} from "../slp/format";
import { copyValue } from "../slp/value";
import { channelSymbol, oomError } from "../slp/errors";
import { printValue, printErrorMessage } from "../slp/print";
import { parse } from "../slp/parse";
import { ctxNew, ctxFree, ctxSet, V_RESULT, V_DATA, V_CHANNEL, V_TOPIC } from "../eval/context";
import { runTask, pushSeq, pushOne, unwind, R_DONE, R_YIELD, fail } from "../eval/machine";
import {
  queueLength, queueFull, queuePush, qChannel, qTopic, qReq, qPayload, qSeq, eventHead, eventPop,
  requestHead, requestPop, requestRemove, Q_REQUEST,
} from "../events/queue";
import {
  subCount, subAt, subChannel, subTopic, subOrder, subBody, waiterAt, wActive, wChannel, wTopic,
  wFromSeq, wOrder, wTask, wBlocked, setBlocked, wGot, setGot, wDeadline, waitersActive,
} from "../events/subs";
import {
  taskNew, taskFreeMemory, taskOwnsCtx, setHandlerInfo, tState, setState, tKind, tReq, tProc,
  tRet, setRet, tCtx, tNext, setNext, tChannel, tTopic, setInterrupted, tOrder, setOrder,
  registrySlot, setRegistrySlot,
  S_RUNNABLE, S_AWAIT, S_QUEUE, TK_REQUEST, TK_EXEC, TK_HANDLER,
} from "./task";
import { processors, maxInput, totalSteps } from "./config";

// processor i: +0 u32 context (persists across its requests) +4 u32 running task
const procs = memory.data(MAX_PROCESSORS * 8);
let runHead: usize = 0;
let runTail: usize = 0;
let handlerTasks: i32 = 0;
let liveTasks: i32 = 0;
// tasks waiting for queue room, in the order they started waiting
let queueWaitOrder: u32 = 0;
let deadlockVictim: usize = 0;
// host event watches: +0 i32 channel (0 = free) +4 i32 topic (-1 = all)
const watches = memory.data(MAX_WATCHES * 8);

export function schedInit(): bool {
  for (let i = 0; i < processors; i++) {
    let c = ctxNew(0);
    if (!c) return false;
    store<u32>(procs + (<usize>i << 3), <u32>c);
    store<u32>(procs + (<usize>i << 3), 0, 4);
  }
  return true;
}

export function liveTaskCount(): i32 {
  return liveTasks;
}

function pushRun(t: usize): void {
  if (tState(t) == S_QUEUE) queueWaiting--;
  setState(t, S_RUNNABLE);
  setNext(t, 0);
  if (runTail) setNext(runTail, t);
  else runHead = t;
  runTail = t;
}

@inline function popRun(): usize {
  let t = runHead;
  if (t) {
    runHead = tNext(t);
    if (!runHead) runTail = 0;
    setNext(t, 0);
  }
  return t;
}

// ---- queue backpressure ----

/** Tasks now waiting for queue room (so that the common case costs nothing). */
let queueWaiting: i32 = 0;

/**
 * True while tasks live that do not wait for queue room: they will finish (or time out)
 * and give memory back, so an event may wait for them.
 */
@inline function othersRun(): bool {
  return liveTasks > queueWaiting;
}

/** Called by core/event/pub when the queue is full (or has no memory): the task waits for room. */
export function waitForQueueRoom(t: usize): void {
  setState(t, S_QUEUE);
  setOrder(t, ++queueWaitOrder);
  queueWaiting++;
}

/** True once for the task chosen to break a queue deadlock (see breakDeadlock). */
export function isDeadlockVictim(t: usize): bool {
  if (t != deadlockVictim) return false;
  deadlockVictim = 0;
  return true;
}

// Tasks are few (processors + MAX_HANDLER_TASKS), so waiting tasks are found by a scan
// of a small registry rather than kept in another list.
const REGISTRY = MAX_PROCESSORS + MAX_HANDLER_TASKS;
const registry = memory.data(REGISTRY * 4);

let registryHint: i32 = 0;

function register(t: usize): void {
  for (let k = 0; k < REGISTRY; k++) {
    let i = (registryHint + k) % REGISTRY;
    let slot = registry + (<usize>i << 2);
    if (!load<u32>(slot)) {
      store<u32>(slot, <u32>t);
      setRegistrySlot(t, i);
      registryHint = i + 1;
      liveTasks++;
      return;
    }
  }
}

function unregister(t: usize): void {
  let i = registrySlot(t);
  store<u32>(registry + (<usize>i << 2), 0);
  liveTasks--;
}

/** Wakes every task waiting for queue room, oldest first; each retries its publish. */
function wakeQueueWaiters(): void {
  if (!queueWaiting || queueFull()) return;
  while (true) {
    let best: usize = 0;
    for (let i = 0; i < REGISTRY; i++) {
      let t = <usize>load<u32>(registry + (<usize>i << 2));
      if (t && tState(t) == S_QUEUE && (!best || tOrder(t) < tOrder(best))) best = t;
    }
    if (!best) return;
    pushRun(best);
  }
}

/**
 * Nothing can run and publishers wait for queue room (or memory) that can only come from
 * consumers that cannot start: the oldest waiting publisher gets
 * `core/event/pub: queue full` instead of waiting forever.
 */
function breakDeadlock(): void {
  if (runHead || !queueWaiting) return;
  let best: usize = 0;
  for (let i = 0; i < REGISTRY; i++) {
    let t = <usize>load<u32>(registry + (<usize>i << 2));
    if (t && tState(t) == S_QUEUE && (!best || tOrder(t) < tOrder(best))) best = t;
  }
  if (!best) return;
  deadlockVictim = best;
  pushRun(best);
}

// ---- starting tasks ----

@inline function procCtx(p: i32): usize {
  return load<u32>(<usize>p << 3, procs);
}

@inline function procTask(p: i32): usize {
  return load<u32>(<usize>p << 3, procs + 4);
}

@inline function setProcTask(p: i32, t: usize): void {
  store<u32>(<usize>p << 3, <u32>t, procs + 4);
}

/** Starts a request (from the host, req > 0, or from EXEC, req == 0) on processor p. Takes payload's reference. */
@inline function startRequest(req: i32, p: i32, payload: Value): void {
  let t = taskNew(req > 0 ? TK_REQUEST : TK_EXEC, req, p, procCtx(p), false);
  if (!t) {
    release(payload);
    finishWithoutTask(req, p, oomError());
    return;
  }
  let tag = vtag(payload);
  if (tag == T_STRING) {
    // an EXEC payload given as text
    let code = parse(textOf(payload), textOfLen, maxInput);
    release(payload);
    payload = code;
    tag = vtag(payload);
  }
  if (tag == T_ERROR) setRet(t, payload);
  else if (tag == T_BODY) pushSeq(t, payload, procCtx(p), 1, vbuf(payload));
  else if (tag == T_CALL) pushOne(t, payload, procCtx(p), 1, vbuf(payload));
  else { release(payload); fail(t, M.OUT_OF_MEMORY); }
  setProcTask(p, t);
  register(t);
  pushRun(t);
}

/** Starts the handler of subscription s for one event; false, changing nothing, when out of memory. */
function startHandler(s: usize, channel: i32, topic: i32, payload: Value): bool {
  let c = ctxNew(0);
  let topicValue = makeInt(topic);
  let t: usize = c && topicValue ? taskNew(TK_HANDLER, 0, -1, c, true) : 0;
  if (!t) {
    ctxFree(c);
    release(topicValue);
    return false;
  }
  ctxSet(c, V_DATA, retain(payload));
  ctxSet(c, V_CHANNEL, channelSymbol(channel));
  ctxSet(c, V_TOPIC, topicValue);
  setHandlerInfo(t, channel, topic);
  let body = subBody(s);
  retainBuf(body);
  pushSeq(t, mkv(body, HEADER), c, 1, body);
  handlerTasks++;
  register(t);
  pushRun(t);
  return true;
}

// ---- output ----

/** One reusable text for printing results and events; given back when it grew large. */
let out: usize = 0;
let printing = false;

/** Gives back the print text between prints (the heap's reclaimer); true when one was kept. */
export function releaseIdleOut(): bool {
  if (printing || !out) return false;
  textFree(out);
  out = 0;
  return true;
}

function outText(): usize {
  if (!out) out = textNew(256);
  else textClear(out);
  return out;
}

function emitResult(req: i32, v: Value): void {
  printing = true;
  let x = printValue(outText(), v, -1);
  printing = false;
  out = x;
  if (!x) {
    // even the result does not fit: say so in as few bytes as possible
    let y = textNew(24);
    y = printValue(y, oomError(), -1);
    if (y) { hostResult(req, textPtr(y), textLen(y)); textFree(y); }
    return;
  }
  hostResult(req, textPtr(x), textLen(x));
  // a long result's text is not kept for the next one (KEEP_IDLE)
  if (textLen(x) > <i32>KEEP_IDLE) { textFree(x); out = 0; }
}

/** Logs `error: CH/TOPIC: MESSAGE` (channel 0 = EXEC, topic = processor). */
function logError(channel: i32, topic: i32, e: Value): void {
  let x = textNew(64);
  x = textMsg(x, M.ERROR_PREFIX);
  x = channel == 0 ? textMsg(x, M.EXEC) : textByte(x, 64 + channel);
  x = textByte(x, 47);
  x = textInt(x, topic);
  x = textMsg(x, M.SEPARATOR);
  x = printErrorMessage(x, e);
  if (!x) return;
  hostLog(textPtr(x), textLen(x));
  textFree(x);
}

function finishWithoutTask(req: i32, p: i32, v: Value): void {
  if (req > 0) emitResult(req, v);
  else logError(0, p, v);
  release(v);
}

/**
 * A processor's $result outlives its request (SPEC.md section 4) and is a view into the
 * buffer it was parsed into: a small one from a large request gets a buffer of its own,
 * so that the request's text is freed now and not when the processor next runs.
 */
function unpinResult(c: usize): void {
  let r = load<u64>(c + <usize>V_RESULT);
  if (!r || bufLength(vbuf(r)) <= KEEP_IDLE || unitSize(vptr(r)) > KEEP_IDLE) return;
  let own = copyValue(r);
  if (own) ctxSet(c, V_RESULT, own); // out of memory: it stays as it is
}

@inline function finishTask(t: usize): void {
  let v = tRet(t);
  let kind = tKind(t);
  if (kind == TK_HANDLER) {
    if (v && vtag(v) == T_ERROR) logError(tChannel(t), tTopic(t), v);
    handlerTasks--;
  } else {
    if (kind == TK_REQUEST) emitResult(tReq(t), v);
    else if (v && vtag(v) == T_ERROR) logError(0, tProc(t), v);
    setProcTask(tProc(t), 0);
    unpinResult(procCtx(tProc(t)));
  }
  release(v);
  setRet(t, 0);
  if (taskOwnsCtx(t)) ctxFree(tCtx(t));
  unregister(t);
  taskFreeMemory(t);
}

// ---- dispatch: handing queued events and requests to their consumers ----

function watched(channel: i32, topic: i32): bool {
  for (let i = 0; i < MAX_WATCHES; i++) {
    let w = watches + (<usize>i << 3);
    let c = load<i32>(w);
    if (c == channel && (load<i32>(w, 4) < 0 || load<i32>(w, 4) == topic)) return true;
  }
  return false;
}

export function setWatch(channel: i32, topic: i32, on: bool): i32 {
  let free_: usize = 0;
  for (let i = 0; i < MAX_WATCHES; i++) {
    let w = watches + (<usize>i << 3);
    let c = load<i32>(w);
    if (c == channel && load<i32>(w, 4) == topic) {
      if (!on) store<i32>(w, 0);
      return 0;
    }
    if (!c && !free_) free_ = w;
  }
  if (!on) return 0;
  if (!free_) return -2;
  store<i32>(free_, channel);
  store<i32>(free_, topic, 4);
  return 0;
}

function emitEvent(channel: i32, topic: i32, payload: Value): void {
  printing = true;
  let x = printValue(outText(), payload, -1);
  printing = false;
  out = x;
  if (!x) return;
  hostEvent(channel, topic, textPtr(x), textLen(x));
}

// waiters matching the event being dispatched, sorted by registration order
const matched = memory.data(MAX_WAITERS * 4);

/**
 * Hands one event to its consumers; false when the handler tasks it needs are not
 * available yet: MAX_HANDLER_TASKS run, or the first handler finds no memory while tasks
 * live that will give some back (the event waits in the queue rather than being lost).
 */
function deliver(e: usize): bool {
  let channel = qChannel(e);
  let topic = qTopic(e);
  let seq = qSeq(e);
  let payload = qPayload(e);
  let needed = 0;
  let ns = subCount();
  for (let i = 0; i < ns; i++) {
    let s = subAt(i);
    if (subChannel(s) == channel && subTopic(s) == topic) needed++;
  }
  if (needed > 0 && handlerTasks + needed > MAX_HANDLER_TASKS) return false;
  if (needed > 0 && othersRun() && heapAvailable() < <usize>HANDLER_ROOM * <usize>(handlerTasks + needed)) return false;
  let nw = 0;
  for (let i = 0, n = waitersActive() ? MAX_WAITERS : 0; i < n; i++) {
    let w = waiterAt(i);
    if (!wActive(w) || wGot(w) || wChannel(w) != channel || wTopic(w) != topic) continue;
    if (wFromSeq(w) > seq) continue;
    // insertion sort by registration order
    let j = nw++;
    while (j > 0 && wOrder(load<u32>(matched + (<usize>(j - 1) << 2))) > wOrder(w)) {
      store<u32>(matched + (<usize>j << 2), load<u32>(matched + (<usize>(j - 1) << 2)));
      j--;
    }
    store<u32>(matched + (<usize>j << 2), <u32>w);
  }
  // merge subscriptions and waiters by the order they started listening
  let si = 0, wi = 0;
  let handed = false;
  while (true) {
    while (si < ns && !(subChannel(subAt(si)) == channel && subTopic(subAt(si)) == topic)) si++;
    let s: usize = si < ns ? subAt(si) : 0;
    let w: usize = wi < nw ? <usize>load<u32>(matched + (<usize>wi << 2)) : 0;
    if (!s && !w) break;
    if (s && (!w || subOrder(s) < wOrder(w))) {
      if (!startHandler(s, channel, topic, payload)) {
        if (!handed && othersRun()) return false; // nothing handed out yet: wait
        logError(channel, topic, oomError());
      }
      handed = true;
      si++;
    } else {
      setGot(w, retain(payload));
      if (wBlocked(w)) {
        setBlocked(w, false);
        pushRun(wTask(w));
      }
      handed = true;
      wi++;
    }
  }
  // watched events go to the host once, when the event is handed out
  if (watched(channel, topic)) emitEvent(channel, topic, payload);
  release(payload);
  return true;
}

/**
 * Hands out what can be handed out, oldest first across the rings (SPEC.md section 6:
 * one FIFO): requests to idle processors, events to their consumers.
 */
function dispatch(): void {
  if (!queueLength()) return;
  let consumed = false;
  let eventsBlocked = false;
  while (true) {
    // the oldest ready head
    let best: usize = 0;
    let bestProc = -1;
    for (let p = 0; p < processors; p++) {
      if (procTask(p)) continue;
      let e = requestHead(p);
      if (e && (!best || qSeq(e) < qSeq(best))) { best = e; bestProc = p; }
    }
    if (!eventsBlocked) {
      let e = eventHead();
      if (e && (!best || qSeq(e) < qSeq(best))) { best = e; bestProc = -1; }
    }
    if (!best) break;
    if (bestProc >= 0) {
      let req = qReq(best);
      let payload = qPayload(best);
      requestPop(bestProc);
      startRequest(req, bestProc, payload);
    } else {
      if (!deliver(best)) { eventsBlocked = true; continue; }
      eventPop();
    }
    consumed = true;
  }
  if (consumed && queueWaiting) wakeQueueWaiters();
}

// ---- timers ----

function checkTimers(): void {
  if (!waitersActive()) return;
  let now = hostNow();
  for (let i = 0; i < MAX_WAITERS; i++) {
    let w = waiterAt(i);
    if (wActive(w) && wBlocked(w) && wDeadline(w) <= now) {
      setBlocked(w, false);
      pushRun(wTask(w));
    }
  }
}

/** When the earliest await timeout falls due (host_now time), or -1. */
export function nextTimer(): f64 {
  let best: f64 = -1;
  if (!waitersActive()) return best;
  for (let i = 0; i < MAX_WAITERS; i++) {
    let w = waiterAt(i);
    if (wActive(w) && wBlocked(w) && (best < 0 || wDeadline(w) < best)) best = wDeadline(w);
  }
  return best;
}

// ---- the entry points behind docs/abi.md ----

/** Queues a request; 0 queued, -1 queue full, -2 no such processor, -3 out of memory. */
export function submit(req: i32, p: i32, text: usize, len: i32): i32 {
  if (p < 0 || p >= processors) return -2;
  if (queueFull()) return -1;
  // Memory backpressure: queued requests hold their parsed text. While processor p is
  // busy, a new request for it (it would wait) is refused for now (-1, as for a full
  // queue: the caller runs the board and tries again) unless STORE_RESERVE bytes stay
  // free after its text, so that a burst of input cannot use up what a full store keeps
  // free for running requests.
  if (!heapHasRoom(<usize>STORE_RESERVE + <usize>len) && (procTask(p) || requestHead(p))) return -1;
  // out of memory: a retry after running may find room if there is work to finish
  let code = parse(text, len, maxInput);
  if (!code) return hasWork() ? -1 : -3;
  if (!queuePush(Q_REQUEST, 0, 0, req, p, code)) {
    release(code);
    return queueFull() || hasWork() ? -1 : -3;
  }
  return 0;
}

/** True while tasks live or entries are queued: running the board will free memory. */
export function hasWork(): bool {
  return liveTasks > 0 || queueLength() > 0;
}

/** Runs up to `budget` steps; 1 while runnable work remains, 0 when idle. */
export function run(budget: i32): i32 {
  let end = totalSteps + <u64>(budget > 0 ? budget : 1);
  if (waitersActive()) checkTimers();
  dispatch();
  while (totalSteps < end) {
    let t = popRun();
    if (!t) {
      breakDeadlock();
      t = popRun();
      if (!t) break;
    }
    let r = runTask(t, end);
    if (r == R_DONE) {
      finishTask(t);
      dispatch();
    } else if (r == R_YIELD) {
      // queued events go to their consumers first, then this task joins the back
      dispatch();
      pushRun(t);
    } else {
      dispatch();
    }
    if (waitersActive()) checkTimers();
  }
  return runHead ? 1 : 0;
}

/** Interrupts request `req` (running or queued); 1 when found. */
export function interrupt(req: i32): i32 {
  for (let p = 0; p < processors; p++) {
    let t = procTask(p);
    if (!t || tKind(t) != TK_REQUEST || tReq(t) != req) continue;
    setInterrupted(t);
    let s = tState(t);
    if (s == S_AWAIT) {
      for (let i = 0; i < MAX_WAITERS; i++) {
        let w = waiterAt(i);
        if (wActive(w) && wTask(w) == t) setBlocked(w, false);
      }
      pushRun(t);
    } else if (s == S_QUEUE) {
      pushRun(t);
    }
    return 1;
  }
  for (let p = 0; p < processors; p++) {
    let payload = requestRemove(p, req);
    if (!payload) continue;
    release(payload);
    let t = textNew(16);
    t = textMsg(t, M.INTERRUPTED_VALUE);
    if (t) { hostResult(req, textPtr(t), textLen(t)); textFree(t); }
    wakeQueueWaiters();
    return 1;
  }
  return 0;
}
