// The only way out of the image: the four imports of docs/abi.md.

/** Request `req` finished; the bytes are the canonical print of its value. */
@external("env", "host_result")
export declare function hostResult(req: i32, ptr: usize, len: i32): void;

/** One log line, without its newline. */
@external("env", "host_log")
export declare function hostLog(ptr: usize, len: i32): void;

/** A watched event left the queue; the bytes print its payload. */
@external("env", "host_event")
export declare function hostEvent(channel: i32, topic: i32, ptr: usize, len: i32): void;

/** Monotonic milliseconds (virtual in transcripts). */
@external("env", "host_now")
export declare function hostNow(): f64;
