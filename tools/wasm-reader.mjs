// A small, dependency-free reader for WebAssembly binaries (core module format,
// version 1). It parses the module structure (every standard section) and decodes
// instructions with their immediates; it does not type-check. Policy (which
// features are allowed) lives with the callers, e.g. tools/check-image.mjs.
//
//   import { parseModule, decodeFunction } from "./wasm-reader.mjs";
//   const m = parseModule(bytes);                 // throws WasmError when malformed
//   m.sections    [{ id, name, offset, start, end, size, customName? }]  (byte ranges)
//   m.codes       [{ funcIndex, offset, start, end, size, bodyStart, locals }]
//   decodeFunction(m, funcIndex, (ins, depth) => { ... });  // every instruction
//
// Offsets are absolute byte offsets in the file.

/** A malformed (or undecodable) binary; `offset` is where the problem was found. */
export class WasmError extends Error {
  constructor(message, offset) {
    super(message);
    this.name = "WasmError";
    this.offset = offset;
  }
}

export const hex = (n, width = 0) => "0x" + n.toString(16).padStart(width, "0");

/** An opcode byte as written in messages: 0xFC, 0x08. */
export const opHex = (n) => "0x" + n.toString(16).toUpperCase().padStart(2, "0");

// ---------------------------------------------------------------------------
// Bytes and LEB128

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class ByteReader {
  /** @param {Uint8Array} bytes */
  constructor(bytes, pos = 0, end = bytes.length) {
    this.buf = bytes;
    this.pos = pos;
    this.end = end;
  }

  get remaining() {
    return this.end - this.pos;
  }

  eof() {
    return this.pos >= this.end;
  }

  fail(message, at = this.pos) {
    throw new WasmError(message, at);
  }

  need(n, what) {
    if (this.end - this.pos < n) {
      this.fail(`unexpected end of ${this.context ?? "data"} reading ${what}` +
        ` (${n} byte(s) needed, ${Math.max(0, this.end - this.pos)} left)`);
    }
  }

  u8(what = "a byte") {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  peek() {
    this.need(1, "a byte");
    return this.buf[this.pos];
  }

  bytes(n, what = "bytes") {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Unsigned LEB128 of at most `bits` (<= 32) bits, as a number. */
  uN(bits, what) {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) this.fail(`unexpected end of ${this.context ?? "data"} in LEB128 ${what}`, start);
      const b = this.buf[this.pos++];
      if (i === maxBytes - 1) {
        if (b & 0x80) this.fail(`LEB128 ${what} longer than ${maxBytes} bytes`, start);
        const used = bits - 7 * i;
        if (b & (0x7f & ~((1 << used) - 1))) this.fail(`LEB128 ${what} does not fit in u${bits}`, start);
      }
      result += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return result;
    }
  }

  /** Signed LEB128 of at most `bits` (<= 33) bits, as a number. */
  sN(bits, what) {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) this.fail(`unexpected end of ${this.context ?? "data"} in LEB128 ${what}`, start);
      const b = this.buf[this.pos++];
      if (i === maxBytes - 1) {
        if (b & 0x80) this.fail(`LEB128 ${what} longer than ${maxBytes} bytes`, start);
        const used = bits - 7 * i;
        const mask = 0x7f & ~((1 << (used - 1)) - 1); // the sign bit and everything above it
        const rest = b & mask;
        if (rest !== 0 && rest !== mask) this.fail(`LEB128 ${what} does not fit in s${bits}`, start);
      }
      result += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) {
        if (b & 0x40) result -= 2 ** (7 * (i + 1));
        return result;
      }
    }
  }

  /** 64-bit LEB128 as a BigInt. */
  big64(signed, what) {
    const start = this.pos;
    let result = 0n;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) this.fail(`unexpected end of ${this.context ?? "data"} in LEB128 ${what}`, start);
      const b = this.buf[this.pos++];
      if (i === 9) {
        if (b & 0x80) this.fail(`LEB128 ${what} longer than 10 bytes`, start);
        const mask = signed ? 0x7f : 0x7e;
        const rest = b & mask;
        if (signed ? rest !== 0 && rest !== mask : rest !== 0) {
          this.fail(`LEB128 ${what} does not fit in ${signed ? "s" : "u"}64`, start);
        }
      }
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (!(b & 0x80)) {
        if (signed && b & 0x40) result -= 1n << BigInt(7 * (i + 1));
        return signed ? BigInt.asIntN(64, result) : result;
      }
    }
  }

  u32(what = "u32") {
    return this.uN(32, what);
  }
  s32(what = "s32") {
    return this.sN(32, what);
  }
  s33(what = "s33") {
    return this.sN(33, what);
  }
  s64(what = "s64") {
    return this.big64(true, what);
  }
  u64(what = "u64") {
    return this.big64(false, what);
  }

  f32() {
    const b = this.bytes(4, "an f32");
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  f64() {
    const b = this.bytes(8, "an f64");
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
  }

  name(what = "name") {
    const start = this.pos;
    const len = this.u32(`${what} length`);
    const b = this.bytes(len, what);
    try {
      return utf8.decode(b);
    } catch {
      this.fail(`${what} is not valid UTF-8`, start);
    }
  }

  vec(fn, what = "vector") {
    const n = this.u32(`${what} count`);
    // Every element takes at least one byte: reject absurd counts early.
    if (n > this.remaining) this.fail(`${what} count ${n} exceeds the ${this.remaining} byte(s) left`);
    const out = [];
    for (let i = 0; i < n; i++) out.push(fn(i));
    return out;
  }
}

// ---------------------------------------------------------------------------
// Types

export const SECTION_NAMES = {
  0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
  6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
  12: "datacount", 13: "tag",
};

// Position of each non-custom section in the required order (tag sits between
// memory and global, datacount between element and code).
const SECTION_ORDER = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

const VALTYPES = {
  0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128",
  0x70: "funcref", 0x6f: "externref",
  // GC / function references / exception handling abbreviations
  0x6e: "anyref", 0x6d: "eqref", 0x6c: "i31ref", 0x6b: "structref", 0x6a: "arrayref",
  0x69: "exnref", 0x74: "nullexnref", 0x73: "nullfuncref", 0x72: "nullexternref", 0x71: "nullref",
};

export const NUMERIC_TYPES = new Set(["i32", "i64", "f32", "f64"]);

const HEAPTYPES = {
  0x70: "func", 0x6f: "extern", 0x6e: "any", 0x6d: "eq", 0x6c: "i31", 0x6b: "struct",
  0x6a: "array", 0x69: "exn", 0x74: "noexn", 0x73: "nofunc", 0x72: "noextern", 0x71: "none",
};

function readHeapType(r) {
  const b = r.peek();
  if (b in HEAPTYPES) {
    r.pos++;
    return HEAPTYPES[b];
  }
  const at = r.pos;
  const idx = r.s33("heap type");
  if (idx < 0) r.fail(`unknown heap type ${hex(b)}`, at);
  return `type ${idx}`;
}

/** A value type as a string: "i32", "v128", "funcref", "(ref null func)", … */
export function readValType(r) {
  const at = r.pos;
  const b = r.u8("a value type");
  if (b in VALTYPES) return VALTYPES[b];
  if (b === 0x64 || b === 0x63) return `(ref ${b === 0x63 ? "null " : ""}${readHeapType(r)})`;
  r.fail(`unknown value type ${hex(b, 2)}`, at);
}

function readLimits(r, what) {
  const at = r.pos;
  const flags = r.u8(`${what} limits flags`);
  if (flags > 0x07) r.fail(`unknown ${what} limits flags ${hex(flags, 2)}`, at);
  const is64 = (flags & 0x04) !== 0;
  const read = () => (is64 ? Number(r.u64(`${what} limit`)) : r.u32(`${what} limit`));
  const min = read();
  const max = flags & 0x01 ? read() : null;
  return { flags, min, max, shared: (flags & 0x02) !== 0, is64 };
}

function readTableType(r) {
  const refType = readValType(r);
  return { refType, limits: readLimits(r, "table") };
}

function readGlobalType(r) {
  const type = readValType(r);
  const at = r.pos;
  const mut = r.u8("global mutability");
  if (mut > 1) r.fail(`global mutability flag must be 0 or 1, not ${mut}`, at);
  return { type, mutable: mut === 1 };
}

// ---------------------------------------------------------------------------
// Instructions
//
// Each opcode entry: [name, immediate kind, proposal]. Proposal is informational:
// "mvp", "sign-extension", "nontrapping-f2i", "bulk-memory", "reference-types",
// "simd", "threads", "tail-call", "exceptions", "function-references", "gc".

const OPS = new Map(); // key: single byte, or (prefix << 16) | sub
const def = (key, name, imm = "none", proposal = "mvp") => OPS.set(key, { name, imm, proposal });

// Control and parametric
def(0x00, "unreachable");
def(0x01, "nop");
def(0x02, "block", "blocktype");
def(0x03, "loop", "blocktype");
def(0x04, "if", "blocktype");
def(0x05, "else");
def(0x06, "try", "blocktype", "exceptions");
def(0x07, "catch", "tag", "exceptions");
def(0x08, "throw", "tag", "exceptions");
def(0x09, "rethrow", "label", "exceptions");
def(0x0a, "throw_ref", "none", "exceptions");
def(0x0b, "end");
def(0x0c, "br", "label");
def(0x0d, "br_if", "label");
def(0x0e, "br_table", "br_table");
def(0x0f, "return");
def(0x10, "call", "func");
def(0x11, "call_indirect", "call_indirect");
def(0x12, "return_call", "func", "tail-call");
def(0x13, "return_call_indirect", "call_indirect", "tail-call");
def(0x14, "call_ref", "type", "function-references");
def(0x15, "return_call_ref", "type", "function-references");
def(0x18, "delegate", "label", "exceptions");
def(0x19, "catch_all", "none", "exceptions");
def(0x1a, "drop");
def(0x1b, "select");
def(0x1c, "select", "select_t", "reference-types");
def(0x1f, "try_table", "try_table", "exceptions");
def(0x20, "local.get", "local");
def(0x21, "local.set", "local");
def(0x22, "local.tee", "local");
def(0x23, "global.get", "global");
def(0x24, "global.set", "global");
def(0x25, "table.get", "table", "reference-types");
def(0x26, "table.set", "table", "reference-types");

// Memory: [name, natural alignment (log2)]
export const MEMORY_OPS = [
  [0x28, "i32.load", 2], [0x29, "i64.load", 3], [0x2a, "f32.load", 2], [0x2b, "f64.load", 3],
  [0x2c, "i32.load8_s", 0], [0x2d, "i32.load8_u", 0], [0x2e, "i32.load16_s", 1], [0x2f, "i32.load16_u", 1],
  [0x30, "i64.load8_s", 0], [0x31, "i64.load8_u", 0], [0x32, "i64.load16_s", 1], [0x33, "i64.load16_u", 1],
  [0x34, "i64.load32_s", 2], [0x35, "i64.load32_u", 2],
  [0x36, "i32.store", 2], [0x37, "i64.store", 3], [0x38, "f32.store", 2], [0x39, "f64.store", 3],
  [0x3a, "i32.store8", 0], [0x3b, "i32.store16", 1], [0x3c, "i64.store8", 0], [0x3d, "i64.store16", 1],
  [0x3e, "i64.store32", 2],
];
for (const [op, name, align] of MEMORY_OPS) {
  def(op, name, "memarg");
  OPS.get(op).align = align;
}
def(0x3f, "memory.size", "memidx");
def(0x40, "memory.grow", "memidx");
def(0x41, "i32.const", "i32");
def(0x42, "i64.const", "i64");
def(0x43, "f32.const", "f32");
def(0x44, "f64.const", "f64");

// Numeric (no immediates), 0x45..0xC4
const NUMERIC = [
  "i32.eqz", "i32.eq", "i32.ne", "i32.lt_s", "i32.lt_u", "i32.gt_s", "i32.gt_u", "i32.le_s", "i32.le_u",
  "i32.ge_s", "i32.ge_u",
  "i64.eqz", "i64.eq", "i64.ne", "i64.lt_s", "i64.lt_u", "i64.gt_s", "i64.gt_u", "i64.le_s", "i64.le_u",
  "i64.ge_s", "i64.ge_u",
  "f32.eq", "f32.ne", "f32.lt", "f32.gt", "f32.le", "f32.ge",
  "f64.eq", "f64.ne", "f64.lt", "f64.gt", "f64.le", "f64.ge",
  ...["i32", "i64"].flatMap((t) =>
    ["clz", "ctz", "popcnt", "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor",
      "shl", "shr_s", "shr_u", "rotl", "rotr"].map((o) => `${t}.${o}`)),
  ...["f32", "f64"].flatMap((t) =>
    ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt", "add", "sub", "mul", "div", "min", "max",
      "copysign"].map((o) => `${t}.${o}`)),
  "i32.wrap_i64", "i32.trunc_f32_s", "i32.trunc_f32_u", "i32.trunc_f64_s", "i32.trunc_f64_u",
  "i64.extend_i32_s", "i64.extend_i32_u", "i64.trunc_f32_s", "i64.trunc_f32_u", "i64.trunc_f64_s",
  "i64.trunc_f64_u", "f32.convert_i32_s", "f32.convert_i32_u", "f32.convert_i64_s", "f32.convert_i64_u",
  "f32.demote_f64", "f64.convert_i32_s", "f64.convert_i32_u", "f64.convert_i64_s", "f64.convert_i64_u",
  "f64.promote_f32", "i32.reinterpret_f32", "i64.reinterpret_f64", "f32.reinterpret_i32",
  "f64.reinterpret_i64",
];
NUMERIC.forEach((name, i) => def(0x45 + i, name));
if (0x45 + NUMERIC.length !== 0xc0) throw new Error("wasm-reader: numeric opcode table is off");
["i32.extend8_s", "i32.extend16_s", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s"].forEach((name, i) =>
  def(0xc0 + i, name, "none", "sign-extension"));

// Reference types, typed function references
def(0xd0, "ref.null", "heaptype", "reference-types");
def(0xd1, "ref.is_null", "none", "reference-types");
def(0xd2, "ref.func", "func", "reference-types");
def(0xd3, "ref.eq", "none", "gc");
def(0xd4, "ref.as_non_null", "none", "function-references");
def(0xd5, "br_on_null", "label", "function-references");
def(0xd6, "br_on_non_null", "label", "function-references");

// 0xFC prefix
const FC = (sub) => (0xfc << 16) | sub;
["i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
  "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u",
].forEach((name, i) => def(FC(i), name, "none", "nontrapping-f2i"));
def(FC(0x08), "memory.init", "memory.init", "bulk-memory");
def(FC(0x09), "data.drop", "data", "bulk-memory");
def(FC(0x0a), "memory.copy", "memory.copy", "bulk-memory");
def(FC(0x0b), "memory.fill", "memidx", "bulk-memory");
def(FC(0x0c), "table.init", "table.init", "bulk-memory");
def(FC(0x0d), "elem.drop", "elem", "bulk-memory");
def(FC(0x0e), "table.copy", "table.copy", "bulk-memory");
def(FC(0x0f), "table.grow", "table", "reference-types");
def(FC(0x10), "table.size", "table", "reference-types");
def(FC(0x11), "table.fill", "table", "reference-types");

// 0xFD prefix (SIMD): immediates by range; only a few names are spelled out.
const SIMD_NAMES = {
  0x00: "v128.load", 0x0b: "v128.store", 0x0c: "v128.const", 0x0d: "i8x16.shuffle", 0x0e: "i8x16.swizzle",
  0x0f: "i8x16.splat", 0x10: "i16x8.splat", 0x11: "i32x4.splat", 0x12: "i64x2.splat", 0x13: "f32x4.splat",
  0x14: "f64x2.splat", 0x15: "i8x16.extract_lane_s", 0x4d: "v128.not", 0x4e: "v128.and", 0x50: "v128.or",
  0x51: "v128.xor", 0x53: "v128.any_true", 0x6e: "i8x16.add", 0x8e: "i16x8.add", 0xae: "i32x4.add",
  0xce: "i64x2.add",
};
function simdImm(sub) {
  if (sub <= 0x0b) return "memarg";
  if (sub === 0x0c) return "v128";
  if (sub === 0x0d) return "shuffle";
  if (sub >= 0x15 && sub <= 0x22) return "lane";
  if (sub >= 0x54 && sub <= 0x5b) return "memarg_lane";
  if (sub === 0x5c || sub === 0x5d) return "memarg";
  return "none";
}

// 0xFE prefix (threads)
const ATOMIC_NAMES = {
  0x00: "memory.atomic.notify", 0x01: "memory.atomic.wait32", 0x02: "memory.atomic.wait64", 0x03: "atomic.fence",
  0x10: "i32.atomic.load", 0x11: "i64.atomic.load", 0x17: "i32.atomic.store", 0x18: "i64.atomic.store",
  0x1e: "i32.atomic.rmw.add", 0x1f: "i64.atomic.rmw.add", 0x48: "i32.atomic.rmw.cmpxchg", 0x49: "i64.atomic.rmw.cmpxchg",
};

/** Look up an opcode; returns { name, imm, proposal } or undefined. */
export function opcodeInfo(prefix, sub) {
  if (prefix === 0) return OPS.get(sub);
  if (prefix === 0xfc) return OPS.get(FC(sub));
  if (prefix === 0xfd) {
    if (sub > 0x113) return undefined;
    return { name: SIMD_NAMES[sub] ?? `simd.${opHex(sub)}`, imm: simdImm(sub), proposal: "simd" };
  }
  if (prefix === 0xfe) {
    if (sub === 0x03) return { name: "atomic.fence", imm: "byte", proposal: "threads" };
    if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) {
      return { name: ATOMIC_NAMES[sub] ?? `atomic.${opHex(sub)}`, imm: "memarg", proposal: "threads" };
    }
    return undefined;
  }
  if (prefix === 0xfb) return { name: `gc.${opHex(sub)}`, imm: "opaque", proposal: "gc" };
  return undefined;
}

/** "memory.init (0xFC 0x08)" */
export function opcodeLabel(ins) {
  const code = ins.prefix ? `${opHex(ins.prefix)} ${opHex(ins.op)}` : opHex(ins.op);
  return `${ins.name} (${code})`;
}

function readMemarg(r) {
  const at = r.pos;
  const flags = r.u32("memarg alignment");
  let memory = 0;
  if (flags & 0x40) memory = r.u32("memarg memory index");
  const align = flags & ~0x40;
  if (align >= 32) r.fail(`memarg alignment exponent ${align} is out of range`, at);
  const off = r.u64("memarg offset");
  return { align, memory, multiMemory: (flags & 0x40) !== 0, offset: off <= 0xffffffffn ? Number(off) : off };
}

function readBlockType(r) {
  const b = r.peek();
  if (b === 0x40) {
    r.pos++;
    return { kind: "empty" };
  }
  if (b in VALTYPES || b === 0x64 || b === 0x63) return { kind: "value", type: readValType(r) };
  const at = r.pos;
  const index = r.s33("block type");
  if (index < 0) r.fail(`unknown block type ${hex(b, 2)}`, at);
  return { kind: "index", index };
}

function readImmediate(r, kind) {
  switch (kind) {
    case "none": return undefined;
    case "blocktype": return readBlockType(r);
    case "label": return { label: r.u32("label index") };
    case "br_table": {
      const labels = r.vec(() => r.u32("label index"), "br_table target");
      return { labels, default: r.u32("br_table default label") };
    }
    case "func": return { func: r.u32("function index") };
    case "call_indirect": return { type: r.u32("type index"), table: r.u32("table index") };
    case "type": return { type: r.u32("type index") };
    case "local": return { local: r.u32("local index") };
    case "global": return { global: r.u32("global index") };
    case "table": return { table: r.u32("table index") };
    case "tag": return { tag: r.u32("tag index") };
    case "data": return { data: r.u32("data index") };
    case "elem": return { elem: r.u32("element index") };
    case "memarg": return readMemarg(r);
    case "memidx": return { memory: r.u32("memory index") };
    case "memory.init": return { data: r.u32("data index"), memory: r.u32("memory index") };
    case "memory.copy": return { memory: r.u32("memory index"), memory2: r.u32("memory index") };
    case "table.init": return { elem: r.u32("element index"), table: r.u32("table index") };
    case "table.copy": return { table: r.u32("table index"), table2: r.u32("table index") };
    case "i32": return { value: r.s32("i32 constant") };
    case "i64": return { value: r.s64("i64 constant") };
    case "f32": return { value: r.f32() };
    case "f64": return { value: r.f64() };
    case "select_t": return { types: r.vec(() => readValType(r), "select type") };
    case "heaptype": return { heapType: readHeapType(r) };
    case "v128": return { bytes: r.bytes(16, "a v128 constant") };
    case "shuffle": return { lanes: r.bytes(16, "shuffle lanes") };
    case "lane": return { lane: r.u8("a lane index") };
    case "memarg_lane": return { ...readMemarg(r), lane: r.u8("a lane index") };
    case "byte": return { byte: r.u8() };
    case "try_table": {
      const blockType = readBlockType(r);
      const catches = r.vec(() => {
        const at = r.pos;
        const k = r.u8("catch kind");
        if (k > 3) r.fail(`unknown catch kind ${k}`, at);
        const tag = k < 2 ? r.u32("tag index") : undefined;
        return { kind: k, tag, label: r.u32("label index") };
      }, "catch clause");
      return { blockType, catches };
    }
    default:
      throw new Error(`wasm-reader: unknown immediate kind ${kind}`);
  }
}

/**
 * Read one instruction at r.pos: { offset, prefix, op, name, imm, proposal, info }.
 * Throws WasmError for unknown opcodes; for opcodes whose immediates this reader
 * cannot decode (GC, 0xFB) it returns the instruction with `undecodable: true`;
 * the caller cannot continue past it.
 */
export function readInstruction(r) {
  const offset = r.pos;
  const b = r.u8("an opcode");
  let prefix = 0;
  let op = b;
  if (b === 0xfb || b === 0xfc || b === 0xfd || b === 0xfe) {
    prefix = b;
    op = r.u32("a prefixed opcode");
  }
  const info = opcodeInfo(prefix, op);
  if (!info) {
    const code = prefix ? `${opHex(prefix)} ${opHex(op)}` : opHex(op);
    r.fail(`unknown opcode ${code}`, offset);
  }
  const ins = { offset, prefix, op, name: info.name, proposal: info.proposal, imm: undefined, info };
  if (info.imm === "opaque") {
    ins.undecodable = true;
    return ins;
  }
  ins.imm = readImmediate(r, info.imm);
  return ins;
}

/**
 * Decode an expression (function body or constant expression) from r.pos up to and
 * including its final `end`. Calls visit(ins, depth) for each instruction, where
 * depth is the number of enclosing control frames (the function itself counts as 1;
 * valid label indices are 0..depth-1). Stops early, returning false, if visit
 * returns false or an undecodable instruction is met; returns true when the final
 * `end` was read.
 */
export function decodeExpr(r, visit) {
  const stack = ["func"]; // kinds of open control frames
  for (;;) {
    const ins = readInstruction(r);
    if (visit && visit(ins, stack.length) === false) return false;
    if (ins.undecodable) return false;
    switch (ins.name) {
      case "block": case "loop": case "if": case "try": case "try_table":
        stack.push(ins.name);
        break;
      case "else":
        if (stack.at(-1) !== "if") r.fail("`else` outside an `if` block", ins.offset);
        stack[stack.length - 1] = "if-else";
        break;
      case "catch": case "catch_all":
        if (stack.at(-1) !== "try" && stack.at(-1) !== "try-catch") r.fail(`\`${ins.name}\` outside a \`try\` block`, ins.offset);
        stack[stack.length - 1] = "try-catch";
        break;
      case "delegate":
        if (stack.at(-1) !== "try") r.fail("`delegate` outside a `try` block", ins.offset);
        stack.pop();
        break;
      case "end":
        stack.pop();
        if (stack.length === 0) return true;
        break;
    }
  }
}

// ---------------------------------------------------------------------------
// Module

function readConstExpr(r, what) {
  const start = r.pos;
  const instrs = [];
  r.context = what;
  decodeExpr(r, (ins) => {
    instrs.push(ins);
  });
  r.context = undefined;
  if (instrs.length && instrs.at(-1).undecodable) r.fail(`cannot decode ${instrs.at(-1).name} in ${what}`, instrs.at(-1).offset);
  return { start, end: r.pos, instrs };
}

/**
 * Parse a whole module. Throws WasmError (with .offset) if the binary is malformed.
 * Function bodies are delimited (locals are read) but not decoded: use
 * decodeFunction() or codeReader().
 */
export function parseModule(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const r = new ByteReader(bytes);
  r.context = "file";
  if (bytes.length < 8) r.fail(`file too short for a WebAssembly header (${bytes.length} byte(s), need 8)`, 0);
  const magic = r.bytes(4);
  if (magic[0] !== 0x00 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
    r.fail(`not a WebAssembly binary (bad magic ${[...magic].map((x) => hex(x, 2)).join(" ")}, expected 0x00 0x61 0x73 0x6d)`, 0);
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true);
  r.pos = 8;
  if (version !== 1) {
    const layer = version >>> 16;
    r.fail(`unsupported binary version ${hex(version, 8)}${layer === 1 ? " (a component, not a core module)" : ""}; expected 1`, 4);
  }

  const m = {
    size: bytes.length,
    version,
    sections: [],
    types: [],
    imports: [],
    funcs: [], // type index of each defined function
    tables: [],
    memories: [],
    globals: [],
    tags: [],
    exports: [],
    start: null,
    elements: [],
    dataCount: null,
    codes: [],
    datas: [],
    customs: [],
    imported: { func: 0, table: 0, memory: 0, global: 0, tag: 0 },
    funcNames: new Map(),
    nameSectionError: null,
    bytes,
  };

  let lastOrder = 0;
  const seen = new Set();
  while (!r.eof()) {
    const offset = r.pos;
    r.context = "file";
    const id = r.u8("a section id");
    const size = r.u32("section size");
    const start = r.pos;
    const name = SECTION_NAMES[id];
    if (name === undefined) r.fail(`unknown section id ${id}`, offset);
    if (size > bytes.length - start) {
      r.fail(`${name} section claims ${size} byte(s) but only ${bytes.length - start} remain in the file (truncated?)`, offset);
    }
    const end = start + size;
    const sec = { id, name, offset, start, end, size };
    if (id !== 0) {
      if (seen.has(id)) r.fail(`duplicate ${name} section`, offset);
      seen.add(id);
      if (SECTION_ORDER[id] < lastOrder) r.fail(`${name} section out of order`, offset);
      lastOrder = SECTION_ORDER[id];
    }
    const s = new ByteReader(bytes, start, end);
    s.context = `${name} section`;
    parseSection(m, id, s, sec);
    if (s.pos !== end) s.fail(`${name} section has ${end - s.pos} unread byte(s) (size field says ${size})`, s.pos);
    m.sections.push(sec);
    r.pos = end;
  }

  const nDefined = m.funcs.length;
  if (m.codes.length !== nDefined) {
    const where = m.sections.find((x) => x.id === 10 || x.id === 3);
    throw new WasmError(`function section declares ${nDefined} function(s) but the code section has ${m.codes.length} bod${m.codes.length === 1 ? "y" : "ies"}`, where?.offset ?? 8);
  }
  if (m.dataCount !== null && m.dataCount !== m.datas.length) {
    const where = m.sections.find((x) => x.id === 12);
    throw new WasmError(`data count section says ${m.dataCount} segment(s) but the data section has ${m.datas.length}`, where.offset);
  }
  return m;
}

function parseSection(m, id, r, sec) {
  switch (id) {
    case 0: {
      const name = r.name("custom section name");
      sec.customName = name;
      const custom = { name, offset: sec.offset, start: r.pos, end: sec.end };
      m.customs.push(custom);
      if (name === "name") {
        try {
          parseNameSection(m, new ByteReader(r.buf, r.pos, sec.end));
        } catch (e) {
          if (!(e instanceof WasmError)) throw e;
          m.nameSectionError = e;
        }
      }
      r.pos = sec.end;
      return;
    }
    case 1:
      m.types = r.vec(() => {
        const at = r.pos;
        const form = r.u8("a type form");
        if (form !== 0x60) {
          const gc = { 0x5e: "array", 0x5f: "struct", 0x50: "sub", 0x4f: "sub final", 0x4e: "rec" }[form];
          r.fail(gc ? `GC type definition (${gc}, ${hex(form, 2)})` : `unknown type form ${hex(form, 2)} (expected 0x60 func)`, at);
        }
        const params = r.vec(() => readValType(r), "parameter");
        const results = r.vec(() => readValType(r), "result");
        return { params, results, offset: at };
      }, "type");
      return;
    case 2:
      m.imports = r.vec(() => {
        const offset = r.pos;
        const module = r.name("import module name");
        const name = r.name("import name");
        const kindAt = r.pos;
        const kind = r.u8("import kind");
        const imp = { module, name, offset };
        switch (kind) {
          case 0: imp.kind = "func"; imp.type = r.u32("type index"); m.imported.func++; break;
          case 1: imp.kind = "table"; imp.table = readTableType(r); m.imported.table++; break;
          case 2: imp.kind = "memory"; imp.memory = readLimits(r, "memory"); m.imported.memory++; break;
          case 3: imp.kind = "global"; imp.global = readGlobalType(r); m.imported.global++; break;
          case 4: {
            imp.kind = "tag";
            const attr = r.u8("tag attribute");
            if (attr !== 0) r.fail(`tag attribute must be 0, not ${attr}`, kindAt + 1);
            imp.type = r.u32("type index");
            m.imported.tag++;
            break;
          }
          default: r.fail(`unknown import kind ${kind}`, kindAt);
        }
        return imp;
      }, "import");
      return;
    case 3:
      m.funcs = r.vec(() => r.u32("type index"), "function");
      return;
    case 4:
      m.tables = r.vec(() => {
        const offset = r.pos;
        if (r.peek() === 0x40) {
          // table with an initializer expression (function references proposal)
          r.pos++;
          const zero = r.u8();
          if (zero !== 0) r.fail("malformed table definition", offset);
          const t = readTableType(r);
          return { ...t, offset, init: readConstExpr(r, "table initializer") };
        }
        return { ...readTableType(r), offset };
      }, "table");
      return;
    case 5:
      m.memories = r.vec(() => {
        const offset = r.pos;
        return { limits: readLimits(r, "memory"), offset };
      }, "memory");
      return;
    case 6:
      m.globals = r.vec(() => {
        const offset = r.pos;
        const t = readGlobalType(r);
        return { ...t, offset, init: readConstExpr(r, "global initializer") };
      }, "global");
      return;
    case 7:
      m.exports = r.vec(() => {
        const offset = r.pos;
        const name = r.name("export name");
        const at = r.pos;
        const k = r.u8("export kind");
        const kind = ["func", "table", "memory", "global", "tag"][k];
        if (!kind) r.fail(`unknown export kind ${k}`, at);
        return { name, kind, index: r.u32("export index"), offset };
      }, "export");
      return;
    case 8:
      m.start = { index: r.u32("start function index"), offset: sec.start };
      return;
    case 9:
      m.elements = r.vec(() => readElement(r), "element segment");
      return;
    case 10:
      m.codes = r.vec((i) => {
        const offset = r.pos;
        const size = r.u32("function body size");
        const start = r.pos;
        if (size > r.end - start) r.fail(`function body ${i} claims ${size} byte(s) but only ${r.end - start} remain in the code section`, offset);
        const end = start + size;
        const b = new ByteReader(r.buf, start, end);
        b.context = `function body ${i}`;
        let total = 0;
        const locals = b.vec(() => {
          const count = b.u32("local count");
          const type = readValType(b);
          total += count;
          return { count, type };
        }, "local declaration");
        if (total > 0xffffffff) b.fail(`function body ${i} declares too many locals (${total})`, start);
        r.pos = end;
        return { funcIndex: m.imported.func + i, offset, start, end, size: end - offset, bodySize: size, bodyStart: b.pos, locals, localCount: total };
      }, "function body");
      return;
    case 11:
      m.datas = r.vec(() => {
        const offset = r.pos;
        const flags = r.u32("data segment flags");
        const seg = { flags, offset, memory: 0, offsetExpr: null };
        if (flags === 0) {
          seg.mode = "active";
          seg.offsetExpr = readConstExpr(r, "data segment offset");
        } else if (flags === 1) {
          seg.mode = "passive";
        } else if (flags === 2) {
          seg.mode = "active";
          seg.memory = r.u32("memory index");
          seg.offsetExpr = readConstExpr(r, "data segment offset");
        } else {
          r.fail(`unknown data segment flags ${flags}`, offset);
        }
        const len = r.u32("data segment size");
        seg.dataStart = r.pos;
        r.bytes(len, "data segment contents");
        seg.size = len;
        seg.end = r.pos;
        return seg;
      }, "data segment");
      return;
    case 12:
      m.dataCount = r.u32("data count");
      return;
    case 13:
      m.tags = r.vec(() => {
        const offset = r.pos;
        const attr = r.u8("tag attribute");
        if (attr !== 0) r.fail(`tag attribute must be 0, not ${attr}`, offset);
        return { type: r.u32("type index"), offset };
      }, "tag");
      return;
  }
}

function readElement(r) {
  const offset = r.pos;
  const flags = r.u32("element segment flags");
  if (flags > 7) r.fail(`unknown element segment flags ${flags}`, offset);
  const seg = { flags, offset, table: 0, offsetExpr: null, elemType: "funcref", funcs: null, exprs: null };
  const passiveOrDeclarative = (flags & 1) !== 0;
  const explicitTable = (flags & 2) !== 0; // for active segments
  const usesExprs = (flags & 4) !== 0;
  if (!passiveOrDeclarative) {
    seg.mode = "active";
    if (explicitTable) seg.table = r.u32("table index");
    seg.offsetExpr = readConstExpr(r, "element segment offset");
  } else {
    seg.mode = explicitTable ? "declarative" : "passive";
  }
  if (flags & 3) {
    // elemkind (byte 0x00 = funcref) or reftype
    if (usesExprs) seg.elemType = readValType(r);
    else {
      const at = r.pos;
      const kind = r.u8("element kind");
      if (kind !== 0) r.fail(`unknown element kind ${hex(kind, 2)}`, at);
    }
  }
  if (usesExprs) seg.exprs = r.vec(() => readConstExpr(r, "element expression"), "element expression");
  else seg.funcs = r.vec(() => r.u32("function index"), "element function index");
  seg.end = r.pos;
  return seg;
}

function parseNameSection(m, r) {
  r.context = "name section";
  while (!r.eof()) {
    const at = r.pos;
    const id = r.u8("name subsection id");
    const size = r.u32("name subsection size");
    if (size > r.remaining) r.fail(`name subsection ${id} claims ${size} byte(s) but only ${r.remaining} remain`, at);
    const end = r.pos + size;
    if (id === 1) {
      const s = new ByteReader(r.buf, r.pos, end);
      s.context = "function name map";
      s.vec(() => {
        const idx = s.u32("function index");
        m.funcNames.set(idx, s.name("function name"));
      }, "function name");
      if (s.pos !== end) s.fail("function name subsection has unread bytes", s.pos);
    }
    r.pos = end;
  }
}

// ---------------------------------------------------------------------------
// Helpers

/** Total number of functions (imported + defined). */
export const funcCount = (m) => m.imported.func + m.funcs.length;

/** Type index of function `funcIndex` (imported or defined). */
export function funcTypeIndex(m, funcIndex) {
  if (funcIndex < m.imported.func) {
    return m.imports.filter((i) => i.kind === "func")[funcIndex].type;
  }
  return m.funcs[funcIndex - m.imported.func];
}

/** The global types, imported ones first: [{ type, mutable, imported }]. */
export function allGlobals(m) {
  return [
    ...m.imports.filter((i) => i.kind === "global").map((i) => ({ ...i.global, imported: true })),
    ...m.globals.map((g) => ({ type: g.type, mutable: g.mutable, imported: false })),
  ];
}

/** "(i32, i32) -> f64" */
export function signature(type) {
  if (!type) return "?";
  const res = type.results.length === 1 ? type.results[0] : `(${type.results.join(", ")})`;
  return `(${type.params.join(", ")}) -> ${type.results.length ? res : "()"}`;
}

/** "function 12 ($foo)" or "function 12 (export "bar")" or "function 12". */
export function describeFunction(m, funcIndex) {
  const name = m.funcNames.get(funcIndex);
  if (name !== undefined) return `function ${funcIndex} ($${name})`;
  const exp = m.exports.find((e) => e.kind === "func" && e.index === funcIndex);
  if (exp) return `function ${funcIndex} (export "${exp.name}")`;
  return `function ${funcIndex}`;
}

/** A ByteReader positioned at the first instruction of defined function `funcIndex`. */
export function codeReader(m, funcIndex) {
  const code = m.codes[funcIndex - m.imported.func];
  if (!code) throw new RangeError(`no body for function ${funcIndex}`);
  const r = new ByteReader(m.bytes, code.bodyStart, code.end);
  r.context = `body of function ${funcIndex}`;
  return r;
}

/**
 * Decode every instruction of defined function `funcIndex`, calling visit(ins, depth).
 * Throws WasmError if the body is malformed (including bytes after the final `end`).
 * Returns false if decoding stopped early (visit returned false, or an undecodable
 * instruction), true otherwise.
 */
export function decodeFunction(m, funcIndex, visit) {
  const r = codeReader(m, funcIndex);
  const complete = decodeExpr(r, visit);
  if (complete && r.pos !== r.end) {
    r.fail(`${r.end - r.pos} byte(s) after the final \`end\` of function ${funcIndex}`, r.pos);
  }
  return complete;
}

/**
 * Byte counts for a size report: per section (payload + header) and per defined
 * function (body including its size prefix), largest functions first.
 */
export function sizeReport(m) {
  return {
    total: m.size,
    header: 8,
    sections: m.sections.map((s) => ({
      id: s.id,
      name: s.id === 0 ? `custom "${s.customName}"` : s.name,
      bytes: s.end - s.offset,
      payload: s.size,
    })),
    functions: m.codes
      .map((c) => ({ index: c.funcIndex, name: m.funcNames.get(c.funcIndex) ?? null, bytes: c.size, body: c.bodySize }))
      .sort((a, b) => b.bytes - a.bytes || a.index - b.index),
  };
}
