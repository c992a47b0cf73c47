// The image's entry points: exactly the exports of docs/abi.md. Everything else in
// assembly/ is reached through these, and the image reaches the world only through
// host.ts.

import * as M from "./gen/messages";
import { heapInit, heapSetReclaimer, heapUsed, heapReserved, heapLargestFree, alloc, free } from "./mem/heap";
import { textNew, textPtr, textLen, textFree, textMsg } from "./mem/text";
import { MAX_PROCESSORS, MAX_SOURCE, KEEP_IDLE } from "./limits";
import { initConstants } from "./slp/errors";
import { split, splitError, releaseIdleScratch } from "./slp/parse";
import { printValue } from "./slp/print";
import { release, retain, bufAlloc, releaseBuf, mkv, HEADER, T_BODY, T_STRING } from "./slp/format";
import { parse } from "./slp/parse";
import { validBuffer } from "./slp/validate";
import { releaseIdleMeasure } from "./eval/args";
import { kvCount, kvGet } from "./kv/store";
import { logBoot } from "./kv/log";
import { queuePush, Q_REQUEST, releaseIdleRings } from "./events/queue";
import { subCount } from "./events/subs";
import { queueLength } from "./events/queue";
import {
  LIMIT_PROCESSORS, LIMIT_QUEUE, LIMIT_MAX_INPUT, LIMIT_MAX_PAGES, LIMIT_MAX_STEPS,
  LIMIT_STEP_SLICE, LIMIT_SAFE_MODE, setProcessors, setQueueCap, setMaxInput, setMaxPages,
  setMaxSteps, setStepSlice, setSafeMode, safeMode, maxInput, maxPages, totalSteps,
} from "./sched/config";
import {
  schedInit, submit, run, interrupt, nextTimer, setWatch, liveTaskCount, hasWork, releaseIdleOut,
} from "./sched/scheduler";

const ABI_VERSION = 2;

let initialised = false;
let staging: usize = 0;
let stagingCap: usize = 0;
let stagingFor: i32 = -1; // the length sxs_input was last asked for
let stagingShort: i32 = -1; // the length sxs_input last found no memory for

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
  } else if (id == LIMIT_SAFE_MODE) {
    if (value != 0 && value != 1) return -1;
    setSafeMode(value == 1);
  } else return -1;
  return 0;
}

/**
 * The heap's reclaimer: when an allocation finds no block, the caches kept between uses
 * (parse scratch, print and measuring texts, the staging buffer, empty queue rings) are
 * given back, so that what they hold never counts against a full store's reserve.
 */
function reclaimIdle(): bool {
  let freed = releaseIdleScratch();
  if (releaseIdleOut()) freed = true;
  if (releaseIdleMeasure()) freed = true;
  if (releaseIdleRings()) freed = true;
  if (staging && stagingFor < 0) {
    free(staging);
    staging = 0;
    stagingCap = 0;
    freed = true;
  }
  return freed;
}

export function sxs_init(): i32 {
  if (initialised) return 0;
  heapInit(maxPages);
  heapSetReclaimer(reclaimIdle);
  if (!initConstants() || !schedInit()) return -1;
  // the store comes back from the K/V log, then `boot` runs (unless in safe mode)
  if (!logBoot()) return -2;
  initialised = true;
  if (!safeMode) autorun();
  return 0;
}

/** Queues the `boot` key's body or string as a request on processor 0 (SPEC.md section 7). */
function autorun(): void {
  let k = memory.data<u8>([98, 111, 111, 116]); // "boot"
  let v = kvGet(k, 4);
  if (!v) return;
  let tag = load<u8>(<usize>(v >>> 32) + <usize><u32>v);
  if (tag != T_BODY && tag != T_STRING) return;
  if (!queuePush(Q_REQUEST, 0, 0, 0, 0, retain(v))) release(v);
}

export function sxs_input(len: i32): usize {
  // nothing counts as staged until this call succeeds
  stagingFor = -1;
  stagingShort = -1;
  if (!initialised) return 0;
  // requests are limited by MAX_INPUT (checked again by sxs_submit), split sources by MAX_SOURCE
  if (len < 0 || len > (maxInput > MAX_SOURCE ? maxInput : MAX_SOURCE)) return 0;
  let need: usize = len > 0 ? <usize>len : 1;
  if (need > stagingCap) {
    // nothing to keep: the old buffer goes first (and is not the reclaimer's to free)
    free(staging);
    staging = 0;
    stagingCap = 0;
    let p = alloc(need);
    if (!p) {
      stagingShort = len;
      return 0;
    }
    staging = p;
    stagingCap = need;
  }
  stagingFor = len;
  return staging;
}

/** True when exactly `len` bytes were staged by the last sxs_input. */
function staged(len: i32): bool {
  return len >= 0 && len == stagingFor && staging != 0 && <usize>len <= stagingCap;
}

/** Gives back a large staging buffer once a request has been taken in; the text is consumed either way. */
function shrinkStaging(): void {
  stagingFor = -1;
  if (stagingCap > <usize>KEEP_IDLE) {
    free(staging);
    staging = 0;
    stagingCap = 0;
  }
}

export function sxs_submit(req: i32, proc: i32, len: i32): i32 {
  if (!initialised) return -3;
  if (req <= 0) return -4;
  // A request too large to stage is never read: parse() answers `input too large`
  // from its length alone.
  if (len > maxInput) {
    let r = submit(req, proc, 0, len);
    if (r != -1) shrinkStaging();
    return r;
  }
  if (!staged(len)) {
    // no memory to stage the text: come back after running if that can free some
    if (len == stagingShort) return hasWork() ? -1 : -3;
    return -4;
  }
  let r = submit(req, proc, staging, len);
  // on -1 the text stays staged: the host may call sxs_submit again after sxs_run
  if (r != -1) shrinkStaging();
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
  let limit = maxInput > MAX_SOURCE ? maxInput : MAX_SOURCE;
  if (len <= limit && !staged(len)) return 0;
  let block = split(staging, len, limit);
  shrinkStaging();
  if (block) return block;
  let e = splitError;
  if (!e) return 0;
  let t = textNew(48);
  t = printValue(t, e, -1);
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

/** A result block for text: i32 len then the bytes; a negative len marks an error text. */
function block(t: usize, error: bool): usize {
  let out = alloc(8 + <usize>textLen(t));
  if (!out) return 0;
  store<i32>(out, error ? -1 : 1);
  store<u32>(out, textLen(t), 4);
  memory.copy(out + 8, textPtr(t), textLen(t));
  return out;
}

/**
 * The SLP buffer of the staged text (its root: a BODY of the top-level forms), for
 * tools and test vectors: i32 1, u32 len, the buffer bytes; or i32 -1, u32 len, the
 * printed parse error. 0 when out of memory.
 */
export function sxs_encode(len: i32): usize {
  if (!initialised) return 0;
  if (len <= maxInput && !staged(len)) return 0;
  let v = parse(staging, len, maxInput);
  let t = textNew(64);
  let out: usize = 0;
  if (load<u8>(<usize>(v >>> 32) + <usize><u32>v) == 0x0a) {
    t = printValue(t, v, -1);
    if (t) out = block(t, true);
  } else {
    let buf = <usize>(v >>> 32);
    let n = load<u32>(buf, 4);
    out = alloc(8 + <usize>n);
    if (out) {
      store<i32>(out, 1);
      store<u32>(out, n, 4);
      memory.copy(out + 8, buf, n);
    }
  }
  release(v);
  if (t) textFree(t);
  shrinkStaging();
  return out;
}

/**
 * Checks the staged bytes as an SLP buffer and prints its root: i32 1, u32 len, the
 * canonical form; or i32 -1, u32 len, `invalid buffer`. 0 when out of memory.
 */
export function sxs_decode(len: i32): usize {
  if (!initialised || !staged(len)) return 0;
  let t = textNew(64);
  let out: usize = 0;
  if (!validBuffer(staging, <u32>len)) {
    t = textMsg(t, M.INVALID_BUFFER);
    if (t) out = block(t, true);
  } else {
    let buf = bufAlloc(<u32>len);
    if (buf) {
      memory.copy(buf, staging, len);
      t = printValue(t, mkv(buf, HEADER), -1);
      if (t) out = block(t, false);
      releaseBuf(buf);
    }
  }
  if (t) textFree(t);
  shrinkStaging();
  return out;
}
