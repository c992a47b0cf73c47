// Tasks: a request running on a processor, or a handler running for one event.
// Each task owns an explicit frame stack (eval/frame.ts) that grows on demand up to
// MAX_FRAMES.
//
//   +0 u32 state  +4 i32 kind  +8 i32 req  +12 i32 proc
//   +16 u32 frames  +20 u32 nframes  +24 u32 capframes  +28 u32 steps
//   +32 u64 ret  +40 u32 ctx  +44 u32 next (run queue)
//   +48 i32 channel  +52 i32 topic  +56 u32 interrupted  +60 -
//   +64 u32 ownsCtx  +68 u32 order (when it began waiting for queue room)
//   +72 i32 registry slot (scheduler.ts)

import { alloc, free, realloc } from "../mem/heap";
import { MAX_FRAMES } from "../limits";
import { Value } from "../slp/format";
import { FRAME_SIZE } from "../eval/frame";

export const TASK_SIZE: usize = 80;

export const S_RUNNABLE: u32 = 1;
export const S_AWAIT: u32 = 2; // blocked in core/expr/await
export const S_QUEUE: u32 = 3; // blocked publishing on a full queue
export const S_DONE: u32 = 4;

export const TK_REQUEST: i32 = 1; // from the host: its result goes back
export const TK_EXEC: i32 = 2; // published on EXEC: result dropped, error logged
export const TK_HANDLER: i32 = 3; // a sub body running for one event

@inline export function tState(t: usize): u32 { return load<u32>(t); }
@inline export function setState(t: usize, s: u32): void { store<u32>(t, s); }
@inline export function tKind(t: usize): i32 { return load<i32>(t, 4); }
@inline export function tReq(t: usize): i32 { return load<i32>(t, 8); }
@inline export function tProc(t: usize): i32 { return load<i32>(t, 12); }
@inline export function tFrames(t: usize): usize { return load<u32>(t, 16); }
@inline export function tNFrames(t: usize): u32 { return load<u32>(t, 20); }
@inline export function setNFrames(t: usize, n: u32): void { store<u32>(t, n, 20); }
@inline export function tSteps(t: usize): u32 { return load<u32>(t, 28); }
@inline export function setSteps(t: usize, n: u32): void { store<u32>(t, n, 28); }
@inline export function tRet(t: usize): Value { return load<u64>(t, 32); }
@inline export function setRet(t: usize, v: Value): void { store<u64>(t, v, 32); }
@inline export function tCtx(t: usize): usize { return load<u32>(t, 40); }
@inline export function tNext(t: usize): usize { return load<u32>(t, 44); }
@inline export function setNext(t: usize, n: usize): void { store<u32>(t, <u32>n, 44); }
@inline export function tChannel(t: usize): i32 { return load<i32>(t, 48); }
@inline export function tTopic(t: usize): i32 { return load<i32>(t, 52); }
@inline export function tInterrupted(t: usize): bool { return load<u32>(t, 56) != 0; }
@inline export function setInterrupted(t: usize): void { store<u32>(t, 1, 56); }
@inline export function tOrder(t: usize): u32 { return load<u32>(t, 68); }
@inline export function setOrder(t: usize, n: u32): void { store<u32>(t, n, 68); }

@inline export function registrySlot(t: usize): i32 { return load<i32>(t, 72); }
@inline export function setRegistrySlot(t: usize, i: i32): void { store<i32>(t, i, 72); }

// Finished tasks are kept (with their frame arrays) for reuse: a request costs no
// allocation for its task. At most POOL of them, so the pool stays small.
const POOL = 8;
const pool = memory.data(POOL * 4);
let pooled: i32 = 0;

/** A new task (no frames yet); 0 when out of memory. */
export function taskNew(kind: i32, req: i32, proc: i32, ctx: usize, ownsCtx: bool): usize {
  let t: usize = 0;
  let frames: usize = 0;
  let cap: u32 = 0;
  if (pooled > 0) {
    pooled--;
    t = load<u32>(<usize>pooled << 2, pool);
    frames = tFrames(t);
    cap = load<u32>(t, 24);
  } else {
    t = alloc(TASK_SIZE);
    if (!t) return 0;
  }
  memory.fill(t, 0, TASK_SIZE);
  store<u32>(t, <u32>frames, 16);
  store<u32>(t, cap, 24);
  store<u32>(t, S_RUNNABLE);
  store<i32>(t, kind, 4);
  store<i32>(t, req, 8);
  store<i32>(t, proc, 12);
  store<u32>(t, <u32>ctx, 40);
  store<u32>(t, ownsCtx ? 1 : 0, 64);
  return t;
}

export function taskOwnsCtx(t: usize): bool {
  return load<u32>(t, 64) != 0;
}

export function setHandlerInfo(t: usize, channel: i32, topic: i32): void {
  store<i32>(t, channel, 48);
  store<i32>(t, topic, 52);
}

/** Address of frame i. */
@inline export function frameAt(t: usize, i: u32): usize {
  return tFrames(t) + <usize>i * FRAME_SIZE;
}

/** The top frame. */
@inline export function topFrame(t: usize): usize {
  return frameAt(t, tNFrames(t) - 1);
}

/** Room for one more frame; returns its address (not initialised), or 0 when the stack is at MAX_FRAMES or memory is out. */
export function pushFrameSlot(t: usize): usize {
  let n = tNFrames(t);
  let cap = load<u32>(t, 24);
  if (n == cap) {
    if (<i32>cap >= MAX_FRAMES) return 0;
    let ncap: u32 = cap ? cap * 2 : 8;
    if (<i32>ncap > MAX_FRAMES) ncap = <u32>MAX_FRAMES;
    let q = realloc(tFrames(t), <usize>ncap * FRAME_SIZE, <usize>n * FRAME_SIZE);
    if (!q) return 0;
    store<u32>(t, <u32>q, 16);
    store<u32>(t, ncap, 24);
  }
  setNFrames(t, n + 1);
  return frameAt(t, n);
}

export function taskFreeMemory(t: usize): void {
  // keep small tasks for reuse; a task whose stack grew deep gives its frames back
  if (pooled < POOL && load<u32>(t, 24) <= 8) {
    store<u32>(<usize>pooled << 2, <u32>t, pool);
    pooled++;
    return;
  }
  free(tFrames(t));
  free(t);
}
