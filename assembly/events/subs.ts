// Subscriptions (core/event/sub) and waiting awaits: the consumers an event is handed to
// when it leaves the queue, in the order they started listening (SPEC.md section 5).
// Both tables are fixed-size: MAX_SUBS subscriptions, MAX_WAITERS awaits.

import { MAX_SUBS, MAX_WAITERS } from "../limits";
import { Value, release } from "../slp/format";

// Registration order shared by subscriptions and waiters.
let regSeq: u32 = 1;

// subscription: +0 u8 channel +2 u16 topic +4 u32 order +8 u32 body buffer (root BODY)
const SUB = 12;
const subs = memory.data(MAX_SUBS * SUB);
let nsubs: i32 = 0;

export function subCount(): i32 { return nsubs; }
@inline export function subAt(i: i32): usize { return subs + <usize>(i * SUB); }
@inline export function subChannel(s: usize): i32 { return <i32>load<u8>(s); }
@inline export function subTopic(s: usize): i32 { return <i32>load<u16>(s, 2); }
@inline export function subOrder(s: usize): u32 { return load<u32>(s, 4); }
@inline export function subBody(s: usize): usize { return load<u32>(s, 8); }

/** Registers a subscription (taking the body buffer's reference); false when the table is full. */
export function subAdd(channel: i32, topic: i32, bodyBuf: usize): bool {
  if (nsubs >= MAX_SUBS) return false;
  let s = subAt(nsubs++);
  store<u8>(s, <u8>channel);
  store<u16>(s, <u16>topic, 2);
  store<u32>(s, regSeq++, 4);
  store<u32>(s, <u32>bodyBuf, 8);
  return true;
}

// waiter: +0 u32 active +4 u8 channel +6 u16 topic +8 u32 fromSeq +12 u32 order
//         +16 u32 task +20 u32 blocked +24 u64 got +32 f64 deadline
const WAITER = 40;
const waiters = memory.data(MAX_WAITERS * WAITER);

@inline export function waiterAt(i: i32): usize { return waiters + <usize>(i * WAITER); }
@inline export function wActive(w: usize): bool { return load<u32>(w) != 0; }
@inline export function wChannel(w: usize): i32 { return <i32>load<u8>(w, 4); }
@inline export function wTopic(w: usize): i32 { return <i32>load<u16>(w, 6); }
@inline export function wFromSeq(w: usize): u32 { return load<u32>(w, 8); }
@inline export function wOrder(w: usize): u32 { return load<u32>(w, 12); }
@inline export function wTask(w: usize): usize { return load<u32>(w, 16); }
@inline export function wBlocked(w: usize): bool { return load<u32>(w, 20) != 0; }
@inline export function setBlocked(w: usize, b: bool): void { store<u32>(w, b ? 1 : 0, 20); }
@inline export function wGot(w: usize): Value { return load<u64>(w, 24); }
@inline export function setGot(w: usize, v: Value): void { store<u64>(w, v, 24); }
@inline export function wDeadline(w: usize): f64 { return load<f64>(w, 32); }
@inline export function setDeadline(w: usize, d: f64): void { store<f64>(w, d, 32); }

/** Starts listening; returns the waiter index, or -1 when MAX_WAITERS are in use. */
let activeWaiters: i32 = 0;

/** Awaits listening now. */
export function waitersActive(): i32 { return activeWaiters; }

export function waiterAdd(channel: i32, topic: i32, fromSeq: u32, task: usize): i32 {
  for (let i = 0; i < MAX_WAITERS; i++) {
    let w = waiterAt(i);
    if (wActive(w)) continue;
    store<u32>(w, 1);
    activeWaiters++;
    store<u8>(w, <u8>channel, 4);
    store<u16>(w, <u16>topic, 6);
    store<u32>(w, fromSeq, 8);
    store<u32>(w, regSeq++, 12);
    store<u32>(w, <u32>task, 16);
    store<u32>(w, 0, 20);
    store<u64>(w, 0, 24);
    store<f64>(w, -1, 32);
    return i;
  }
  return -1;
}

/** Stops listening and releases anything received. */
export function waiterRemove(i: i32): void {
  let w = waiterAt(i);
  if (!wActive(w)) return;
  release(wGot(w));
  activeWaiters--;
  store<u32>(w, 0);
  store<u64>(w, 0, 24);
}

