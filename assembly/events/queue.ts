// The one FIFO event queue of SPEC.md section 6: requests for processors and events on
// channels A-F, bounded by the configured capacity. Storage grows on demand (doubling)
// up to that capacity, so an idle board does not hold a full queue's worth of memory.
//
// Entry (ENTRY bytes): +0 u8 kind  +1 u8 channel  +2 u16 topic  +4 i32 req  +8 u64 payload
//                      +16 u32 seq  +20 i32 proc

import { realloc } from "../mem/heap";
import { Value } from "../slp/format";
import { queueCap } from "../sched/config";

export const ENTRY: usize = 24;
export const Q_EVENT: u8 = 1;
export const Q_REQUEST: u8 = 2;

let entries: usize = 0;
let qcount: u32 = 0;
let qcap: u32 = 0;
/** Sequence number of the next event published (await listens from a sequence number). */
export let nextSeq: u32 = 1;

export function queueLength(): u32 { return qcount; }
export function queueFull(): bool { return <i32>qcount >= queueCap; }

@inline export function qEntry(i: u32): usize { return entries + <usize>i * ENTRY; }
@inline export function qKind(e: usize): u8 { return load<u8>(e); }
@inline export function qChannel(e: usize): i32 { return <i32>load<u8>(e, 1); }
@inline export function qTopic(e: usize): i32 { return <i32>load<u16>(e, 2); }
@inline export function qReq(e: usize): i32 { return load<i32>(e, 4); }
@inline export function qPayload(e: usize): Value { return load<u64>(e, 8); }
@inline export function qSeq(e: usize): u32 { return load<u32>(e, 16); }
@inline export function qProc(e: usize): i32 { return load<i32>(e, 20); }

/** Appends an entry (taking ownership of payload). False when full or out of memory. */
export function queuePush(kind: u8, channel: i32, topic: i32, req: i32, proc: i32, payload: Value): bool {
  if (queueFull()) return false;
  if (qcount == qcap) {
    let ncap: u32 = qcap ? qcap * 2 : 16;
    if (<i32>ncap > queueCap) ncap = <u32>queueCap;
    let q = realloc(entries, <usize>ncap * ENTRY, <usize>qcount * ENTRY);
    if (!q) return false;
    entries = q;
    qcap = ncap;
  }
  let e = qEntry(qcount++);
  store<u8>(e, kind);
  store<u8>(e, <u8>channel, 1);
  store<u16>(e, <u16>topic, 2);
  store<i32>(e, req, 4);
  store<u64>(e, payload, 8);
  store<u32>(e, kind == Q_EVENT ? nextSeq++ : 0, 16);
  store<i32>(e, proc, 20);
  return true;
}

/**
 * Keeps only the entries for which keep[i] (a byte per entry, from a dispatch pass) is
 * non-zero, preserving order. O(n).
 */
export function queueCompact(keep: usize): void {
  let w: u32 = 0;
  for (let i: u32 = 0; i < qcount; i++) {
    if (!load<u8>(keep + i)) continue;
    if (w != i) memory.copy(qEntry(w), qEntry(i), ENTRY);
    w++;
  }
  qcount = w;
}
