// The only way out of the image: the imports of docs/abi.md.

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

/** Bytes in the K/V flash partition (a multiple of 4 KiB), or 0 when there is none. */
@external("env", "host_flash_size")
export declare function hostFlashSize(): i32;

/** Reads len bytes at offset off of the K/V partition into ptr; 0 ok. */
@external("env", "host_flash_read")
export declare function hostFlashRead(off: u32, ptr: usize, len: u32): i32;

/** Writes (clears bits only, NOR) len bytes at off; 0 ok, and durable once it returns. */
@external("env", "host_flash_write")
export declare function hostFlashWrite(off: u32, ptr: usize, len: u32): i32;

/** Erases whole 4 KiB sectors [off, off+len) to 0xFF; 0 ok. */
@external("env", "host_flash_erase")
export declare function hostFlashErase(off: u32, len: u32): i32;
