// The serial link (docs/link.md): framing, messages, reliability, the emulator.
export * from "./crc32.js";
export * from "./cobs.js";
export * from "./frame.js";
export * from "./deframer.js";
export * from "./messages.js";
export * from "./fragment.js";
export * from "./image-header.js";
export * from "./window.js";
export * from "./endpoint.js";
export * from "./driver.js";
export * from "./emulator.js";
export * from "./prng.js";
