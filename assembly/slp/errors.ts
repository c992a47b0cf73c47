// Values that exist for the whole life of the image: made once at init, never freed.
import * as M from "../gen/messages";
import { msgPtr, msgLen } from "../gen/messages";
import { Value, staticSymbol, staticError } from "./format";

export let TRUE: Value = 0;
export let FALSE: Value = 0;
export let NIL: Value = 0;
export let OOM: Value = 0;
/** $CHANNEL_EXEC, $CHANNEL_A..F as symbols, by channel number 0..6. */
const channelSymbols = memory.data(7 * 8);
const LETTERS = memory.data<u8>([65, 66, 67, 68, 69, 70]); // A..F

/** The symbol of channel n (0 = EXEC, 1..6 = A..F). */
@inline export function channelSymbol(n: i32): Value {
  return load<u64>(<usize>n << 3, channelSymbols);
}

export function initConstants(): bool {
  TRUE = staticSymbol(msgPtr(M.TRUE), msgLen(M.TRUE));
  FALSE = staticSymbol(msgPtr(M.FALSE), msgLen(M.FALSE));
  NIL = staticSymbol(msgPtr(M.NIL), msgLen(M.NIL));
  OOM = staticError(msgPtr(M.OUT_OF_MEMORY), msgLen(M.OUT_OF_MEMORY));
  store<u64>(channelSymbols + 0, staticSymbol(msgPtr(M.EXEC), msgLen(M.EXEC)));
  store<u64>(channelSymbols + 8, staticSymbol(LETTERS + 0, 1));
  store<u64>(channelSymbols + 16, staticSymbol(LETTERS + 1, 1));
  store<u64>(channelSymbols + 24, staticSymbol(LETTERS + 2, 1));
  store<u64>(channelSymbols + 32, staticSymbol(LETTERS + 3, 1));
  store<u64>(channelSymbols + 40, staticSymbol(LETTERS + 4, 1));
  store<u64>(channelSymbols + 48, staticSymbol(LETTERS + 5, 1));
  return TRUE != 0 && FALSE != 0 && NIL != 0 && OOM != 0 && channelSymbol(6) != 0;
}

/** The out-of-memory error (immortal: no allocation needed to report it). */
export function oomError(): Value {
  return OOM;
}

@inline export function boolValue(b: bool): Value {
  return b ? TRUE : FALSE;
}
