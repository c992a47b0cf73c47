// The image's entry points: exactly the exports of docs/abi.md. Everything else in
// assembly/ is reached through these, and the image reaches the world only through
// host.ts.

import { heapInit, heapUsed, heapReserved, heapLargestFree, alloc, free, realloc } from "./mem/heap";
import { textNew, textPtr, textLen, textFree } from "./mem/text";
import { MAX_PROCESSORS } from "./limits";
import { initConstants } from "./slp/errors";
import { split, splitError } from "./slp/parse";
import { printValue } from "./slp/print";
import { release } from "./slp/format";
import { kvCount } from "./kv/store";
import { subCount } from "./events/subs";
import { queueLength } from "./events/queue";
import {
  LIMIT_PROCESSORS, LIMIT_QUEUE, LIMIT_MAX_INPUT, LIMIT_MAX_PAGES, LIMIT_MAX_STEPS,
  LIMIT_STEP_SLICE, setProcessors, setQueueCap, setMaxInput, setMaxPages, setMaxSteps,
  setStepSlice, maxInput, maxPages, totalSteps,
} from "./sched/config";
import {
  schedInit, submit, run, interrupt, nextTimer, setWatch, liveTaskCount,
} from "./sched/scheduler";

const ABI_VERSION = 1;

let initialised = false;
let staging: usize = 0;
let stagingCap: usize = 0;
let stagingFor: i32 = -1; // the length sxs_input was last asked for

export function sxs_abi_version(): i32 {
  return ABI_VERSION;
}

export function sxs_limit(id: i32, value: i32): i32 {
  if (initialised) return -2;
  if (id == LIMIT_PROCESSORS) {
    if (value < 1 || value > MAX_PROCESSORS) return -1;
    setProcessors(value);
  } else if (id == LIMIT_QUEUE) {
    if (value < 1 || value > 65535) return -1;
    setQueueCap(value);
  } else if (id == LIMIT_MAX_INPUT) {
    if (value < 64 || value > 0x40000000) return -1;
    setMaxInput(value);
  } else if (id == LIMIT_MAX_PAGES) {
    if (value < 1 || value > 65536) return -1;
    setMaxPages(value);
  } else if (id == LIMIT_MAX_STEPS) {
    if (value < 1) return -1;
    setMaxSteps(value);
  } else if (id == LIMIT_STEP_SLICE) {
    if (value < 1) return -1;
    setStepSlice(value);
  } else return -1;
  return 0;
}

export function sxs_init(): i32 {
  if (initialised) return 0;
  heapInit(maxPages);
  if (!initConstants() || !schedInit()) return -1;
  initialised = true;
  return 0;
}

export function sxs_input(len: i32): usize {
  stagingFor = len;
  if (!initialised) return 0;
  if (len < 0 || len > maxInput) return 0;
  let need: usize = len > 0 ? <usize>len : 1;
  if (need > stagingCap) {
    let p = realloc(staging, need, 0);
    if (!p) return 0;
    staging = p;
    stagingCap = need;
  }
  return staging;
}

/** Gives back a large staging buffer once a request has been taken in. */
function shrinkStaging(): void {
  if (stagingCap > 65536) {
    free(staging);
    staging = 0;
    stagingCap = 0;
  }
}

export function sxs_submit(req: i32, proc: i32, len: i32): i32 {
  if (!initialised || req <= 0) return -3;
  // A request too large to stage is never read: parse() answers `input too large`
  // from its length alone.
  if (len > maxInput) return submit(req, proc, 0, len);
  if (len < 0 || len != stagingFor || !staging) return -3;
  let r = submit(req, proc, staging, len);
  shrinkStaging();
  return r;
}

export function sxs_run(budget: i32): i32 {
  return run(budget);
}

export function sxs_next_timer(): f64 {
  return nextTimer();
}

export function sxs_interrupt(req: i32): i32 {
  return interrupt(req);
}

export function sxs_watch(channel: i32, topic: i32, on: i32): i32 {
  if (channel < 1 || channel > 6 || topic < -1 || topic > 65535) return -1;
  return setWatch(channel, topic, on != 0);
}

export function sxs_split(len: i32): usize {
  if (!initialised) return 0;
  if (len <= maxInput && (len < 0 || len != stagingFor || !staging)) return 0;
  let block = split(staging, len, maxInput);
  shrinkStaging();
  if (block) return block;
  let e = splitError;
  if (!e) return 0;
  let t = textNew(48);
  t = printValue(t, e);
  release(e);
  if (!t) return 0;
  let out = alloc(8 + <usize>textLen(t));
  if (out) {
    store<i32>(out, -1);
    store<u32>(out, textLen(t), 4);
    memory.copy(out + 8, textPtr(t), textLen(t));
  }
  textFree(t);
  return out;
}

export function sxs_free(ptr: usize): void {
  free(ptr);
}

export function sxs_stat(id: i32): f64 {
  switch (id) {
    case 1: return <f64>heapUsed();
    case 2: return <f64>heapReserved();
    case 3: return <f64>(<usize>memory.size() << 16);
    case 4: return <f64>kvCount();
    case 5: return <f64>subCount();
    case 6: return <f64>queueLength();
    case 7: return <f64>liveTaskCount();
    case 8: return <f64>totalSteps;
    case 9: return <f64>heapLargestFree();
    default: return -1;
  }
}
