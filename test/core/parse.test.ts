// The parser and the printer (assembly/slp/parse.ts, print.ts; SPEC.md sections 1 and 3).
//
// Parsing is reached without evaluation: sxs_encode (the buffer, or the parse error),
// sxs_split (form ranges, or the parse error) and a request's own text (its parse error is
// the request's result). Printing is reached through sxs_decode (the canonical print of a
// buffer) and through request results.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VirtualBoard } from "../../host/board/virtual-board.js";
import {
  NUMBER_RE, RawImage, bytes, canonReal, canonString, closeBoards, execL, latin1, newBoard, prng, record,
  requireImage, utf8, type Rng,
} from "./helpers.js";

beforeAll(requireImage);
afterEach(closeBoards);

let raw: RawImage;
beforeAll(async () => {
  raw = await RawImage.create({ 3: 1 << 20 }); // MAX_INPUT 1 MiB: big generated texts
});

const T = { INT32: 1, INT64: 2, REAL: 3, STRING: 4, SYMBOL: 5, CALL: 6, BODY: 7, DATA: 8, QUOTE: 9, ERROR: 10 } as const;

/** The buffer sxs_encode builds for text (fails the test on a parse error). */
function enc(text: string | Uint8Array): Uint8Array {
  const r = raw.encode(text);
  if (!r.ok) throw new Error(`unexpected parse error ${r.error} for ${JSON.stringify(typeof text === "string" ? text : latin1(text))}`);
  return r.bytes;
}

/** Absolute position of child i of the list unit at p. */
function child(buf: Uint8Array, p: number, i: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset);
  return p + dv.getUint32(p + 9 + 4 * i, true);
}

/** The tag of the first top-level form. */
function firstTag(text: string | Uint8Array): number {
  const b = enc(text);
  return b[child(b, 16, 0)]!;
}

// ---------------------------------------------------------------------------------------

describe("tokens", () => {
  // [text, canonical print of the one form, unit tag]
  const cases: Array<[string, string, number]> = [
    // integers: [+-]?D+, 64-bit; INT32 when they fit in 32 bits
    ["42", "42", T.INT32],
    ["-7", "-7", T.INT32],
    ["+5", "5", T.INT32],
    ["-0", "0", T.INT32],
    ["+0", "0", T.INT32],
    ["007", "7", T.INT32],
    ["0000000000000000000000000000009", "9", T.INT32],
    ["-00000000000000000000002147483649", "-2147483649", T.INT64],
    ["2147483647", "2147483647", T.INT32],
    ["2147483648", "2147483648", T.INT64],
    ["-2147483648", "-2147483648", T.INT32],
    ["-2147483649", "-2147483649", T.INT64],
    ["9223372036854775807", "9223372036854775807", T.INT64],
    ["+9223372036854775807", "9223372036854775807", T.INT64],
    ["-9223372036854775808", "-9223372036854775808", T.INT64],
    // reals: a '.' or an exponent
    ["3.14", "3.14", T.REAL],
    ["-5.67e-3", "-0.00567", T.REAL],
    [".5", "0.5", T.REAL],
    ["+.5", "0.5", T.REAL],
    ["-.5e3", "-500.0", T.REAL],
    ["1.", "1.0", T.REAL],
    ["1.e5", "100000.0", T.REAL],
    ["2E10", "20000000000.0", T.REAL],
    ["1e+2", "100.0", T.REAL],
    ["1E-2", "0.01", T.REAL],
    ["3.0", "3.0", T.REAL],
    ["0.5", "0.5", T.REAL],
    ["1e16", "10000000000000000.0", T.REAL],
    ["0.00001", "0.00001", T.REAL],
    ["1e-7", "1e-7", T.REAL],
    ["1.5e-7", "1.5e-7", T.REAL],
    ["0.000001", "0.000001", T.REAL],
    ["1e21", "1e+21", T.REAL],
    ["1e20", "100000000000000000000.0", T.REAL],
    ["9.999999999999999e20", "999999999999999900000.0", T.REAL],
    ["123e-20", "1.23e-18", T.REAL],
    ["0.0", "0.0", T.REAL],
    ["-0.0", "-0.0", T.REAL],
    ["-0e0", "-0.0", T.REAL],
    ["1e-400", "0.0", T.REAL],
    ["-1e-400", "-0.0", T.REAL],
    ["2.4703282292062328e-324", "5e-324", T.REAL],
    ["2.4703282292062327e-324", "0.0", T.REAL],
    ["5e-324", "5e-324", T.REAL],
    ["2.2250738585072014e-308", "2.2250738585072014e-308", T.REAL],
    ["1.7976931348623157e308", "1.7976931348623157e+308", T.REAL],
    ["1.7976931348623158e308", "1.7976931348623157e+308", T.REAL],
    ["9007199254740993.0", "9007199254740992.0", T.REAL],
    ["0.1e1", "1.0", T.REAL],
    ["-00.5", "-0.5", T.REAL],
    ["1e0000000000000000000000000001", "10.0", T.REAL],
    ["123456789012345678901234567890e-30", "0.12345678901234568", T.REAL],
    // symbols: any token that is not wholly a number
    ["12abc", "12abc", T.SYMBOL],
    ["user:1", "user:1", T.SYMBOL],
    ["-", "-", T.SYMBOL],
    ["+", "+", T.SYMBOL],
    [".", ".", T.SYMBOL],
    ["-.", "-.", T.SYMBOL],
    ["+e1", "+e1", T.SYMBOL],
    ["1e", "1e", T.SYMBOL],
    ["1e+", "1e+", T.SYMBOL],
    [".e5", ".e5", T.SYMBOL],
    [".5.", ".5.", T.SYMBOL],
    ["1.2.3", "1.2.3", T.SYMBOL],
    ["+-1", "+-1", T.SYMBOL],
    ["0x10", "0x10", T.SYMBOL],
    ["1_000", "1_000", T.SYMBOL],
    ["core/kv/set", "core/kv/set", T.SYMBOL],
    ["$x", "$x", T.SYMBOL],
    ["true", "true", T.SYMBOL],
    ["a'b", "a'b", T.SYMBOL],
    ["a@b", "a@b", T.SYMBOL],
    ["a\x0cb", "a\x0cb", T.SYMBOL], // form feed is not whitespace
    ["\x00\x01\x7f\x80\xff", "\x00\x01\x7f\x80\xff", T.SYMBOL],
    [latin1(utf8("ключ")), latin1(utf8("ключ")), T.SYMBOL],
    // strings and every escape
    ['"hi"', '"hi"', T.STRING],
    ['""', '""', T.STRING],
    ['"\\"\\\\\\n\\t\\r\\0"', '"\\"\\\\\\n\\t\\r\\x00"', T.STRING],
    ['"\\x41\\x4a\\x4A\\x7f\\x7F\\xff\\x00\\x1b"', '"AJJ\\x7f\\x7f\xff\\x00\\x1b"', T.STRING],
    ['"a\nb\rc\td"', '"a\\nb\\rc\\td"', T.STRING], // raw newlines are allowed
    ['"a;b(c)[d]{e}\'f@g"', '"a;b(c)[d]{e}\'f@g"', T.STRING],
    // lists
    ["(a b)", "(a b)", T.CALL],
    ["{a b}", "{a b}", T.BODY],
    ["[a b]", "[a b]", T.DATA],
    ["()", "()", T.CALL],
    ["{}", "{}", T.BODY],
    ["[]", "[]", T.DATA],
    ["(  a\t\tb\n)", "(a b)", T.CALL],
    ["[ ( ) { } [ ] ]", "[() {} []]", T.DATA],
    ["(a(b)c)", "(a (b) c)", T.CALL],
    ['[a"b"c]', '[a "b" c]', T.DATA],
    ["[1(2)3.5]", "[1 (2) 3.5]", T.DATA],
    // quote and error literals wrap the next object, after whitespace and comments
    ["'x", "'x", T.QUOTE],
    ["@x", "@x", T.ERROR],
    ['@"msg"', '@"msg"', T.ERROR],
    ["' x", "'x", T.QUOTE],
    ["'; comment\n  x", "'x", T.QUOTE],
    ["''x", "''x", T.QUOTE],
    ["@'x", "@'x", T.ERROR],
    ["'@x", "'@x", T.QUOTE],
    ["@@(a)", "@@(a)", T.ERROR],
    ["'(a 'b @c)", "'(a 'b @c)", T.QUOTE],
    ["[@\"e\" '[]]", "[@\"e\" '[]]", T.DATA],
  ];
  for (const [text, canon, tag] of cases) {
    it(`${JSON.stringify(text)} -> ${JSON.stringify(canon)}`, () => {
      expect(raw.canon(text)).toBe(`{${canon}}`);
      expect(firstTag(text)).toBe(tag);
    });
  }

  it("whitespace is space, tab, CR and LF; ';' runs to the next LF", () => {
    const text = "a\tb\rc\nd e ;comment (x) \"y\r\nf;g\n;last\n\n   ;; end without LF";
    expect(raw.canon(text)).toBe("{a b c d e f}");
    const s = raw.split(text);
    expect(s).toEqual({ ranges: [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [27, 28]] });
    expect(raw.canon(";only a comment")).toBe("{}");
    expect(raw.canon(" \t\r\n ")).toBe("{}");
    expect(raw.canon("")).toBe("{}");
  });

  it("a string keeps its bytes: escapes decoded, UTF-8 untouched", () => {
    const b = enc('"\\x00a\\n\xc3\xa9\\xFF"');
    const p = child(b, 16, 0);
    expect(b[p]).toBe(T.STRING);
    expect(new DataView(b.buffer).getUint32(p + 1, true)).toBe(6);
    expect([...b.subarray(p + 5, p + 11)]).toEqual([0x00, 0x61, 0x0a, 0xc3, 0xa9, 0xff]);
  });

  it("every byte 0..255 in a string prints per SPEC section 3, escaped or raw in the text", async () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const want = canonString(all);
    // spot checks of the model itself against the SPEC's list
    expect(want.slice(0, 9)).toBe('"\\x00\\x01');
    expect(want).toContain("\\x08\\t\\n\\x0b\\x0c\\r\\x0e");
    expect(want).toContain(' !\\"#');
    expect(want).toContain("[\\\\]");
    expect(want).toContain("}~\\x7f\x80\x81");
    expect(want.endsWith("\xfe\xff\"")).toBe(true);
    const escaped = '"' + [...all].map((c) => "\\x" + c.toString(16).padStart(2, "0")).join("") + '"';
    const upper = '"' + [...all].map((c) => "\\x" + c.toString(16).toUpperCase().padStart(2, "0")).join("") + '"';
    const rawText = '"' + [...all].map((c) => (c === 0x22 ? '\\"' : c === 0x5c ? "\\\\" : String.fromCharCode(c))).join("") + '"';
    expect(raw.canon(escaped)).toBe(`{${want}}`);
    expect(raw.canon(upper)).toBe(`{${want}}`);
    expect(raw.canon(rawText)).toBe(`{${want}}`);
    // the buffer holds the 256 bytes
    const b = enc(escaped);
    const p = child(b, 16, 0);
    expect([...b.subarray(p + 5, p + 5 + 256)]).toEqual([...all]);
    // and a request's result prints the same bytes
    const board = await newBoard();
    expect(await execL(board, bytes(rawText))).toBe(want);
    expect(await execL(board, bytes(`[${escaped}]`))).toBe(`[${want}]`);
  });

  it("UTF-8 passes through strings, symbols and log lines", async () => {
    const s = "héllo ✓ 日本 🎉";
    expect(raw.canon(utf8(`"${s}" ${s.replace(/ /g, "_")}`))).toBe(latin1(utf8(`{"${s}" ${s.replace(/ /g, "_")}}`)));
    const board = await newBoard();
    const rec = record(board);
    expect(await board.exec(utf8(`(core/util/log "${s}" '${s.replace(/ /g, "_")}) "${s}"`))).toBe(`"${s}"`);
    expect(rec.logs).toEqual([`${s} ${s.replace(/ /g, "_")}`]);
  });
});

// ---------------------------------------------------------------------------------------

describe("parse errors (SPEC.md section 1): reason and byte offset", () => {
  const deep = (open: string, close: string, n: number) => open.repeat(n) + close.repeat(n);
  const cases: Array<[string, string]> = [
    // unclosed lists and strings: met at the end of the text, reported at the opener
    ["(", "unclosed ( at 0"],
    ["  (a (b) c", "unclosed ( at 2"],
    ["{", "unclosed { at 0"],
    ["x [1 2", "unclosed [ at 2"],
    ["((a", "unclosed ( at 1"],
    ["[{", "unclosed { at 1"],
    ["(a) [b {c} ", "unclosed [ at 4"],
    ['"abc', "unclosed string at 0"],
    ['1 "two', "unclosed string at 2"],
    ['ab "cd\\"', "unclosed string at 3"],
    ['"abc\\', "unclosed string at 0"],
    ['"ab\\x4', "unclosed string at 0"],
    ['"\\x', "unclosed string at 0"],
    ['(a "b', "unclosed string at 3"],
    ['"a;b\n', "unclosed string at 0"],
    // stray or mismatched closers, at the closer
    [")", "unexpected ) at 0"],
    ["1 2 ]", "unexpected ] at 4"],
    ["}", "unexpected } at 0"],
    ["(a]", "unexpected ] at 2"],
    ["[a)", "unexpected ) at 2"],
    ["{a]", "unexpected ] at 2"],
    ["(a}", "unexpected } at 2"],
    ["(a) )", "unexpected ) at 4"],
    ["[(])", "unexpected ] at 2"],
    // invalid escapes, at the backslash
    ['"\\q"', "invalid escape at 1"],
    ['"\\a"', "invalid escape at 1"],
    ['"\\N"', "invalid escape at 1"],
    ['"\\ "', "invalid escape at 1"],
    ['"\\X41"', "invalid escape at 1"],
    ['"\\xg0"', "invalid escape at 1"],
    ['"\\x4"', "invalid escape at 1"],
    ['"ok" "a\\x4g"', "invalid escape at 7"],
    [latin1(utf8('"é\\q"')), "invalid escape at 3"],
    // numbers out of range, at the start of the token
    ["9223372036854775808", "integer out of range at 0"],
    ["-9223372036854775809", "integer out of range at 0"],
    ["(1 +9223372036854775808)", "integer out of range at 3"],
    ["[x 18446744073709551616]", "integer out of range at 3"],
    ["  99999999999999999999999999999", "integer out of range at 2"],
    ["1e309", "real out of range at 0"],
    ["[0 -1.8e308]", "real out of range at 3"],
    ["1.7976931348623159e308", "real out of range at 0"],
    ["x 123e99999999999999999999", "real out of range at 2"],
    // nothing to quote: the text or the enclosing list ends first
    ["'", "nothing to quote at 0"],
    ["x @", "nothing to quote at 2"],
    ["' ; comment", "nothing to quote at 0"],
    ["(a ')", "nothing to quote at 3"],
    ["[@]", "nothing to quote at 1"],
    ["{'  }", "nothing to quote at 1"],
    ["'(b @ ; comment\n)", "nothing to quote at 4"],
    ["('", "nothing to quote at 1"],
    // nesting: a list at level 65 fails at its opening character; quotes are not levels
    ["[".repeat(65) + "]".repeat(65), "nesting too deep at 64"],
    ["  " + "{".repeat(65), "nesting too deep at 66"],
    ["'" + deep("(", ")", 65), "nesting too deep at 65"],
    ["(".repeat(32) + "[".repeat(32) + "{}" + "]".repeat(32) + ")".repeat(32), "nesting too deep at 64"],
    ["'(".repeat(65) + ")".repeat(65), "nesting too deep at 129"],
    // reading left to right, the first error met is reported
    ['("x\\q', "invalid escape at 3"],
    [") (", "unexpected ) at 0"],
    ["(99999999999999999999", "integer out of range at 1"],
    ['(a "\\q" 1e999)', "invalid escape at 4"],
    ['(1e999 "\\q")', "real out of range at 1"],
    ['(a ] "\\q', "unexpected ] at 3"],
    ["(".repeat(65) + '"\\q"', "nesting too deep at 64"],
    ['(core/util/log "never") )', "unexpected ) at 24"],
    ['(core/util/log "never") (', "unclosed ( at 24"],
  ];

  it("sxs_encode, sxs_split and a request agree on every error", async () => {
    const board = await newBoard();
    const rec = record(board);
    const results = await Promise.all(cases.map(([text]) => execL(board, bytes(text))));
    cases.forEach(([text, reason], i) => {
      const want = `@"parse: ${reason}"`;
      const label = JSON.stringify(text.length > 80 ? text.slice(0, 80) + "..." : text);
      expect(raw.encode(text), label).toEqual({ ok: false, error: want });
      expect(raw.split(text), label).toEqual({ error: want });
      expect(results[i], label).toBe(want);
    });
    // the whole text is parsed before any of it runs
    expect(rec.logs).toEqual([]);
  });

  it("64 levels parse, of every kind", () => {
    for (const [o, c] of [["(", ")"], ["[", "]"], ["{", "}"]]) {
      const text = deep(o!, c!, 64);
      expect(raw.canon(text)).toBe(`{${text}}`);
    }
    const mixed = "'(".repeat(32) + "@[".repeat(32) + "]".repeat(32) + ")".repeat(32);
    expect(raw.canon(mixed)).toBe(`{${mixed}}`);
  });

  it("input too large: longer than MAX_INPUT, reported at MAX_INPUT before anything else", async () => {
    const small = await RawImage.create({ 3: 64 });
    const ok = "[" + "a ".repeat(31) + "]"; // 64 bytes
    expect(ok.length).toBe(64);
    expect(small.canon(ok)).toBe(`{[${"a ".repeat(30)}a]}`);
    for (const text of [ok + " ", ")".repeat(65), '"' + "x".repeat(100)]) {
      expect(small.encode(text)).toEqual({ ok: false, error: '@"parse: input too large at 64"' });
    }
    // sxs_split cuts source files, not requests: its limit is MAX_SOURCE (1 MiB, docs/abi.md)
    expect(small.split(ok + " ")).toEqual({ ranges: [[0, 64]] });
    expect(small.split(")".repeat(65))).toEqual({ error: '@"parse: unexpected ) at 0"' });
    const source = "x ".repeat(1 << 19); // exactly 1 MiB
    expect((small.split(source) as { ranges: unknown[] }).ranges.length).toBe(1 << 19);
    expect(small.split(source + ")")).toEqual({ error: '@"parse: input too large at 1048576"' });
    const board = await newBoard({ maxInput: 64 });
    expect(await board.exec(ok)).toBe(`[${"a ".repeat(30)}a]`);
    expect(await board.exec(ok + " ")).toBe('@"parse: input too large at 64"');
    // the default MAX_INPUT is 16 KiB
    const def = await newBoard();
    const pad = (n: number) => '"' + "x".repeat(n - 2) + '"';
    expect(await def.exec(pad(16384))).toBe(pad(16384));
    expect(await def.exec(pad(16385))).toBe('@"parse: input too large at 16384"');
    expect(await def.exec("1")).toBe("1");
  });
});

// ---------------------------------------------------------------------------------------
// Generated objects: a model of SPEC.md sections 1 and 3

type Obj =
  | { k: "int"; v: bigint }
  | { k: "real"; v: number }
  | { k: "str"; b: Uint8Array }
  | { k: "sym"; s: string }
  | { k: "list"; open: "(" | "{" | "["; items: Obj[] }
  | { k: "pre"; p: "'" | "@"; o: Obj };

const CLOSE = { "(": ")", "{": "}", "[": "]" } as const;

function canon(o: Obj): string {
  switch (o.k) {
    case "int":
      return o.v.toString();
    case "real":
      return canonReal(o.v);
    case "str":
      return canonString(o.b);
    case "sym":
      return o.s;
    case "list":
      return o.open + o.items.map(canon).join(" ") + CLOSE[o.open];
    case "pre":
      return o.p + canon(o.o);
  }
}

const SPECIAL_REALS = [
  0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308,
  1e21, 1e-7, 9.999999999999999e-8, 9.999999999999999e20, 1e-6, 123456789.123, 0.1, 0.2, 0.30000000000000004, 1 / 3,
  2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 100, 1e100, 1.5, -2.5, Math.PI, Math.E,
];

function randomReal(r: Rng): number {
  switch (r.int(4)) {
    case 0:
      return r.pick(SPECIAL_REALS);
    case 1: {
      // any finite double from random bits
      const dv = new DataView(new ArrayBuffer(8));
      for (;;) {
        dv.setUint32(0, r.u32());
        dv.setUint32(4, r.u32());
        const x = dv.getFloat64(0);
        if (Number.isFinite(x)) return x;
      }
    }
    case 2:
      return (r.int(2000001) - 1000000) / 10 ** r.int(12);
    default:
      return (r() - 0.5) * 10 ** (r.int(60) - 30);
  }
}

function randomInt(r: Rng): bigint {
  switch (r.int(4)) {
    case 0:
      return r.pick([0n, 1n, -1n, 2147483647n, 2147483648n, -2147483648n, -2147483649n, 9223372036854775807n, -9223372036854775808n]);
    case 1: {
      const hi = BigInt(r.u32());
      const lo = BigInt(r.u32());
      return BigInt.asIntN(64, (hi << 32n) | lo);
    }
    case 2:
      return BigInt(r.u32() | 0);
    default:
      return BigInt(r.int(2000) - 1000);
  }
}

const SYM_FIRST = "abcxyzABCXYZ!#$%&*+-./:<=>?^_|~,0123456789\x80\xa0\xc3\xe9\xff\x01\x1f\x7f\x00";
const SYM_REST = SYM_FIRST + "'@";

function randomSymbol(r: Rng): string {
  for (;;) {
    let s = r.pick([...SYM_FIRST]);
    const n = r.int(10);
    for (let i = 0; i < n; i++) s += r.pick([...SYM_REST]);
    if (!NUMBER_RE.test(s)) return s;
  }
}

function randomBytes(r: Rng, n: number, alphabet?: number[]): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = alphabet ? r.pick(alphabet) : r.int(256);
  return b;
}

function genObj(r: Rng, depth: number, budget: { n: number }): Obj {
  budget.n--;
  const roll = r.int(depth < 64 && budget.n > 0 ? 12 : 8);
  switch (roll) {
    case 0:
    case 1:
      return { k: "int", v: randomInt(r) };
    case 2:
    case 3:
      return { k: "real", v: randomReal(r) };
    case 4:
      return { k: "str", b: randomBytes(r, r.int(12), r.chance(0.5) ? undefined : [...utf8("aé✓\"\\\n\t\r ;()")]) };
    case 5:
    case 6:
      return { k: "sym", s: randomSymbol(r) };
    case 7:
    case 8:
      return { k: "pre", p: r.pick(["'", "@"] as const), o: genObj(r, depth, budget) };
    default: {
      const open = r.pick(["(", "{", "["] as const);
      const n = r.chance(0.15) ? 0 : 1 + r.int(5);
      const items: Obj[] = [];
      for (let i = 0; i < n; i++) items.push(genObj(r, depth + 1, budget));
      return { k: "list", open, items };
    }
  }
}

/** A chain of lists `depth` deep (quotes and errors between, which are not levels). */
function genDeep(r: Rng, depth: number): Obj {
  let o: Obj = r.chance(0.5) ? { k: "sym", s: "leaf" } : { k: "list", open: r.pick(["(", "{", "["] as const), items: [] };
  for (let d = depth - (o.k === "list" ? 1 : 0); d > 0; d--) {
    const items: Obj[] = [o];
    if (r.chance(0.3)) items.unshift({ k: "int", v: BigInt(d) });
    if (r.chance(0.3)) items.push({ k: "str", b: utf8(`d${d}`) });
    o = { k: "list", open: r.pick(["(", "{", "["] as const), items };
    if (r.chance(0.2)) o = { k: "pre", p: r.pick(["'", "@"] as const), o };
  }
  return o;
}

function blank(r: Rng): string {
  switch (r.int(8)) {
    case 0:
      return "\t";
    case 1:
      return "\n";
    case 2:
      return "\r\n  ";
    case 3:
      return " ; a comment (with \"stuff\") \xff\n";
    default:
      return " ";
  }
}

/** A text that is not canonical but parses to the same object. */
function write(o: Obj, r: Rng): string {
  switch (o.k) {
    case "int": {
      const neg = o.v < 0n;
      const digits = (neg ? -o.v : o.v).toString();
      const zeros = r.chance(0.2) ? "0".repeat(1 + r.int(25)) : "";
      const sign = neg ? "-" : r.chance(0.3) ? "+" : "";
      return sign + zeros + digits;
    }
    case "real": {
      const x = o.v;
      if (Object.is(x, -0)) return r.pick(["-0.0", "-0e0", "-.0E+5", "-0.", "-00.000e-3"]);
      switch (r.int(4)) {
        case 0:
          return x.toExponential();
        case 1:
          return x.toExponential().toUpperCase();
        case 2:
          return x.toExponential(20);
        default:
          return canonReal(x);
      }
    }
    case "str": {
      let s = '"';
      for (const c of o.b) {
        if (c === 0x22) s += r.chance(0.5) ? '\\"' : "\\x22";
        else if (c === 0x5c) s += r.chance(0.5) ? "\\\\" : "\\x5C";
        else if (c === 0x0a && r.chance(0.5)) s += "\\n";
        else if (c === 0x00 && r.chance(0.5)) s += "\\0";
        else if (r.chance(0.3)) s += "\\x" + (r.chance(0.5) ? c.toString(16).toUpperCase() : c.toString(16)).padStart(2, "0");
        else s += String.fromCharCode(c);
      }
      return s + '"';
    }
    case "sym":
      return o.s;
    case "list": {
      const lead = r.chance(0.3) ? blank(r) : "";
      const trail = r.chance(0.3) ? blank(r) : "";
      return o.open + lead + o.items.map((i) => write(i, r)).join(blank(r)) + trail + CLOSE[o.open];
    }
    case "pre":
      return o.p + (r.chance(0.3) ? blank(r) : "") + write(o.o, r);
  }
}

describe("print then parse: the canonical form is a fixed point", () => {
  it("a few hundred generated objects (seeded)", () => {
    const r = prng(0x5eed);
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const forms: Obj[] = [];
      const n = 1 + r.int(3);
      for (let j = 0; j < n; j++) forms.push(i % 20 === 0 ? genDeep(r, 64) : genObj(r, 1, { n: 40 }));
      const want = "{" + forms.map(canon).join(" ") + "}";
      const text = forms.map((f) => write(f, r)).join(blank(r));
      const once = raw.canon(text);
      expect(once, JSON.stringify(text)).toBe(want);
      // print(parse(print(parse(x)))) == print(parse(x))
      expect(raw.canon(once.slice(1, -1))).toBe(once);
      expect(raw.canon(forms.map(canon).join(" "))).toBe(want);
      checked++;
    }
    expect(checked).toBe(400);
  });

  it("many tokens (the units scratch and the offset stack grow past their first sizes): each comes out right, in lists and out", () => {
    const r = prng(128);
    const pick = (): string => {
      switch (r.int(7)) {
        case 0: return `s${r.int(50)}`; // a symbol, often repeated
        case 1: return String(r.int(2000) - 1000); // a 32-bit integer
        case 2: return String(5000000000 + r.int(1000)); // a wider one
        case 3: return `${r.int(100)}.5`; // a real
        case 4: return `"t${r.int(9)}"`; // a string between them
        case 5: return `'q${r.int(9)}`; // a quoted symbol
        default: return `(s${r.int(5)} ${r.int(10)})`; // a list of two more
      }
    };
    for (const n of [127, 128, 129, 400]) {
      const tokens = Array.from({ length: n }, pick);
      expect(raw.canon(tokens.join(" "))).toBe(`{${tokens.join(" ")}}`);
      expect(raw.canon(`[${tokens.join(" ")}]`)).toBe(`{[${tokens.join(" ")}]}`);
    }
  });

  it("empty lists of each kind, quotes and errors nested", () => {
    const text = "() {} [] '() @{} '@[] @'() [() {} []] {[] ()} (() ([]) {{}}) '[@\"e\" '@x @@[] ''()] @(@(@()))";
    expect(raw.canon(text)).toBe(`{${text}}`);
    expect(raw.canon(" ( ) { \n} [\t] ' ( ) @ { } ")).toBe("{() {} [] '() @{}}");
  });

  it("deep nesting up to 64, with quotes and errors between the levels", () => {
    const r = prng(64);
    for (let i = 0; i < 20; i++) {
      const o = genDeep(r, 64);
      expect(raw.canon(write(o, r))).toBe(`{${canon(o)}}`);
    }
  });

  it("reals across the range print as ECMAScript's String(x) with .0, and parse to the nearest double", () => {
    const r = prng(1e6);
    const xs: number[] = [...SPECIAL_REALS];
    for (let i = 0; i < 3000; i++) xs.push(randomReal(r));
    // several spellings of each; all parse to the same double as Number() does
    const spellings = xs
      .map((x, i) => [canonReal(x), x.toExponential(), x.toPrecision(1 + (i % 21)), x.toExponential(i % 21)][i % 4]!)
      // toPrecision may give a plain integer, or round the largest doubles up to infinity
      .map((s, i) => (!Number.isFinite(Number(s)) ? canonReal(xs[i]!) : /[.e]/.test(s) ? s : s + ".0"));
    const text = "[" + spellings.join(" ") + "]";
    const b = enc(text);
    const dv = new DataView(b.buffer);
    const list = child(b, 16, 0);
    expect(b[list]).toBe(T.DATA);
    spellings.forEach((s, i) => {
      const p = child(b, list, i);
      const want = Number(s);
      expect(b[p], s).toBe(T.REAL);
      expect(Object.is(dv.getFloat64(p + 1, true), want), `${s}: ${dv.getFloat64(p + 1, true)} vs ${want}`).toBe(true);
    });
    const printed = raw.canon(text).slice(2, -2).split(" ");
    expect(printed).toEqual(spellings.map((s) => canonReal(Number(s))));
  });

  it("long decimal mantissas round correctly (vs Number())", () => {
    const r = prng(77);
    const texts: string[] = [];
    for (let i = 0; i < 600; i++) {
      let m = "";
      const n = 1 + r.int(40);
      for (let j = 0; j < n; j++) m += String(r.int(10));
      const dot = r.int(n + 1);
      const t = (r.chance(0.5) ? "-" : "") + m.slice(0, dot) + "." + m.slice(dot) + (r.chance(0.7) ? "e" + (r.int(640) - 330) : "");
      if (!Number.isFinite(Number(t)) || t === "." || t === "-." || /^-?\.e/.test(t)) continue;
      texts.push(t);
    }
    const printed = raw.canon("[" + texts.join(" ") + "]").slice(2, -2).split(" ");
    expect(printed).toEqual(texts.map((t) => canonReal(Number(t))));
  });

  it("request results print like sxs_decode (data lists evaluate to themselves)", async () => {
    const board = await newBoard({ maxInput: 1 << 20 });
    const r = prng(4242);
    for (let i = 0; i < 60; i++) {
      const o: Obj = { k: "list", open: "[", items: [genObj(r, 2, { n: 30 }), genObj(r, 2, { n: 30 })] };
      expect(await execL(board, bytes(write(o, r)))).toBe(canon(o));
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("the parser never traps", () => {
  it("2,000 random byte strings: each answered by a value or an error, the board keeps serving", async () => {
    const r = prng(2000);
    const alphabet = [...bytes("()[]{}\"'@;\\ \n\txa1.e-+$0\x80\xff")];
    const texts: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = r.int(i % 2 ? 300 : 120);
      texts.push(randomBytes(r, n, i % 2 ? alphabet : undefined));
    }
    const board: VirtualBoard = await newBoard();
    const results = await Promise.all(texts.map((t) => execL(board, t)));
    let errors = 0;
    texts.forEach((t, i) => {
      const e = raw.encode(t);
      const s = raw.split(t);
      if (!e.ok) {
        errors++;
        expect(e.error).toMatch(/^@"parse: (unclosed [([{]|unclosed string|unexpected [)\]}]|invalid escape|integer out of range|real out of range|nothing to quote|nesting too deep) at \d+"$/);
        expect(s).toEqual({ error: e.error });
        // a request's parse error is its result, and nothing of it runs
        expect(results[i]).toBe(e.error);
      } else {
        expect("ranges" in s).toBe(true);
        const count = new DataView(e.bytes.buffer).getUint32(17, true);
        expect((s as { ranges: unknown[] }).ranges.length).toBe(count);
        expect(raw.decode(e.bytes).ok).toBe(true);
      }
    });
    expect(errors).toBeGreaterThan(500);
    expect(errors).toBeLessThan(2000);
    expect(board.alive).toBe(true);
    expect(await board.exec("(core/kv/set a 1) (core/kv/get a)")).toBe("1");
    expect(raw.canon("(still fine)")).toBe("{(still fine)}");
  }, 30_000);
});

afterAll(() => {
  /* raw instances are garbage collected */
});
