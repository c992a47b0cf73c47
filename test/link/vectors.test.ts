// The TypeScript codec against the shared vectors in test/vectors/ (made by
// test/vectors/gen/gen.mjs, an independent implementation). The C firmware is held to
// the same files.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "../../host/link/crc32.js";
import { cobsDecode, cobsEncode, CobsError, cobsMaxEncodedLength } from "../../host/link/cobs.js";
import { decodeFrame, decodeFrameBody, encodeFrame, encodeFrameBody, FrameError } from "../../host/link/frame.js";
import { Deframer } from "../../host/link/deframer.js";
import { decodeMessage, encodeMessage, MsgType, type BoardInfo, type Message } from "../../host/link/messages.js";
import { fragment } from "../../host/link/fragment.js";
import { buildImage, decodeImageHeader, ImageError, verifyImage } from "../../host/link/image-header.js";
import { LineEditor } from "../../host/board/line-editor.js";
import { NorFlash, PARTITIONS, SECTOR } from "../../host/board/flash.js";
import { Slots, decodeBootRecord, encodeBootRecord, type BootRecord } from "../../host/board/slots.js";

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../vectors");
const load = (name: string) => JSON.parse(readFileSync(join(DIR, name), "utf8"));
const unhex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const h32 = (n: number) => n.toString(16).padStart(8, "0");
const latin1 = (h: string) => Buffer.from(h, "hex").toString("latin1");

describe("CRC-32 vectors", () => {
  const v = load("crc32.json");
  for (const t of v.vectors)
    it(t.name, () => {
      expect(h32(crc32(unhex(t.input_hex)))).toBe(t.crc32);
    });
  it("check value", () => expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926));
});

describe("COBS vectors", () => {
  const v = load("cobs.json");
  for (const t of v.vectors)
    it(t.name, () => {
      const dec = unhex(t.decoded_hex);
      const enc = cobsEncode(dec);
      expect(hex(enc)).toBe(t.encoded_hex);
      expect(enc.includes(0)).toBe(false);
      expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(dec.length));
      expect(hex(cobsDecode(unhex(t.encoded_hex)))).toBe(t.decoded_hex);
    });
  for (const t of v.also_accepted)
    it(`accepts: ${t.name}`, () => expect(hex(cobsDecode(unhex(t.encoded_hex)))).toBe(t.decoded_hex));
  for (const t of v.invalid)
    it(`refuses: ${t.name}`, () => {
      let err: unknown;
      try {
        cobsDecode(unhex(t.encoded_hex));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CobsError);
      expect((err as CobsError).reason).toBe(t.reason);
    });
});

// JSON fields (snake_case, bytes as hex) -> a typed Message
function toMessage(name: string, req: number, f: Record<string, any>): Message {
  const info = (): BoardInfo => ({
    proto: f.proto,
    bootReason: f.boot_reason,
    activeSlot: f.active_slot,
    rollbackReason: f.rollback_reason,
    abiVersion: f.abi_version,
    maxPayload: f.max_payload,
    rxWindow: f.rx_window,
    processors: f.processors,
    stateFlags: f.state_flags,
    imageCrc: f.image_crc,
    failedCrc: f.failed_crc,
    slotSize: f.slot_size,
    maxInput: f.max_input,
    freeHeap: f.free_heap,
    uptimeMs: f.uptime_ms,
    linkIdleMs: f.link_idle_ms,
    heapUsed: f.heap_used,
    wasmMemory: f.wasm_memory,
    kvEntries: f.kv_entries,
    queued: f.queued,
    badFrames: f.bad_frames,
    retransmits: f.retransmits,
    session: f.session,
    firmware: latin1(f.firmware),
  });
  switch (name) {
    case "ACK":
    case "NAK":
      return { type: name, req: 0 };
    case "INTERRUPT":
    case "GET_INFO":
    case "LEAVE":
      return { type: name, req };
    case "HELLO":
    case "INFO":
      return { type: name, req, info: info() };
    case "RESULT":
      return { type: name, req, value: unhex(f.value) };
    case "LOG":
      return { type: name, req, text: unhex(f.text) };
    case "EVENT":
      return { type: name, req, channel: f.channel, topic: f.topic, data: unhex(f.data) };
    case "PONG":
    case "PING":
      return { type: name, req, data: unhex(f.data) };
    case "OK":
      return { type: name, req, value: f.value };
    case "ERROR":
      return { type: name, req, code: f.code, message: unhex(f.message) };
    case "EXEC":
      return { type: name, req, proc: f.proc, textLength: f.text_len, text: unhex(f.text) };
    case "WATCH":
      return { type: name, req, channel: f.channel, on: f.on === 1, topic: f.topic };
    case "RESET":
    case "FLASH_COMMIT":
      return { type: name, req, flags: f.flags };
    case "FLASH_BEGIN":
      return { type: name, req, size: f.size, crc: f.crc, slot: f.slot };
    case "FLASH_DATA":
      return { type: name, req, offset: f.offset, data: unhex(f.data) };
  }
  throw new Error(`no mapping for ${name}`);
}

describe("frame vectors", () => {
  const v = load("frames.json");
  const seen = new Set<string>();
  for (const t of v.frames)
    it(t.name, () => {
      seen.add(t.message);
      const h = t.header;
      const msg = toMessage(t.message, h.req, t.fields);
      const raw = encodeMessage(msg);
      expect(raw.type).toBe(h.type);
      expect(raw.type).toBe(MsgType[t.message as keyof typeof MsgType]);
      expect(hex(raw.payload)).toBe(t.payload_hex);
      const frame = { type: h.type, flags: h.flags, seq: h.seq, ack: h.ack, credit: h.credit, req: h.req, payload: raw.payload };
      expect(hex(encodeFrameBody(frame))).toBe(t.body_hex);
      expect(hex(encodeFrame(frame))).toBe(t.wire_hex);
      const body = unhex(t.body_hex);
      expect(h32(crc32(body, 0, body.length - 4))).toBe(t.crc32);
      // decode the wire bytes (without the delimiter) and the message
      const wire = unhex(t.wire_hex);
      expect(wire[wire.length - 1]).toBe(0);
      const back = decodeFrame(wire.subarray(0, wire.length - 1));
      expect({ ...back, payload: hex(back.payload) }).toEqual({ ...frame, payload: t.payload_hex });
      const m = decodeMessage(back.type, back.req, back.payload);
      expect(m).toEqual(msg);
    });
  it("covers every message type", () => {
    for (const name of Object.keys(MsgType)) expect(seen.has(name), name).toBe(true);
  });
  it("fragmented EXEC", () => {
    const f = v.fragmented;
    const text = unhex(f.text_hex);
    const raw = encodeMessage({ type: "EXEC", req: 30, proc: 0, textLength: text.length, text });
    const frags = fragment(raw);
    expect(frags.length).toBe(f.frames.length);
    frags.forEach((fr, i) => {
      const want = f.frames[i];
      expect(fr.flags).toBe(want.flags);
      expect(fr.payload.length).toBe(want.len);
      const enc = encodeFrame({ ...fr, seq: want.seq, ack: 4, credit: 65535 });
      expect(hex(enc)).toBe(want.wire_hex);
    });
  });
  for (const t of v.invalid)
    it(`refuses: ${t.name}`, () => {
      let err: unknown;
      try {
        decodeFrame(unhex(t.encoded_hex));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FrameError);
      expect((err as FrameError).reason).toBe(t.reason);
    });
  it("decodeFrameBody and decodeFrame agree", () => {
    const t = v.frames[8];
    expect(decodeFrameBody(unhex(t.body_hex)).req).toBe(t.header.req);
  });
});

describe("deframer vector", () => {
  const v = load("deframer.json");
  const expectEvents = (d: Deframer, chunks: Uint8Array[]) => {
    const evs = chunks.flatMap((c) => d.feed(c));
    const got = evs.map((e) =>
      e.kind === "frame"
        ? { kind: "frame", type: e.frame.type, seq: e.frame.seq, req: e.frame.req, payload_hex: hex(e.frame.payload) }
        : e.kind === "drop"
          ? { kind: "drop", reason: e.reason }
          : { kind: "enter" },
    );
    expect(got).toEqual(v.events);
    expect(d.stats.empty).toBe(v.empty);
  };
  it("whole stream at once", () => expectEvents(new Deframer(), [unhex(v.stream_hex)]));
  it("one byte at a time", () => {
    const s = unhex(v.stream_hex);
    expectEvents(
      new Deframer(),
      Array.from(s, (b) => Uint8Array.of(b)),
    );
  });
  it("chunks of 7", () => {
    const s = unhex(v.stream_hex);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < s.length; i += 7) chunks.push(s.subarray(i, i + 7));
    expectEvents(new Deframer(), chunks);
  });
});

describe("image header vectors", () => {
  const v = load("image-headers.json");
  for (const t of v.images)
    it(t.name, () => {
      const file = unhex(t.file_hex);
      if (t.valid) {
        const { header, wasm } = verifyImage(file, v.supported_abi);
        expect(header.abiVersion).toBe(t.header.abi_version);
        expect(header.wasmLen).toBe(t.header.wasm_len);
        expect(h32(header.wasmCrc)).toBe(t.header.wasm_crc);
        expect(header.buildTime).toBe(t.header.build_time);
        expect(hex(buildImage(wasm, { abiVersion: 1, buildTime: header.buildTime }))).toBe(t.file_hex);
        expect(decodeImageHeader(file).headerCrc).toBe(new DataView(file.buffer, file.byteOffset).getUint32(28, true));
      } else {
        let err: unknown;
        try {
          verifyImage(file, v.supported_abi);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ImageError);
        expect((err as ImageError).reason).toBe(t.reason);
        expect((err as ImageError).code).toBe(t.error);
      }
    });
});

describe("text mode's line editor vectors", () => {
  const v = load("text-editor.json");
  for (const t of v.cases)
    it(t.name, () => {
      const out: object[] = [];
      const editor = new LineEditor((b) => {
        const last = out[out.length - 1] as { echo_hex?: string } | undefined;
        if (last?.echo_hex !== undefined) last.echo_hex += hex(b);
        else out.push({ echo_hex: hex(b) });
      });
      for (const b of unhex(t.in_hex)) {
        const ev = editor.feed(b);
        if (ev === "line") out.push({ event: "line", line_hex: hex(editor.lastLine) });
        else if (ev !== "none") out.push({ event: ev });
      }
      expect(out).toEqual(t.out);
    });
  it("there are cases for every event", () => {
    const events = new Set(v.cases.flatMap((t: { out: { event?: string }[] }) => t.out.map((o) => o.event).filter(Boolean)));
    expect([...events].sort()).toEqual(["ctrl-c", "enter", "line"]);
  });
});

describe("boot record vectors", () => {
  const v = load("boot-record.json");
  type Fields = { counter: number; active: number; state: number; attempts: number; previous: number; active_crc: number; failed_crc: number; rollback_reason: number };
  const record = (f: Fields): BootRecord => ({
    counter: f.counter,
    active: f.active,
    state: f.state,
    attempts: f.attempts,
    previous: f.previous,
    activeCrc: f.active_crc,
    failedCrc: f.failed_crc,
    rollbackReason: f.rollback_reason,
  });
  for (const t of v.records)
    it(`${t.name}: encodes and decodes`, () => {
      expect(hex(encodeBootRecord(record(t.fields)))).toBe(t.hex);
      expect(decodeBootRecord(unhex(t.hex))).toEqual(record(t.fields));
    });
  for (const t of v.decodes) it(`${t.name}: decodes`, () => expect(decodeBootRecord(unhex(t.hex))).toEqual(record(t.fields)));
  for (const t of v.refused) it(`${t.name}: refused`, () => expect(decodeBootRecord(unhex(t.hex))).toBeNull());
  for (const t of v.areas)
    it(`two sectors, ${t.name}`, () => {
      const flash = NorFlash.memory();
      flash.write(PARTITIONS.boot.offset, unhex(t.sector0_hex));
      flash.write(PARTITIONS.boot.offset + SECTOR, unhex(t.sector1_hex));
      const got = new Slots(flash).readRecord();
      expect(got === null ? null : { winner: got.sector, counter: got.record.counter }).toEqual(t.winner === null ? null : { winner: t.winner, counter: t.counter });
    });
});
