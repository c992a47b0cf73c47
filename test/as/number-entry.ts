// Test entry for assembly/slp/number.ts: wrappers over a static scratch buffer.
import {
  parseReal as pr,
  parseInteger as pi,
  formatReal as fr,
  numStatus,
} from "../../assembly/slp/number";

const BUF: usize = memory.data(4096, 16);

export function buf(): usize {
  return BUF;
}
export function parseReal(len: i32): f64 {
  return pr(BUF, len);
}
export function parseInteger(len: i32): i64 {
  return pi(BUF, len);
}
export function status(): i32 {
  return numStatus;
}
export function formatReal(x: f64): i32 {
  return fr(x, BUF);
}
