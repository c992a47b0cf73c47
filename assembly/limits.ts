// Every limit of SPEC.md section 9, plus the internal bounds that keep the image safe
// on a microcontroller. Values marked "configurable" are defaults that sxs_limit can change.

/** Longest request text in bytes (configurable: LIMIT_MAX_INPUT). */
export const DEFAULT_MAX_INPUT: i32 = 16 * 1024;
/** Deepest list nesting in text and deepest command nesting in evaluation. */
export const MAX_DEPTH: i32 = 64;
/** Longest key in bytes. */
export const MAX_KEY: i32 = 255;
/** Longest stored value, measured as the length of its canonical form. */
export const MAX_VALUE: i32 = 1024;
/** Event queue capacity (configurable: LIMIT_QUEUE). */
export const DEFAULT_QUEUE: i32 = 1000;
/** Subscriptions the board holds at once. */
export const MAX_SUBS: i32 = 64;
/** Steps a task runs before it yields (configurable: LIMIT_STEP_SLICE). */
export const DEFAULT_STEP_SLICE: i32 = 1000;
/** Steps one task may take in all (configurable: LIMIT_MAX_STEPS). */
export const DEFAULT_MAX_STEPS: i32 = 1000000;
/** Processors by default, and at most. */
export const DEFAULT_PROCESSORS: i32 = 1;
export const MAX_PROCESSORS: i32 = 8;
/** Linear memory ceiling in 64 KiB pages (configurable: LIMIT_MAX_PAGES). */
export const DEFAULT_MAX_PAGES: i32 = 256;

// Internal bounds (not in SPEC.md's table, but each one is a named limit with its own error).

/** Handler tasks alive at once; events wait in the queue while all are busy. */
export const MAX_HANDLER_TASKS: i32 = 64;
/** `await`s listening at once: `core/expr/await: too many waiters`. */
export const MAX_WAITERS: i32 = 32;
/** Host event watches (sxs_watch). */
export const MAX_WATCHES: i32 = 16;
/** Frames on one task's explicit stack: two per level is the most evaluation needs. */
export const MAX_FRAMES: i32 = 2 * MAX_DEPTH + 8;
/** Default `await` timeout in milliseconds. */
export const DEFAULT_AWAIT_TIMEOUT_MS: i32 = 5000;
/**
 * Heap bytes that store writes (set/snx/cas values, subscriptions) leave free, so that a
 * full store still parses and runs requests: `get`, `del` and `iterate` keep working and
 * the user can make room.
 */
export const STORE_RESERVE: i32 = 8192;
/**
 * Heap bytes counted for each handler task, the new one included, when a handler starts
 * while other tasks run: short of that many free, the event waits in the queue for them
 * to finish and give memory back, instead of its handler failing `out of memory`.
 */
export const HANDLER_ROOM: i32 = 2048;
/**
 * Longest text sxs_split cuts into forms (a transcript file). MAX_INPUT limits each
 * request, not the file its forms come from.
 */
export const MAX_SOURCE: i32 = 1 << 20;
/**
 * Buffers kept between requests only to be reused (the staging buffer, each array of the
 * parse scratch, the text a result is printed into) are kept up to this many bytes each;
 * a larger one is given back as soon as its use ends. Store writes count what is kept as
 * in use (STORE_RESERVE is measured beside it), so this bounds how much smaller one large
 * request can leave the store: a few KiB, where a 16 KB request used to take 16 KB.
 */
export const KEEP_IDLE: u32 = 1024;
/** Flash erase unit of the K/V partition (docs/abi.md). */
export const FLASH_SECTOR: u32 = 4096;
