// Explicit evaluation frames. A task's execution state is an array of these in linear
// memory (never the native stack), so a task can stop at any frame boundary and resume
// later, and deep nesting is a counted error, not a trap.
//
// Frame layout (FRAME_SIZE bytes):
//   +0 u8 kind   +1 u8 cmd   +2 u16 pc   +4 u32 level
//   (cmd is also set for the frames that are not calls, 0 for K_SEQ and 13 for K_ONE,
//   so that the evaluator dispatches on that one byte)
//   +8 u64 unit (the call list or body being run)
//   +16 u32 hold (a buffer to release when the frame is popped, or 0)
//   +20 u32 ctx  +24 u32 idx  +28 u32 x
//   +32 u64 a  +40 u64 b  +48 u64 c   (value slots: 0 or a held reference)
//   +56 u32 y  +60 u32 z               (command scratch)

import { Value } from "../slp/format";

export const FRAME_SIZE: usize = 64;

export const K_SEQ: u8 = 1; // runs the forms of a body in order
export const K_CALL: u8 = 2; // a command in progress
export const K_ONE: u8 = 3; // evaluates one object (an EXEC request that is a call list)

@inline export function fKind(f: usize): u8 { return load<u8>(f); }
@inline export function fCmd(f: usize): u8 { return load<u8>(f, 1); }
@inline export function fPc(f: usize): i32 { return <i32>load<u16>(f, 2); }
@inline export function setPc(f: usize, pc: i32): void { store<u16>(f, <u16>pc, 2); }
@inline export function fLevel(f: usize): i32 { return load<i32>(f, 4); }
@inline export function fUnit(f: usize): Value { return load<u64>(f, 8); }
@inline export function fHold(f: usize): usize { return load<u32>(f, 16); }
@inline export function setHold(f: usize, b: usize): void { store<u32>(f, <u32>b, 16); }
@inline export function fCtx(f: usize): usize { return load<u32>(f, 20); }
@inline export function fIdx(f: usize): u32 { return load<u32>(f, 24); }
@inline export function setIdx(f: usize, i: u32): void { store<u32>(f, i, 24); }
@inline export function fX(f: usize): u32 { return load<u32>(f, 28); }
@inline export function setX(f: usize, x: u32): void { store<u32>(f, x, 28); }
@inline export function fA(f: usize): Value { return load<u64>(f, 32); }
@inline export function setA(f: usize, v: Value): void { store<u64>(f, v, 32); }
@inline export function fB(f: usize): Value { return load<u64>(f, 40); }
@inline export function setB(f: usize, v: Value): void { store<u64>(f, v, 40); }
@inline export function fC(f: usize): Value { return load<u64>(f, 48); }
@inline export function setC(f: usize, v: Value): void { store<u64>(f, v, 48); }
@inline export function fY(f: usize): u32 { return load<u32>(f, 56); }
@inline export function setY(f: usize, y: u32): void { store<u32>(f, y, 56); }
@inline export function fZ(f: usize): u32 { return load<u32>(f, 60); }
@inline export function setZ(f: usize, z: u32): void { store<u32>(f, z, 60); }

/** Initialises a frame in place. */
@inline export function frameInit(f: usize, kind: u8, cmd: u8, level: i32, unit: Value, ctx: usize): void {
  memory.fill(f, 0, FRAME_SIZE);
  store<u8>(f, kind);
  store<u8>(f, cmd, 1);
  store<i32>(f, level, 4);
  store<u64>(f, unit, 8);
  store<u32>(f, <u32>ctx, 20);
}
