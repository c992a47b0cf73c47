// The SLP buffer format, version 1 (assembly/slp/format.ts; SPEC.md section 2), through
// sxs_encode and sxs_decode (docs/abi.md).
//
// test/vectors/slp-buffer.json pins the bytes the image builds (regenerate it with
// `node test/vectors/gen-slp-buffer.mjs`). So that the file proves the documented
// format and not only stability, a few vectors are written out here by hand from the
// layout at the top of format.ts, and every vector is read back by an independent
// reader of that layout (readSlp below).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RawImage, ROOT, bytes, canonReal, canonString, concat, hex, latin1, prng, requireImage, unhex } from "./helpers.js";

beforeAll(requireImage);

let raw: RawImage;
beforeAll(async () => {
  raw = await RawImage.create();
});

interface Vector {
  text: string;
  hex: string;
}
const FILE = JSON.parse(readFileSync(join(ROOT, "test", "vectors", "slp-buffer.json"), "utf8")) as { version: number; vectors: Vector[] };

function encodeHex(text: string): string {
  const r = raw.encode(text);
  if (!r.ok) throw new Error(`${JSON.stringify(text)}: ${r.error}`);
  return hex(r.bytes);
}

function decodeL(buf: Uint8Array): string {
  const r = raw.decode(buf);
  return r.ok ? latin1(r.bytes) : `ERROR ${r.error}`;
}

/** Little-endian helpers for writing expected bytes by hand. */
const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const B = (...parts: Array<number | number[]>) => Uint8Array.from(parts.flat());

// ---------------------------------------------------------------------------------------
// An independent reader of the documented layout

interface Read {
  print: string;
  symbols: string[];
  tags: Set<number>;
}

/**
 * Reads a buffer by the layout of format.ts, checking every offset and size it documents.
 * `strict` also checks what the parser guarantees beyond validity: symbol entries in id
 * order and contiguous, each name once and used, INT64 only for values past 32 bits.
 */
function readSlp(buf: Uint8Array, strict = true): Read {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (m: string): never => {
    throw new Error(`readSlp: ${m}`);
  };
  if (buf[0] !== 1 || buf[1] !== 0 || dv.getUint16(2, true) !== 0) fail("header version/flags/reserved");
  const length = dv.getUint32(4, true);
  const nsym = dv.getUint32(8, true);
  const symtab = dv.getUint32(12, true);
  if (length !== buf.length) fail(`length ${length} != ${buf.length}`);
  const symbols: string[] = [];
  let entry = symtab + 4 * nsym;
  for (let i = 0; i < nsym; i++) {
    const off = dv.getUint32(symtab + 4 * i, true);
    if (strict && off !== entry) fail(`symbol ${i} entry at ${off}, expected ${entry} (entries follow the offsets in order)`);
    const n = dv.getUint32(off, true);
    if (off + 4 + n > length) fail(`symbol ${i} runs past the end`);
    symbols.push(latin1(buf.subarray(off + 4, off + 4 + n)));
    entry = off + 4 + n;
  }
  if (strict && entry !== length) fail(`symbol entries end at ${entry}, buffer at ${length}`);
  if (strict && new Set(symbols).size !== symbols.length) fail(`a name is stored twice: ${JSON.stringify(symbols)}`);
  const used = new Set<number>();
  const tags = new Set<number>();
  // returns [print, end]
  const unit = (p: number): [string, number] => {
    const tag = buf[p]!;
    tags.add(tag);
    switch (tag) {
      case 0x01:
        return [String(dv.getInt32(p + 1, true)), p + 5];
      case 0x02: {
        const v = dv.getBigInt64(p + 1, true);
        if (strict && v >= -(2n ** 31n) && v < 2n ** 31n) fail(`INT64 ${v} fits in 32 bits`);
        return [v.toString(), p + 9];
      }
      case 0x03: {
        // a parser never makes NaN or an infinity; from outside they print as ECMAScript does
        const x = dv.getFloat64(p + 1, true);
        if (strict && !Number.isFinite(x)) fail(`REAL ${x}`);
        return [Number.isFinite(x) ? canonReal(x) : String(x), p + 9];
      }
      case 0x04: {
        const n = dv.getUint32(p + 1, true);
        return [canonString(buf.subarray(p + 5, p + 5 + n)), p + 5 + n];
      }
      case 0x05: {
        const id = dv.getUint32(p + 1, true);
        if (id >= nsym) fail(`symbol id ${id} >= ${nsym}`);
        used.add(id);
        return [symbols[id]!, p + 5];
      }
      case 0x06:
      case 0x07:
      case 0x08: {
        const count = dv.getUint32(p + 1, true);
        const size = dv.getUint32(p + 5, true);
        let q = p + 9 + 4 * count; // children follow the offset table, in order
        const items: string[] = [];
        for (let i = 0; i < count; i++) {
          const off = dv.getUint32(p + 9 + 4 * i, true);
          if (p + off !== q) fail(`child ${i} of the list at ${p}: offset ${off}, child at ${q - p}`);
          const [s, end] = unit(q);
          items.push(s);
          q = end;
        }
        if (q - p !== size) fail(`list at ${p}: size ${size}, children end at ${q - p}`);
        const [o, c] = tag === 0x06 ? ["(", ")"] : tag === 0x07 ? ["{", "}"] : ["[", "]"];
        return [o + items.join(" ") + c, q];
      }
      case 0x09:
      case 0x0a: {
        const [s, end] = unit(p + 1);
        return [(tag === 0x09 ? "'" : "@") + s, end];
      }
      default:
        return fail(`unknown tag ${tag} at ${p}`);
    }
  };
  const [print, end] = unit(16);
  if (end !== symtab) fail(`units end at ${end}, symbol table at ${symtab}`);
  if (strict && used.size !== nsym) fail(`${nsym - used.size} symbols are never used`);
  return { print, symbols, tags };
}

/** A buffer around `units` with a correct header and symbol table, unless overridden. */
function mk(
  units: Array<number | number[]>,
  names: string[] = [],
  o: { head?: number[]; len?: number; nsym?: number; symtab?: number; entryOffsets?: number[]; nameLen?: number } = {},
): Uint8Array {
  const u = B(...units);
  const symtab = 16 + u.length;
  const offsets: number[] = [];
  const entries: number[] = [];
  let e = symtab + 4 * names.length;
  names.forEach((name, i) => {
    offsets.push(e);
    entries.push(...u32(i === 0 && o.nameLen !== undefined ? o.nameLen : name.length), ...bytes(name));
    e += 4 + name.length;
  });
  return B(o.head ?? [1, 0, 0, 0], u32(o.len ?? e), u32(o.nsym ?? names.length), u32(o.symtab ?? symtab), [...u], (o.entryOffsets ?? offsets).map(u32).flat(), entries);
}

// ---------------------------------------------------------------------------------------

describe("hand-checked vectors: the bytes format.ts documents", () => {
  const HAND: Array<{ text: string; bytes: Uint8Array; print: string }> = [
    {
      text: "",
      bytes: B(
        [0x01, 0x00, 0x00, 0x00], // version 1, flags 0, reserved 0
        u32(25), // length: 16 header + 9 root
        u32(0), // no symbols
        u32(25), // symbol table right after the units
        [0x07], u32(0), u32(9), // root BODY: count 0, size 9 (just its header)
      ),
      print: "{}",
    },
    {
      text: "42 -2147483649",
      bytes: B(
        [0x01, 0x00, 0x00, 0x00],
        u32(47), // 16 + root 31
        u32(0),
        u32(47),
        [0x07], u32(2), u32(31), // BODY, 2 children, 9 + 2*4 + 5 + 9 = 31 bytes
        u32(17), u32(22), // child offsets from the BODY: 9 + 8 = 17, then 17 + 5
        [0x01], [0x2a, 0x00, 0x00, 0x00], // INT32 42
        [0x02], [0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff], // INT64 -2^31-1
      ),
      print: "{42 -2147483649}",
    },
    {
      text: "(a b a)",
      bytes: B(
        [0x01, 0x00, 0x00, 0x00],
        u32(83),
        u32(2), // a and b, each once
        u32(65), // 16 + root 49
        [0x07], u32(1), u32(49), u32(13), // BODY: 9 + 4 + CALL 36
        [0x06], u32(3), u32(36), u32(21), u32(26), u32(31), // CALL at 29: 9 + 12 + 3*5
        [0x05], u32(0), // a (id 0)
        [0x05], u32(1), // b (id 1)
        [0x05], u32(0), // a again: the same id
        u32(73), u32(78), // symbol table at 65: entries after the 2 offsets
        u32(1), [0x61], // "a"
        u32(1), [0x62], // "b"
      ),
      print: "{(a b a)}",
    },
    {
      text: "['q @\"e\" \"\"]",
      bytes: B(
        [0x01, 0x00, 0x00, 0x00],
        u32(77),
        u32(1),
        u32(68),
        [0x07], u32(1), u32(52), u32(13), // BODY: 9 + 4 + DATA 39
        [0x08], u32(3), u32(39), u32(21), u32(27), u32(34), // DATA at 29: 9 + 12 + 6 + 7 + 5
        [0x09, 0x05], u32(0), // QUOTE, SYMBOL q
        [0x0a, 0x04], u32(1), [0x65], // ERROR, STRING "e"
        [0x04], u32(0), // STRING ""
        u32(72), // symbol table at 68
        u32(1), [0x71], // "q"
      ),
      print: "{['q @\"e\" \"\"]}",
    },
    {
      text: "[1.5 -0.0]",
      bytes: B(
        [0x01, 0x00, 0x00, 0x00],
        u32(64),
        u32(0),
        u32(64),
        [0x07], u32(1), u32(48), u32(13), // BODY: 9 + 4 + DATA 35
        [0x08], u32(2), u32(35), u32(17), u32(26), // DATA: 9 + 8 + 9 + 9
        [0x03], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f], // REAL 1.5
        [0x03], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80], // REAL -0.0
      ),
      print: "{[1.5 -0.0]}",
    },
  ];
  for (const v of HAND) {
    it(JSON.stringify(v.text), () => {
      expect(encodeHex(v.text)).toBe(hex(v.bytes));
      expect(FILE.vectors.find((f) => f.text === v.text)?.hex).toBe(hex(v.bytes));
      expect(decodeL(v.bytes)).toBe(v.print);
      expect(readSlp(v.bytes).print).toBe(v.print);
    });
  }

  it("decodes hand-made buffers whose root is not a BODY", () => {
    // INT32 root
    expect(decodeL(B([1, 0, 0, 0], u32(21), u32(0), u32(21), [0x01], u32(42)))).toBe("42");
    // STRING root with bytes that print escaped
    expect(decodeL(B([1, 0, 0, 0], u32(24), u32(0), u32(24), [0x04], u32(3), [0x61, 0x0a, 0x7f]))).toBe('"a\\n\\x7f"');
    // SYMBOL root
    expect(decodeL(B([1, 0, 0, 0], u32(34), u32(1), u32(21), [0x05], u32(0), u32(25), u32(5), [0x68, 0x65, 0x6c, 0x6c, 0x6f]))).toBe("hello");
    // QUOTE of an empty DATA
    expect(decodeL(B([1, 0, 0, 0], u32(26), u32(0), u32(26), [0x09, 0x08], u32(0), u32(9)))).toBe("'[]");
    // ERROR of a REAL
    expect(decodeL(B([1, 0, 0, 0], u32(26), u32(0), u32(26), [0x0a, 0x03], [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]))).toBe("@1.0");
  });

  it("rejects hand-made buffers that break the layout", () => {
    const int42 = [[0x01], u32(42)];
    const list1 = (count: number, size: number, off: number) => [[0x08], u32(count), u32(size), u32(off), [0x01], u32(1)];
    // the well-formed originals of what follows
    expect(decodeL(mk(int42))).toBe("42");
    expect(decodeL(mk(list1(1, 18, 13)))).toBe("[1]");
    expect(decodeL(mk([[0x05], u32(0)], ["x"]))).toBe("x");
    expect(decodeL(mk([[0x04], u32(3), [0x61, 0x62, 0x63]]))).toBe('"abc"');
    const bad: Array<[string, Uint8Array]> = [
      ["version 2", mk(int42, [], { head: [2, 0, 0, 0] })],
      ["version 0", mk(int42, [], { head: [0, 0, 0, 0] })],
      ["flags set", mk(int42, [], { head: [1, 1, 0, 0] })],
      ["reserved set", mk(int42, [], { head: [1, 0, 0, 1] })],
      ["length too small", mk(int42, [], { len: 20 })],
      ["length too large", mk(int42, [], { len: 22 })],
      ["no root", B([1, 0, 0, 0], u32(16), u32(0), u32(16))],
      ["unknown tag", mk([[0x0b], u32(42)])],
      ["tag 0", mk([[0x00], u32(42)])],
      ["units end before the symbol table", mk([...int42, [0x00]])],
      ["unit runs into the symbol table", mk(int42, [], { symtab: 19 })],
      ["symbol table past the end", mk(int42, [], { symtab: 22 })],
      ["symbol id out of range", mk([[0x05], u32(1)], ["x"])],
      ["symbol entry past the end", mk([[0x05], u32(0)], ["x"], { nameLen: 2 })],
      ["symbol entry length huge", mk([[0x05], u32(0)], ["x"], { nameLen: 0xffffffff })],
      ["symbol entry inside the offsets", mk([[0x05], u32(0)], ["x"], { entryOffsets: [21] })],
      ["symbol entry before the table", mk([[0x05], u32(0)], ["x"], { entryOffsets: [16] })],
      ["symbol count too large", mk([[0x05], u32(0)], ["x"], { nsym: 0x40000000 })],
      ["string length past the units", mk([[0x04], u32(4), [0x61, 0x62, 0x63]])],
      ["string length huge", mk([[0x04], u32(0xffffffff), [0x61, 0x62, 0x63]])],
      ["list size too small", mk(list1(1, 9, 13))],
      ["list size too large", mk([...list1(1, 19, 13), [0x00]])],
      ["list size past the units", mk(list1(1, 99, 13))],
      ["child offset wrong", mk(list1(1, 18, 12))],
      ["child offset past the list", mk(list1(1, 18, 99))],
      ["list count huge", mk(list1(0x40000000, 18, 13))],
      ["list count too large", mk(list1(2, 18, 13))],
      ["empty list with a size", mk([[0x08], u32(0), u32(14), [0x01], u32(1)])],
      ["quote of nothing", mk([[0x09]])],
      ["error of nothing", mk([[0x0a, 0x0a]])],
      ["two roots", mk([...int42, ...int42])],
    ];
    for (const [name, buf] of bad) expect(decodeL(buf), name).toBe("ERROR invalid buffer");
    expect(decodeL(new Uint8Array(0))).toBe("ERROR invalid buffer");
    expect(decodeL(mk(int42))).toBe("42");
  });

  it("swapped child offsets are caught (each must point right after the previous child)", () => {
    const b = unhex(encodeHex("[1 2]"));
    expect(decodeL(b)).toBe("{[1 2]}");
    const dv = new DataView(b.buffer);
    const list = 16 + dv.getUint32(25, true);
    const a = dv.getUint32(list + 9, true);
    dv.setUint32(list + 9, dv.getUint32(list + 13, true), true);
    dv.setUint32(list + 13, a, true);
    expect(decodeL(b)).toBe("ERROR invalid buffer");
  });

  it("a nesting deeper than any text can give is refused or printed whole, never a trap", () => {
    for (const depth of [65, 66, 67, 70, 200, 2000]) {
      const parts: number[][] = [];
      // DATA chain: each list holds one child, the next list
      for (let d = 0; d < depth; d++) {
        const size = 13 * (depth - 1 - d) + 9; // header + offset per enclosing level, the innermost empty list
        if (d === depth - 1) parts.push([0x08, ...u32(0), ...u32(9)]);
        else parts.push([0x08, ...u32(1), ...u32(size), ...u32(13)]);
      }
      const units = Uint8Array.from(parts.flat());
      const len = 16 + units.length;
      const buf = concat(B([1, 0, 0, 0], u32(len), u32(0), u32(len)), units);
      const r = decodeL(buf);
      if (r !== "ERROR invalid buffer") expect(r).toBe("[".repeat(depth) + "]".repeat(depth));
      if (depth > 66) expect(r, `depth ${depth}`).toBe("ERROR invalid buffer");
    }
    expect(decodeL(unhex(encodeHex("[[[]]]")))).toBe("{[[[]]]}");
  });
});

// ---------------------------------------------------------------------------------------

describe("test/vectors/slp-buffer.json", () => {
  // The canonical form of each vector's text, by hand (SPEC.md section 3).
  const CANON: Record<string, string> = {
    "": "",
    " ; nothing but a comment\n": "",
    "0": "0",
    "42": "42",
    "-1": "-1",
    "2147483647": "2147483647",
    "-2147483648": "-2147483648",
    "2147483648": "2147483648",
    "-2147483649": "-2147483649",
    "9223372036854775807": "9223372036854775807",
    "-9223372036854775808": "-9223372036854775808",
    "42 -2147483649": "42 -2147483649",
    "1.5": "1.5",
    "-0.0": "-0.0",
    "[1.5 -0.0]": "[1.5 -0.0]",
    "1e-400": "0.0",
    "5e-324": "5e-324",
    "1.7976931348623157e308": "1.7976931348623157e+308",
    "0.1": "0.1",
    '""': '""',
    '"hi"': '"hi"',
    '"a\\"b\\\\c\\n\\t\\r\\0\\x7f\\xff"': '"a\\"b\\\\c\\n\\t\\r\\x00\\x7f\xff"',
    '"\xc3\xa9\xe2\x9c\x93"': '"\xc3\xa9\xe2\x9c\x93"',
    '"line one\nline two"': '"line one\\nline two"',
    x: "x",
    "x x": "x x",
    "(a b a)": "(a b a)",
    "(a b a c b)": "(a b a c b)",
    "[x y] (x y) {y x}": "[x y] (x y) {y x}",
    "core/kv/set core/kv/set core/kv/get": "core/kv/set core/kv/set core/kv/get",
    "\xc3\xa9t\xc3\xa9": "\xc3\xa9t\xc3\xa9",
    "()": "()",
    "{}": "{}",
    "[]": "[]",
    "() {} []": "() {} []",
    "(a (b [c {d}]) e)": "(a (b [c {d}]) e)",
    "[[[]]]": "[[[]]]",
    "[1 [2 [3]] 4]": "[1 [2 [3]] 4]",
    '[1 "two" 3.0 four (5) {6} [7]]': '[1 "two" 3.0 four (5) {6} [7]]',
    "'x": "'x",
    "@x": "@x",
    '@"boom"': '@"boom"',
    "''x": "''x",
    "@'(a)": "@'(a)",
    "[@x 'y]": "[@x 'y]",
    "['q @\"e\" \"\"]": "['q @\"e\" \"\"]",
    "'(core/kv/get k)": "'(core/kv/get k)",
    '(core/kv/set k "v") (core/kv/get k)': '(core/kv/set k "v") (core/kv/get k)',
    "(core/event/sub A 1 {(core/util/log $data)}) (core/event/pub A 1 [1 2])":
      "(core/event/sub A 1 {(core/util/log $data)}) (core/event/pub A 1 [1 2])",
    ["[".repeat(64) + "]".repeat(64)]: "[".repeat(64) + "]".repeat(64),
  };

  it("covers every unit type, both integer widths, dedup, prefixes, escapes and the empty root", () => {
    expect(FILE.version).toBe(1);
    const tags = new Set<number>();
    for (const v of FILE.vectors) for (const t of readSlp(unhex(v.hex)).tags) tags.add(t);
    expect([...tags].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(FILE.vectors.find((v) => v.text === "")!.hex).toBe("01000000190000000000000019000000070000000009000000");
    expect(Object.keys(CANON).sort()).toEqual(FILE.vectors.map((v) => v.text).sort());
  });

  it("the image builds exactly the recorded bytes", () => {
    for (const v of FILE.vectors) expect(encodeHex(v.text), JSON.stringify(v.text)).toBe(v.hex);
  });

  it("every vector reads back by the documented layout, names stored once", () => {
    for (const v of FILE.vectors) {
      const r = readSlp(unhex(v.hex));
      expect(r.print, JSON.stringify(v.text)).toBe(`{${CANON[v.text]}}`);
    }
    const sym = (t: string) => readSlp(unhex(FILE.vectors.find((v) => v.text === t)!.hex)).symbols;
    expect(sym("x x")).toEqual(["x"]);
    expect(sym("(a b a c b)")).toEqual(["a", "b", "c"]);
    expect(sym("[x y] (x y) {y x}")).toEqual(["x", "y"]);
    expect(sym("core/kv/set core/kv/set core/kv/get")).toEqual(["core/kv/set", "core/kv/get"]);
    expect(sym("42")).toEqual([]);
  });

  it("sxs_decode of each vector prints its canonical form, and that form encodes to a buffer that prints the same", () => {
    for (const v of FILE.vectors) {
      const want = `{${CANON[v.text]}}`;
      expect(decodeL(unhex(v.hex)), JSON.stringify(v.text)).toBe(want);
      expect(decodeL(unhex(encodeHex(CANON[v.text]!)))).toBe(want);
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("sxs_decode trusts nothing", () => {
  const CORRUPT = ["(a b a)", "['q @\"e\" \"\"]", "(a (b [c {d}]) e)", '"a\\"b\\\\c\\n\\t\\r\\0\\x7f\\xff"', "[1.5 -0.0]", "[x y] (x y) {y x}"];

  it("every truncation and extension is rejected", () => {
    for (const t of CORRUPT) {
      const b = unhex(encodeHex(t));
      for (let n = 0; n < b.length; n++) expect(decodeL(b.subarray(0, n)), `${t} cut to ${n}`).toBe("ERROR invalid buffer");
      expect(decodeL(concat(b, B([0])))).toBe("ERROR invalid buffer");
    }
  });

  it("every single-byte corruption is rejected as `invalid buffer` or decodes without trapping", () => {
    const before = raw.stat(1);
    let rejected = 0;
    let accepted = 0;
    for (const t of CORRUPT) {
      const good = unhex(encodeHex(t));
      const goodPrint = decodeL(good);
      for (let i = 0; i < good.length; i++) {
        const o = good[i]!;
        const values = new Set([o ^ 0x01, o ^ 0x80, o ^ 0xff, 0x00, 0xff, (o + 1) & 255, (o - 1) & 255, 0x7f, 0x40]);
        values.delete(o);
        for (const v of values) {
          const b = good.slice();
          b[i] = v;
          const r = raw.decode(b);
          if (r.ok) {
            accepted++;
            // the header is fully checked: no change there can pass
            expect(i, `${t}: byte ${i} = ${v} accepted`).toBeGreaterThanOrEqual(8);
            // what decodes is a well-formed buffer by the documented layout too
            expect(latin1(r.bytes)).toBe(readSlp(b, false).print);
          } else {
            rejected++;
            expect(r.error).toBe("invalid buffer");
          }
        }
      }
      expect(decodeL(good)).toBe(goodPrint);
    }
    expect(rejected).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(50); // e.g. a changed digit of a number, a letter of a name
    // decoding leaks nothing
    expect(raw.stat(1)).toBe(before);
  });

  it("random garbage never traps", () => {
    const r = prng(99);
    for (let i = 0; i < 3000; i++) {
      const n = r.int(80);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = r.int(256);
      if (n >= 16 && r.chance(0.7)) {
        // a plausible header so that the walk gets going
        b.set([1, 0, 0, 0], 0);
        new DataView(b.buffer).setUint32(4, n, true);
        if (r.chance(0.5)) new DataView(b.buffer).setUint32(8, 0, true);
        new DataView(b.buffer).setUint32(12, 16 + r.int(n - 15), true);
      }
      const d = raw.decode(b);
      if (!d.ok) expect(d.error).toBe("invalid buffer");
    }
    expect(decodeL(bytes("\x01\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x15\x00\x00\x00\x01\x07\x00\x00\x00"))).toBe("7");
  });
});
