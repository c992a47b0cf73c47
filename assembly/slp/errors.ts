// Values that exist for the whole life of the image: made once at init, never freed.
import { Value, staticSymbol, staticError } from "./format";

export let TRUE: Value = 0;
export let FALSE: Value = 0;
export let NIL: Value = 0;
export let OOM: Value = 0;
/** $CHANNEL_EXEC, $CHANNEL_A..F as symbols, by channel number 0..6. */
const channelSymbols = memory.data(7 * 8);

/** The symbol of channel n (0 = EXEC, 1..6 = A..F). */
@inline export function channelSymbol(n: i32): Value {
  return load<u64>(channelSymbols + (<usize>n << 3));
}

export function initConstants(): bool {
  TRUE = staticSymbol("true");
  FALSE = staticSymbol("false");
  NIL = staticSymbol("nil");
  OOM = staticError("out of memory");
  store<u64>(channelSymbols + 0, staticSymbol("EXEC"));
  store<u64>(channelSymbols + 8, staticSymbol("A"));
  store<u64>(channelSymbols + 16, staticSymbol("B"));
  store<u64>(channelSymbols + 24, staticSymbol("C"));
  store<u64>(channelSymbols + 32, staticSymbol("D"));
  store<u64>(channelSymbols + 40, staticSymbol("E"));
  store<u64>(channelSymbols + 48, staticSymbol("F"));
  return TRUE != 0 && FALSE != 0 && NIL != 0 && OOM != 0 && channelSymbol(6) != 0;
}

/** The out-of-memory error (immortal: no allocation needed to report it). */
export function oomError(): Value {
  return OOM;
}

@inline export function boolValue(b: bool): Value {
  return b ? TRUE : FALSE;
}
