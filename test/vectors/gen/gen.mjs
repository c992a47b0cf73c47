#!/usr/bin/env node
// Generates the link test vectors in test/vectors/*.json from the byte layouts in
// docs/link.md. Deliberately independent of host/link: CRC-32 comes from node:zlib,
// COBS and every layout are written out again here, so the TypeScript codec and this
// script are two implementations that must agree (test/link/vectors.test.ts), and the
// C firmware is held to the same files.
//
//   node test/vectors/gen/gen.mjs          write the files
//   node test/vectors/gen/gen.mjs --check  exit 1 if the files differ from what it would write

import { crc32 as zcrc32 } from "node:zlib";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..");
const hex = (b) => Buffer.from(b).toString("hex");
const crc = (b) => zcrc32(Buffer.from(b)) >>> 0;
const h32 = (n) => (n >>> 0).toString(16).padStart(8, "0");
const ascii = (s) => new Uint8Array(Buffer.from(s, "latin1"));
const cat = (...parts) => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const o = new Uint8Array(n);
  let i = 0;
  for (const p of parts) {
    o.set(p, i);
    i += p.length;
  }
  return o;
};

// ---- COBS, the straightforward way: split at zeros, cut blocks at 254 ----
// Minimal form: after a full 254-byte block that ends the input, no final code byte.
function cobs(data) {
  const out = [];
  let block = [];
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) {
      out.push(block.length + 1, ...block);
      block = [];
    } else {
      block.push(data[i]);
      if (block.length === 254) {
        out.push(255, ...block);
        block = [];
        if (i === data.length - 1) return Uint8Array.from(out);
      }
    }
  }
  out.push(block.length + 1, ...block);
  return Uint8Array.from(out);
}

// ---- little-endian field packing ----
const SIZES = { u8: 1, u16: 2, u32: 4, i32: 4 };
function pack(layout, fields) {
  const parts = [];
  for (const [name, kind] of layout) {
    const v = fields[name];
    if (kind === "bytes") {
      parts.push(v instanceof Uint8Array ? v : ascii(v));
      continue;
    }
    const b = new Uint8Array(SIZES[kind]);
    const dv = new DataView(b.buffer);
    if (kind === "u8") dv.setUint8(0, v);
    else if (kind === "u16") dv.setUint16(0, v, true);
    else if (kind === "u32") dv.setUint32(0, v, true);
    else if (kind === "i32") dv.setInt32(0, v, true);
    parts.push(b);
  }
  return cat(...parts);
}

// ---- message payload layouts (docs/link.md section 8) ----
const INFO_LAYOUT = [
  ["proto", "u8"], ["boot_reason", "u8"], ["active_slot", "u8"], ["rollback_reason", "u8"],
  ["abi_version", "u16"], ["max_payload", "u16"], ["rx_window", "u16"], ["processors", "u8"], ["state_flags", "u8"],
  ["image_crc", "u32"], ["failed_crc", "u32"], ["slot_size", "u32"], ["max_input", "u32"], ["free_heap", "u32"],
  ["uptime_ms", "u32"], ["link_idle_ms", "u32"], ["heap_used", "u32"], ["wasm_memory", "u32"], ["kv_entries", "u32"],
  ["queued", "u32"], ["bad_frames", "u32"], ["retransmits", "u32"], ["session", "u32"], ["fw_len", "u8"], ["firmware", "bytes"],
];
const LAYOUTS = {
  ACK: [0x01, []],
  NAK: [0x02, []],
  INTERRUPT: [0x03, []],
  HELLO: [0x10, INFO_LAYOUT],
  INFO: [0x11, INFO_LAYOUT],
  RESULT: [0x12, [["value", "bytes"]]],
  LOG: [0x13, [["text", "bytes"]]],
  EVENT: [0x14, [["channel", "u8"], ["reserved", "u8"], ["topic", "u16"], ["data", "bytes"]]],
  PONG: [0x15, [["data", "bytes"]]],
  OK: [0x16, [["value", "u32"]]],
  ERROR: [0x17, [["code", "u16"], ["message", "bytes"]]],
  EXEC: [0x20, [["text_len", "u32"], ["proc", "u8"], ["text", "bytes"]]],
  WATCH: [0x21, [["channel", "u8"], ["on", "u8"], ["reserved", "u16"], ["topic", "i32"]]],
  PING: [0x22, [["data", "bytes"]]],
  RESET: [0x23, [["flags", "u8"]]],
  GET_INFO: [0x24, []],
  LEAVE: [0x25, []],
  FLASH_BEGIN: [0x26, [["size", "u32"], ["crc", "u32"], ["slot", "u8"], ["reserved", "u8"], ["reserved2", "u16"]]],
  FLASH_DATA: [0x27, [["offset", "u32"], ["data", "bytes"]]],
  FLASH_COMMIT: [0x28, [["flags", "u8"]]],
};

// ---- frames (docs/link.md section 4) ----
function body({ type, flags, seq, ack, credit, req }, payload) {
  const h = pack(
    [["type", "u8"], ["flags", "u8"], ["seq", "u16"], ["ack", "u16"], ["credit", "u16"], ["req", "u32"], ["len", "u16"]],
    { type, flags, seq, ack, credit, req, len: payload.length },
  );
  const hp = cat(h, payload);
  return cat(hp, pack([["crc", "u32"]], { crc: crc(hp) }));
}
const wire = (b) => cat(cobs(b), Uint8Array.of(0));

function jsonFields(layout, fields) {
  const o = {};
  for (const [name, kind] of layout) {
    const v = fields[name];
    o[name] = kind === "bytes" ? hex(v instanceof Uint8Array ? v : ascii(v)) : v;
  }
  return o;
}

function frameVector(name, note, msgType, hdr, fields) {
  const [type, layout] = LAYOUTS[msgType];
  const payload = pack(layout, fields);
  const b = body({ type, ...hdr }, payload);
  return {
    name,
    note,
    message: msgType,
    header: { type, flags: hdr.flags, seq: hdr.seq, ack: hdr.ack, credit: hdr.credit, req: hdr.req, len: payload.length },
    layout: layout.map(([n, k]) => `${n}:${k}`),
    fields: jsonFields(layout, fields),
    payload_hex: hex(payload),
    body_hex: hex(b),
    crc32: h32(crc(b.subarray(0, b.length - 4))),
    wire_hex: hex(wire(b)),
  };
}

// ---- CRC-32 ----
const crcInputs = [
  ["empty", new Uint8Array(0)],
  ["check value: ASCII 123456789", ascii("123456789")],
  ["one zero byte", Uint8Array.of(0)],
  ["one 0xff byte", Uint8Array.of(0xff)],
  ["four zero bytes", new Uint8Array(4)],
  ["four 0xff bytes", Uint8Array.of(0xff, 0xff, 0xff, 0xff)],
  ["ASCII The quick brown fox jumps over the lazy dog", ascii("The quick brown fox jumps over the lazy dog")],
  ["bytes 0x00..0xff", Uint8Array.from({ length: 256 }, (_, i) => i)],
  ["1024 bytes i*7+3 mod 256", Uint8Array.from({ length: 1024 }, (_, i) => (i * 7 + 3) & 0xff)],
];
const crcVectors = {
  description: "CRC-32/IEEE (ISO-HDLC): reflected, poly 0xEDB88320, init 0xFFFFFFFF, xorout 0xFFFFFFFF. crc32 is the value as 8 hex digits; on the wire it is little-endian.",
  vectors: crcInputs.map(([name, b]) => ({ name, input_hex: hex(b), crc32: h32(crc(b)) })),
};

// ---- COBS ----
const run = (n, f) => Uint8Array.from({ length: n }, (_, i) => f(i));
const cobsInputs = [
  ["empty", new Uint8Array(0)],
  ["one zero", Uint8Array.of(0)],
  ["two zeros", Uint8Array.of(0, 0)],
  ["all zeros (8)", new Uint8Array(8)],
  ["one non-zero", Uint8Array.of(0x11)],
  ["zero in the middle", Uint8Array.of(0x11, 0x22, 0x00, 0x33)],
  ["no zeros", Uint8Array.of(0x11, 0x22, 0x33, 0x44)],
  ["trailing zero", Uint8Array.of(0x11, 0x00)],
  ["253 non-zero bytes", run(253, (i) => (i % 255) + 1)],
  ["254 non-zero bytes (one full run)", run(254, (i) => (i % 255) + 1)],
  ["255 non-zero bytes", run(255, (i) => (i % 255) + 1)],
  ["254 non-zero then a zero", cat(run(254, (i) => (i % 255) + 1), Uint8Array.of(0))],
  ["zero then 254 non-zero", cat(Uint8Array.of(0), run(254, (i) => (i % 255) + 1))],
  ["508 non-zero bytes (two full runs)", run(508, (i) => (i % 255) + 1)],
  ["bytes 0x00..0xff", run(256, (i) => i)],
  ["1042 bytes, no zeros (largest frame, worst case)", run(1042, (i) => (i % 255) + 1)],
];
const cobsVectors = {
  description:
    "COBS without the 0x00 delimiter, minimal form (no code byte after a full 0xFF block that ends the input). Encoded length: 1 for empty input, else at most n+ceil(n/254). 'also_accepted': non-minimal encodings a decoder must still accept. 'invalid': encodings a decoder must refuse with the given reason.",
  vectors: cobsInputs.map(([name, b]) => ({ name, decoded_hex: hex(b), encoded_hex: hex(cobs(b)) })),
  also_accepted: [
    { name: "254 non-zero bytes with a redundant final 01", encoded_hex: "ff" + hex(run(254, (i) => (i % 255) + 1)) + "01", decoded_hex: hex(run(254, (i) => (i % 255) + 1)) },
  ],
  invalid: [
    { name: "empty (no code byte)", encoded_hex: "", reason: "truncated run" },
    { name: "code runs past the end", encoded_hex: "05112233", reason: "truncated run" },
    { name: "0xff code with 3 bytes", encoded_hex: "ff112233", reason: "truncated run" },
    { name: "zero inside a run", encoded_hex: "03110022", reason: "zero byte" },
    { name: "zero as a code byte", encoded_hex: "021100", reason: "zero byte" },
  ],
};

// ---- frames ----
const FW = "sxs-fw 0.1.0 posix";
const info = (o) => ({
  proto: 1, boot_reason: 0, active_slot: 0, rollback_reason: 0, abi_version: 1, max_payload: 1024, rx_window: 8192,
  processors: 1, state_flags: 0x02, image_crc: 0x1c291ca3, failed_crc: 0, slot_size: 262144, max_input: 16384,
  free_heap: 51200, uptime_ms: 1234, link_idle_ms: 30000, heap_used: 9000, wasm_memory: 65536, kv_entries: 3, queued: 0,
  bad_frames: 0, retransmits: 0, session: 0x5eed0001, fw_len: FW.length, firmware: FW, ...o,
});
const H = (flags, seq, ack, credit, req) => ({ flags, seq, ack, credit, req });
const frames = [
  frameVector("ACK", "ack 7, credit 8192", "ACK", H(0, 0, 7, 8192, 0), {}),
  frameVector("ACK with POLL", "a zero-window probe", "ACK", H(2, 0, 0, 65535, 0), {}),
  frameVector("NAK", "expected seq 3 (resend from 3); frame 5 revealed the gap", "NAK", H(0, 5, 3, 8192, 0), {}),
  frameVector("INTERRUPT one", "interrupt request 42", "INTERRUPT", H(0, 0, 5, 65535, 42), {}),
  frameVector("INTERRUPT all", "req 0: every request", "INTERRUPT", H(0, 0, 5, 65535, 0), {}),
  frameVector("HELLO", "first HELLO after power-on", "HELLO", H(0, 0, 0, 8192, 0), info({})),
  frameVector("HELLO after rollback", "a new image trapped at start-up; slot 1 was abandoned", "HELLO", H(0, 0, 0, 8192, 0),
    info({ boot_reason: 3, active_slot: 0, rollback_reason: 1, failed_crc: 0xdeadbeef, session: 0x5eed0002 })),
  frameVector("INFO", "answer to GET_INFO req 9", "INFO", H(0, 4, 2, 8000, 9), info({ state_flags: 0, uptime_ms: 99999, queued: 2, bad_frames: 5, retransmits: 1 })),
  frameVector("RESULT", "request 1 gave true", "RESULT", H(0, 1, 1, 8192, 1), { value: "true" }),
  frameVector("RESULT error value", "an error value is a RESULT too", "RESULT", H(0, 2, 2, 8192, 2), { value: '@"core/kv/get: key not found"' }),
  frameVector("RESULT empty", "zero-length payload", "RESULT", H(0, 3, 2, 8192, 3), { value: "" }),
  frameVector("LOG", "a log line", "LOG", H(0, 3, 2, 8192, 0), { text: "hello 42" }),
  frameVector("EVENT", "channel A (1), topic 7", "EVENT", H(0, 4, 2, 8192, 0), { channel: 1, reserved: 0, topic: 7, data: "[1 2 3]" }),
  frameVector("EVENT topic 65535", "channel F, largest topic", "EVENT", H(0, 65535, 0, 1042, 0), { channel: 6, reserved: 0, topic: 65535, data: "x" }),
  frameVector("PONG", "echo of a PING", "PONG", H(0, 5, 2, 8192, 77), { data: Uint8Array.of(0, 1, 2, 0xfe, 0xff, 0) }),
  frameVector("OK", "FLASH_BEGIN accepted, slot 1", "OK", H(0, 6, 3, 8192, 100), { value: 1 }),
  frameVector("ERROR", "a bad slot", "ERROR", H(0, 7, 3, 8192, 100), { code: 16, message: "slot 0 is active" }),
  frameVector("EXEC", "processor 0", "EXEC", H(0, 0, 1, 65535, 1), { text_len: 18, proc: 0, text: "(core/kv/set a 1)\n" }),
  frameVector("EXEC 20-byte command", "the size the bench measures", "EXEC", H(0, 9, 4, 65535, 10), { text_len: 20, proc: 1, text: "(core/kv/get user:1)" }),
  frameVector("EXEC with zeros in text", "bytes 0x00 are escaped by COBS", "EXEC", H(0, 10, 4, 65535, 11), { text_len: 7, proc: 0, text: Uint8Array.of(0x22, 0, 0x5c, 0x30, 0, 0x22, 0x0a) }),
  frameVector("WATCH", "channel B, topic 3, on", "WATCH", H(0, 1, 1, 65535, 2), { channel: 2, on: 1, reserved: 0, topic: 3 }),
  frameVector("WATCH all topics off", "topic -1: every topic", "WATCH", H(0, 2, 1, 65535, 3), { channel: 6, on: 0, reserved: 0, topic: -1 }),
  frameVector("PING", "4 bytes", "PING", H(0, 3, 1, 65535, 77), { data: "ping" }),
  frameVector("RESET", "soft reset, safe mode", "RESET", H(0, 4, 1, 65535, 5), { flags: 1 }),
  frameVector("GET_INFO", "", "GET_INFO", H(0, 5, 1, 65535, 9), {}),
  frameVector("LEAVE", "back to text mode", "LEAVE", H(0, 6, 1, 65535, 12), {}),
  frameVector("FLASH_BEGIN", "32 KiB + header, the inactive slot", "FLASH_BEGIN", H(0, 7, 1, 65535, 100),
    { size: 32800, crc: 0x89abcdef, slot: 0xff, reserved: 0, reserved2: 0 }),
  frameVector("FLASH_DATA", "16 bytes at offset 1024", "FLASH_DATA", H(0, 8, 1, 65535, 100), { offset: 1024, data: run(16, (i) => i * 17) }),
  frameVector("FLASH_DATA full", "1020 data bytes: the largest FLASH_DATA", "FLASH_DATA", H(0, 9, 1, 65535, 100), { offset: 2040, data: run(1020, (i) => (i * 31) & 0xff) }),
  frameVector("FLASH_COMMIT", "verify, switch and reboot", "FLASH_COMMIT", H(2, 10, 1, 65535, 100), { flags: 0 }),
];

// a message split into fragments: EXEC of 2500 text bytes -> 2505 payload bytes -> 1024 + 1024 + 457
const bigText = run(2500, (i) => 0x20 + (i % 95));
const bigPayload = pack(LAYOUTS.EXEC[1], { text_len: 2500, proc: 0, text: bigText });
const fragFrames = [];
for (let off = 0, seq = 20; off < bigPayload.length; off += 1024, seq++) {
  const end = Math.min(off + 1024, bigPayload.length);
  const b = body({ type: 0x20, flags: end < bigPayload.length ? 1 : 0, seq, ack: 4, credit: 65535, req: 30 }, bigPayload.subarray(off, end));
  fragFrames.push({ seq, flags: end < bigPayload.length ? 1 : 0, len: end - off, body_hex: hex(b), wire_hex: hex(wire(b)) });
}

// frames a decoder must refuse, and why (checked in this order: cobs, short, oversize, crc, length)
const good = body({ type: 0x12, flags: 0, seq: 1, ack: 1, credit: 8192, req: 1 }, ascii("true"));
const flipped = good.slice();
flipped[15] ^= 0x01; // a payload bit
const badLen = (() => {
  const b = good.slice(0, good.length - 4);
  b[12] = 5; // len says 5, payload is 4
  return cat(b, pack([["c", "u32"]], { c: crc(b) }));
})();
const tooLong = body({ type: 0x12, flags: 0, seq: 1, ack: 1, credit: 8192, req: 1 }, new Uint8Array(1025).fill(0x41));
const invalidFrames = [
  { name: "not COBS", encoded_hex: "05112233", reason: "cobs" },
  { name: "17 bytes (shorter than header + CRC)", encoded_hex: hex(cobs(good.subarray(0, 17))), reason: "short" },
  { name: "1025-byte payload", encoded_hex: hex(cobs(tooLong)), reason: "oversize" },
  { name: "one payload bit flipped", encoded_hex: hex(cobs(flipped)), reason: "crc" },
  { name: "len field disagrees (CRC right)", encoded_hex: hex(cobs(badLen)), reason: "length" },
];

// a stream for the deframer: frames with noise between them and inside one
const f1 = wire(body({ type: 0x12, flags: 0, seq: 0, ack: 0, credit: 8192, req: 1 }, ascii("1")));
const f2 = wire(body({ type: 0x13, flags: 0, seq: 1, ack: 0, credit: 8192, req: 0 }, ascii("log line")));
const b3 = body({ type: 0x12, flags: 0, seq: 2, ack: 0, credit: 8192, req: 2 }, ascii("2"));
b3[14] ^= 0x40; // the payload byte: the CRC no longer matches
const f3bad = wire(b3);
const f4 = wire(body({ type: 0x12, flags: 0, seq: 3, ack: 0, credit: 8192, req: 3 }, ascii("3")));
const stream = cat(
  ascii("garbage\r\n"), Uint8Array.of(0), // noise, then a delimiter: one "cobs" or other drop
  f1,
  Uint8Array.of(0, 0), // empty frames: ignored
  f2,
  f3bad, // dropped: crc
  Uint8Array.of(0x00, 0xff, 0x53, 0x58, 0x53, 0x00), // ENTER
  new Uint8Array(1100).fill(0x41), Uint8Array.of(0), // overlong
  f4,
);
const deframerVectors = {
  description: "A byte stream and what a deframer (max payload 1024) must make of it: frames in order, ENTER sequences, drops by reason. Empty frames (two delimiters in a row) are not drops.",
  stream_hex: hex(stream),
  events: [
    { kind: "drop", reason: "cobs" },
    { kind: "frame", type: 0x12, seq: 0, req: 1, payload_hex: hex(ascii("1")) },
    { kind: "frame", type: 0x13, seq: 1, req: 0, payload_hex: hex(ascii("log line")) },
    { kind: "drop", reason: "crc" },
    { kind: "enter" },
    { kind: "drop", reason: "overlong" },
    { kind: "frame", type: 0x12, seq: 3, req: 3, payload_hex: hex(ascii("3")) },
  ],
  empty: 3, // the two 00 00, and the leading 00 of ENTER right after a frame's delimiter
};

// ---- image headers (docs/link.md section 12) ----
const wasmMin = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
const wasmSmall = cat(wasmMin, Uint8Array.of(0x01, 0x04, 0x01, 0x60, 0x00, 0x00)); // a type section: () -> ()
function imageHeader({ abi = 1, wasmLen, wasmCrc, flags = 0, buildTime = 0, format = 1, headerLen = 32, magic = "SXSI" }) {
  const b = pack(
    [["magic", "bytes"], ["format", "u16"], ["header_len", "u16"], ["abi_version", "u32"], ["wasm_len", "u32"], ["wasm_crc", "u32"], ["flags", "u32"], ["build_time", "u32"]],
    { magic, format, header_len: headerLen, abi_version: abi, wasm_len: wasmLen, wasm_crc: wasmCrc, flags, build_time: buildTime },
  );
  return cat(b, pack([["c", "u32"]], { c: crc(b) }));
}
const img = (wasm, o = {}) => cat(imageHeader({ wasmLen: wasm.length, wasmCrc: crc(wasm), ...o }), wasm);
const goodImg = img(wasmSmall, { buildTime: 1795000000 });
const corrupt = goodImg.slice();
corrupt[40] ^= 0xff;
const badMagic = goodImg.slice();
badMagic[0] = 0x58;
const badHdrCrc = goodImg.slice();
badHdrCrc[24] ^= 1;
const notWasm = ascii("this is not wasm at all");
const imageVectors = {
  description:
    "Image files: a 32-byte little-endian header (magic 'SXSI', format u16 = 1, header_len u16 = 32, abi_version u32, wasm_len u32, wasm_crc u32, flags u32, build_time u32, header_crc u32 over bytes 0..27) then the Wasm. 'reason' is the first failed check (order: truncated, magic, header-crc, format, abi, length, wasm-crc, not-wasm) for a board that runs ABI 1; 'error' the ERROR code it answers.",
  supported_abi: 1,
  images: [
    { name: "minimal module", file_hex: hex(img(wasmMin)), valid: true, header: { abi_version: 1, wasm_len: 8, wasm_crc: h32(crc(wasmMin)), build_time: 0 } },
    { name: "module with a type section, build time set", file_hex: hex(goodImg), valid: true, header: { abi_version: 1, wasm_len: wasmSmall.length, wasm_crc: h32(crc(wasmSmall)), build_time: 1795000000 } },
    { name: "shorter than a header", file_hex: hex(goodImg.subarray(0, 20)), valid: false, reason: "truncated", error: 23 },
    { name: "bad magic", file_hex: hex(badMagic), valid: false, reason: "magic", error: 23 },
    { name: "header CRC wrong", file_hex: hex(badHdrCrc), valid: false, reason: "header-crc", error: 23 },
    { name: "format 2", file_hex: hex(img(wasmSmall, { format: 2 })), valid: false, reason: "format", error: 23 },
    { name: "ABI version 2", file_hex: hex(img(wasmSmall, { abi: 2 })), valid: false, reason: "abi", error: 24 },
    { name: "truncated Wasm", file_hex: hex(goodImg.subarray(0, goodImg.length - 3)), valid: false, reason: "length", error: 23 },
    { name: "trailing bytes", file_hex: hex(cat(goodImg, Uint8Array.of(0))), valid: false, reason: "length", error: 23 },
    { name: "Wasm byte flipped", file_hex: hex(corrupt), valid: false, reason: "wasm-crc", error: 25 },
    { name: "not Wasm (good header)", file_hex: hex(img(notWasm)), valid: false, reason: "not-wasm", error: 26 },
  ],
};

// ---- the boot record (docs/link.md section 13) ----
// 32 bytes: magic "SXSB", counter u32, active u8, state u8, attempts u8, previous u8,
// active_crc u32, failed_crc u32, rollback_reason u8, 7 reserved, CRC-32 of bytes 0..27.
function bootRecord(r, { magic = "SXSB", reserved = 0, flipCrc = false } = {}) {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  b.set(ascii(magic), 0);
  dv.setUint32(4, r.counter, true);
  b[8] = r.active, b[9] = r.state, b[10] = r.attempts, b[11] = r.previous;
  dv.setUint32(12, r.active_crc, true);
  dv.setUint32(16, r.failed_crc, true);
  b[20] = r.rollback_reason;
  b.fill(reserved, 21, 28);
  dv.setUint32(28, (crc(b.subarray(0, 28)) ^ (flipCrc ? 1 : 0)) >>> 0, true);
  return b;
}
const rec = (counter, active, state, attempts, previous, active_crc, failed_crc, rollback_reason) =>
  ({ counter, active, state, attempts, previous, active_crc, failed_crc, rollback_reason });
const bootRecords = [
  ["first boot of a blank flash: slot A confirmed", rec(1, 0, 0, 0, 0xff, 0x3cbd61ca, 0, 0)],
  ["a new image in slot B awaiting its trial", rec(2, 1, 1, 0, 0, 0x82cc63d8, 0, 0)],
  ["its first boot counted", rec(3, 1, 1, 1, 0, 0x82cc63d8, 0, 0)],
  ["rolled back to A: B trapped at start-up", rec(4, 0, 0, 0, 0xff, 0x3cbd61ca, 0x82cc63d8, 1)],
  ["no image at all (both slots failed)", rec(9, 0xff, 0, 0, 0xff, 0, 0xdeadbeef, 3)],
  ["largest counter and attempts", rec(0xffffffff, 1, 1, 255, 0, 0xffffffff, 0xffffffff, 5)],
];
const goodRec = bootRecord(bootRecords[1][1]);
const erased = new Uint8Array(32).fill(0xff);
const bootVectors = {
  description:
    "The boot record (docs/link.md section 13): 32 bytes, little-endian; magic 'SXSB', counter u32, active u8 (0xFF none), state u8 (0 CONFIRMED, 1 PENDING), attempts u8, previous u8, active_crc u32, failed_crc u32, rollback_reason u8, 7 reserved bytes (written 0, not checked), CRC-32 of bytes 0..27. 'records' encode and decode both ways; 'refused' are not records; 'areas' are the two sectors' first 32 bytes and which one a board boots from: the valid one with the larger counter, sector 0 on a tie, none when neither is valid.",
  records: bootRecords.map(([name, fields]) => ({ name, fields, hex: hex(bootRecord(fields)) })),
  decodes: [
    { name: "reserved bytes set (CRC right): still a record", hex: hex(bootRecord(bootRecords[0][1], { reserved: 0xaa })), fields: bootRecords[0][1] },
  ],
  refused: [
    { name: "erased (all FF)", hex: hex(erased) },
    { name: "all zero", hex: hex(new Uint8Array(32)) },
    { name: "wrong magic (SXSI, an image header's)", hex: hex(bootRecord(bootRecords[0][1], { magic: "SXSI" })) },
    { name: "CRC off by one bit", hex: hex(bootRecord(bootRecords[0][1], { flipCrc: true })) },
    { name: "a field byte flipped after the CRC was written", hex: hex(Uint8Array.from(goodRec, (v, i) => (i === 8 ? v ^ 1 : v))) },
  ],
  areas: [
    { name: "blank area", sector0_hex: hex(erased), sector1_hex: hex(erased), winner: null },
    { name: "only sector 0", sector0_hex: hex(bootRecord(rec(1, 0, 0, 0, 0xff, 1, 0, 0))), sector1_hex: hex(erased), winner: 0, counter: 1 },
    { name: "only sector 1", sector0_hex: hex(erased), sector1_hex: hex(bootRecord(rec(7, 1, 0, 0, 0xff, 2, 0, 0))), winner: 1, counter: 7 },
    { name: "the larger counter wins", sector0_hex: hex(bootRecord(rec(6, 0, 0, 0, 0xff, 1, 0, 0))), sector1_hex: hex(bootRecord(rec(7, 1, 1, 0, 0, 2, 0, 0))), winner: 1, counter: 7 },
    { name: "the larger counter wins from sector 0 too", sector0_hex: hex(bootRecord(rec(8, 0, 0, 0, 1, 1, 2, 1))), sector1_hex: hex(bootRecord(rec(7, 1, 1, 0, 0, 2, 0, 0))), winner: 0, counter: 8 },
    { name: "a torn newer copy loses to the valid older one", sector0_hex: hex(bootRecord(rec(8, 0, 0, 0, 1, 1, 2, 1), { flipCrc: true })), sector1_hex: hex(bootRecord(rec(7, 1, 1, 0, 0, 2, 0, 0))), winner: 1, counter: 7 },
    { name: "equal counters: sector 0", sector0_hex: hex(bootRecord(rec(5, 0, 0, 0, 0xff, 1, 0, 0))), sector1_hex: hex(bootRecord(rec(5, 1, 0, 0, 0xff, 2, 0, 0))), winner: 0, counter: 5 },
    { name: "neither valid", sector0_hex: hex(new Uint8Array(32)), sector1_hex: hex(bootRecord(rec(3, 0, 0, 0, 0xff, 1, 0, 0), { magic: "SXSb" })), winner: null },
  ],
};

// ---- text mode's line editor (docs/link.md section 2), written out by hand ----
// Each case: the bytes typed, then what the editor must give back in order: echo bytes
// (consecutive echoes as one), and the events "line" (with the line, without its end),
// "ctrl-c" and "enter". What the board then does with a line, a Ctrl-C or ENTER is not
// the editor's (section 2's prompts, queueing and interrupts are tested end to end).
const ENTER = "\x00\xff\x53\x58\x53\x00";
const editorCases = [
  ["a line ended by CR", "ab\r", [["echo", "ab\r\n"], ["line", "ab"]]],
  ["a line ended by LF", "ab\n", [["echo", "ab\r\n"], ["line", "ab"]]],
  ["CR LF is one line end", "a\r\nb\r", [["echo", "a\r\n"], ["line", "a"], ["echo", "b\r\n"], ["line", "b"]]],
  ["LF LF and CR CR are two empty lines each", "\n\n\r\r", [["echo", "\r\n"], ["line", ""], ["echo", "\r\n"], ["line", ""], ["echo", "\r\n"], ["line", ""], ["echo", "\r\n"], ["line", ""]]],
  ["LF CR is two line ends", "a\n\r", [["echo", "a\r\n"], ["line", "a"], ["echo", "\r\n"], ["line", ""]]],
  ["BS and DEL erase the last byte", "abc\x08\x7fd\r", [["echo", "abc\x08 \x08\x08 \x08d\r\n"], ["line", "ad"]]],
  ["erasing an empty line echoes nothing", "\x08\x7f\r", [["echo", "\r\n"], ["line", ""]]],
  ["TAB is kept, other control bytes are ignored", "a\tb\x01\x07\x1f\x04c\r", [["echo", "a\tbc\r\n"], ["line", "a\tbc"]]],
  ["bytes from 0x80 up are typed (UTF-8)", "\xc3\xa9\r", [["echo", "\xc3\xa9\r\n"], ["line", "\xc3\xa9"]]],
  ["arrow keys (CSI sequences) are ignored", "a\x1b[A\x1b[1;5Cb\r", [["echo", "ab\r\n"], ["line", "ab"]]],
  ["ESC not followed by [ is dropped alone", "a\x1bxb\r", [["echo", "axb\r\n"], ["line", "axb"]]],
  ["a CSI sequence runs to its final byte, control bytes included", "\x1b[1\r2~a\r", [["echo", "a\r\n"], ["line", "a"]]],
  ["NUL discards the line being typed", "abc\x00de\r", [["echo", "abcde\r\n"], ["line", "de"]]],
  ["Ctrl-C is an event; the line stays for the board to discard", "ab\x03", [["echo", "ab"], ["ctrl-c"]]],
  ["Ctrl-C on an empty line", "\x03", [["ctrl-c"]]],
  ["ENTER, not echoed", ENTER, [["enter"]]],
  ["ENTER after typing", "ab" + ENTER, [["echo", "ab"], ["enter"]]],
  ["ENTER after a line", "a\r" + ENTER, [["echo", "a\r\n"], ["line", "a"], ["enter"]]],
  ["a broken ENTER match: the held bytes are typed", "x\x00\xff\x53q\r", [["echo", "x\xff\x53q\r\n"], ["line", "\xff\x53q"]]],
  ["a match broken at its last byte", "\x00\xff\x53\x58\x53z\r", [["echo", "\xff\x53\x58\x53z\r\n"], ["line", "\xff\x53\x58\x53z"]]],
  ["a line end breaks a match", "\x00\xff\r", [["echo", "\xff\r\n"], ["line", "\xff"]]],
  ["a NUL that breaks a match starts a new one", "\x00\xff\x53" + ENTER, [["echo", "\xff\x53"], ["enter"]]],
  ["NUL NUL then the rest of ENTER", "\x00" + ENTER, [["enter"]]],
  ["ENTER's bytes are held, not erased: BS after a partial match", "\x00\xff\x08\r", [["echo", "\xff\x08 \x08\r\n"], ["line", ""]]],
];
const editorVectors = {
  description:
    "Text mode's line editor (docs/link.md section 2), byte by byte. 'in_hex' is typed; 'out' is what the editor gives back in order: {echo_hex} (bytes for the terminal, consecutive echoes joined), {event: 'line', line_hex} (a line ended; without its end), {event: 'ctrl-c'}, {event: 'enter'} (the ENTER sequence 00 FF 53 58 53 00: framed mode follows).",
  cases: editorCases.map(([name, input, out]) => ({
    name,
    in_hex: hex(ascii(input)),
    out: out.map(([kind, text]) =>
      kind === "echo" ? { echo_hex: hex(ascii(text)) } : kind === "line" ? { event: "line", line_hex: hex(ascii(text)) } : { event: kind },
    ),
  })),
};

const files = {
  "crc32.json": crcVectors,
  "cobs.json": cobsVectors,
  "frames.json": {
    description:
      "Complete frames. body = header (type u8, flags u8, seq u16, ack u16, credit u16, req u32, len u16; little-endian) + payload + CRC-32 (LE) of header+payload; wire = COBS(body) + 00. 'layout' gives the payload fields in order (name:kind; bytes runs to the end); 'fields' their values, bytes as hex.",
    frames,
    fragmented: {
      note: "EXEC req 30 with 2500 text bytes: payload 2505 bytes in three frames of 1024, 1024 and 457 bytes; MORE (flags bit 0) on all but the last.",
      text_hex: hex(bigText),
      frames: fragFrames,
    },
    invalid: invalidFrames,
  },
  "deframer.json": deframerVectors,
  "image-headers.json": imageVectors,
  "boot-record.json": bootVectors,
  "text-editor.json": editorVectors,
};

const check = process.argv.includes("--check");
let stale = 0;
for (const [name, obj] of Object.entries(files)) {
  const text = JSON.stringify(obj, null, 1) + "\n";
  const path = join(OUT, name);
  if (check) {
    let old = "";
    try {
      old = readFileSync(path, "utf8");
    } catch {}
    if (old !== text) {
      console.error(`stale: ${name}`);
      stale++;
    }
  } else writeFileSync(path, text);
}
if (check && stale) process.exit(1);
if (!check) console.log(`wrote ${Object.keys(files).length} files to ${OUT}`);
