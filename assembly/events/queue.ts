// The event queue of SPEC.md section 6: requests for processors and events on channels
// A-F, bounded by one capacity (QUEUE) shared by all of them.
//
// It is kept as several FIFO rings behind that one count: one for channel events and
// one per processor for its requests. Each consumer sees its entries in publish order,
// exactly as with a single FIFO (requests and channel events never compete for the
// same consumer), and dispatch only ever looks at ring heads: O(1) per entry instead of
// a scan of everything waiting behind a busy processor. Ring storage grows on demand
// (doubling) up to the capacity, so an idle board holds little memory.
//
// Entry (ENTRY bytes): +0 u8 kind  +1 u8 channel  +2 u16 topic  +4 i32 req  +8 u64 payload
//                      +16 u32 seq  +20 i32 proc

import { MAX_PROCESSORS } from "../limits";
import { alloc, free } from "../mem/heap";
import { Value } from "../slp/format";
import { queueCap } from "../sched/config";

export const ENTRY: usize = 24;
export const Q_EVENT: u8 = 1;
export const Q_REQUEST: u8 = 2;

// ring: +0 u32 storage  +4 u32 capacity (entries)  +8 u32 head  +12 u32 count
const RING = 16;
const rings = memory.data((MAX_PROCESSORS + 1) * RING);
const EVENTS: i32 = MAX_PROCESSORS; // ring index of the channel events

let total: u32 = 0;
/**
 * Sequence number of the next entry queued. Dispatch hands out ring heads oldest first,
 * so consumers see one FIFO across kinds; await listens from a sequence number.
 */
export let nextSeq: u32 = 1;

@inline function ring(i: i32): usize { return rings + <usize>(i * RING); }
@inline function rCount(r: usize): u32 { return load<u32>(r, 12); }
@inline function rAt(r: usize, i: u32): usize {
  let cap = load<u32>(r, 4);
  return <usize>load<u32>(r) + <usize>((load<u32>(r, 8) + i) % cap) * ENTRY;
}

export function queueLength(): u32 { return total; }
@inline export function queueFull(): bool { return <i32>total >= queueCap; }

@inline export function qKind(e: usize): u8 { return load<u8>(e); }
@inline export function qChannel(e: usize): i32 { return <i32>load<u8>(e, 1); }
@inline export function qTopic(e: usize): i32 { return <i32>load<u16>(e, 2); }
@inline export function qReq(e: usize): i32 { return load<i32>(e, 4); }
@inline export function qPayload(e: usize): Value { return load<u64>(e, 8); }
@inline export function qSeq(e: usize): u32 { return load<u32>(e, 16); }
@inline export function qProc(e: usize): i32 { return load<i32>(e, 20); }

/** Makes room for one more entry in ring r; false when out of memory. */
@inline function reserve(r: usize): bool {
  let cap = load<u32>(r, 4);
  let n = rCount(r);
  if (n < cap) return true;
  let ncap: u32 = cap ? cap * 2 : 8;
  if (<i32>ncap > queueCap) ncap = <u32>queueCap;
  if (ncap <= n) ncap = n + 1;
  let q = alloc(<usize>ncap * ENTRY);
  if (!q) return false;
  // unwrap into the new storage, head at 0
  for (let i: u32 = 0; i < n; i++) memory.copy(q + <usize>i * ENTRY, rAt(r, i), ENTRY);
  free(load<u32>(r));
  store<u32>(r, <u32>q);
  store<u32>(r, ncap, 4);
  store<u32>(r, 0, 8);
  return true;
}

/** Gives back the storage of empty rings (the heap's reclaimer); true when any had some. */
export function releaseIdleRings(): bool {
  let freed = false;
  for (let i = 0; i <= MAX_PROCESSORS; i++) {
    let r = ring(i);
    if (rCount(r) || !load<u32>(r)) continue;
    free(load<u32>(r));
    store<u32>(r, 0);
    store<u32>(r, 0, 4);
    store<u32>(r, 0, 8);
    freed = true;
  }
  return freed;
}

/** Appends an entry (taking ownership of payload). False when full or out of memory. */
export function queuePush(kind: u8, channel: i32, topic: i32, req: i32, proc: i32, payload: Value): bool {
  if (queueFull()) return false;
  let r = ring(kind == Q_EVENT ? EVENTS : proc);
  if (!reserve(r)) return false;
  let e = rAt(r, rCount(r));
  store<u8>(e, kind);
  store<u8>(e, <u8>channel, 1);
  store<u16>(e, <u16>topic, 2);
  store<i32>(e, req, 4);
  store<u64>(e, payload, 8);
  store<u32>(e, nextSeq++, 16);
  store<i32>(e, proc, 20);
  store<u32>(r, rCount(r) + 1, 12);
  total++;
  return true;
}

/** The oldest channel event, or 0. */
export function eventHead(): usize {
  let r = ring(EVENTS);
  return rCount(r) ? rAt(r, 0) : 0;
}

/** The oldest request for processor p, or 0. */
export function requestHead(p: i32): usize {
  let r = ring(p);
  return rCount(r) ? rAt(r, 0) : 0;
}

function popRing(r: usize): void {
  store<u32>(r, (load<u32>(r, 8) + 1) % load<u32>(r, 4), 8);
  store<u32>(r, rCount(r) - 1, 12);
  total--;
}

/** Drops the oldest channel event (its payload now belongs to the caller). */
export function eventPop(): void { popRing(ring(EVENTS)); }

/** Drops the oldest request of processor p (its payload now belongs to the caller). */
export function requestPop(p: i32): void { popRing(ring(p)); }

/** Removes request `req` of processor p wherever it waits; returns its payload, or 0 when absent. */
export function requestRemove(p: i32, req: i32): Value {
  let r = ring(p);
  let n = rCount(r);
  for (let i: u32 = 0; i < n; i++) {
    let e = rAt(r, i);
    if (qReq(e) != req) continue;
    let payload = qPayload(e);
    for (let j = i; j + 1 < n; j++) memory.copy(rAt(r, j), rAt(r, j + 1), ENTRY);
    store<u32>(r, n - 1, 12);
    total--;
    return payload;
  }
  return 0;
}
