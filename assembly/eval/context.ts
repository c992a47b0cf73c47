// Evaluation contexts: where $result, $key, $data, $channel and $topic live
// (SPEC.md section 4). A context sees its parent's variables unless it has its own.
//   [u32 parent][u32 -][u64 result][u64 key][u64 data][u64 channel][u64 topic]
// A 0 slot means "not set here: ask the parent".

import { alloc, free } from "../mem/heap";
import { Value, release } from "../slp/format";

export const CTX_SIZE: usize = 48;
export const V_RESULT: i32 = 8;
export const V_KEY: i32 = 16;
export const V_DATA: i32 = 24;
export const V_CHANNEL: i32 = 32;
export const V_TOPIC: i32 = 40;

/** A new empty context under `parent` (0 for a root); 0 when out of memory. */
export function ctxNew(parent: usize): usize {
  let c = alloc(CTX_SIZE);
  if (!c) return 0;
  memory.fill(c, 0, CTX_SIZE);
  store<u32>(c, <u32>parent);
  return c;
}

/** Releases the values a context holds and frees it. */
export function ctxFree(c: usize): void {
  if (!c) return;
  for (let o: usize = 8; o < CTX_SIZE; o += 8) release(load<u64>(c + o));
  free(c);
}

/** Sets slot `which` to v (takes ownership of v's reference). */
export function ctxSet(c: usize, which: i32, v: Value): void {
  let slot = c + <usize>which;
  let old = load<u64>(slot);
  store<u64>(slot, v);
  release(old);
}

/** The nearest value of slot `which` up the chain (not retained), or 0. */
export function ctxLookup(c: usize, which: i32): Value {
  while (c) {
    let v = load<u64>(c + <usize>which);
    if (v) return v;
    c = load<u32>(c);
  }
  return 0;
}
