// The host library for a board at the other end of a serial line (docs/link.md).
export * from "./errors.js";
export * from "./transport.js";
export * from "./board-client.js";
export * from "./target.js";
export * from "./ports.js";
export * from "./image-file.js";
export * from "./transcript.js";
