// The K/V store and its commands (assembly/kv/store.ts, assembly/eval/cmd_kv.ts;
// SPEC.md sections 4, 5 and 9): set/get/del/exists/snx/cas, structural equality,
// iterate windows, MAX_KEY, MAX_VALUE, store full, and order over many keys.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VirtualBoard } from "../../host/board/virtual-board.js";
import { Stat } from "../../host/image/image.js";
import { bytes, closeBoards, execL, latin1, newBoard, prng, record, requireImage } from "./helpers.js";

beforeAll(requireImage);
afterEach(closeBoards);

/** A string literal for bytes (latin1), every non-printable byte as \xHH. */
function lit(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c === 0x22 || c === 0x5c) out += "\\" + ch;
    else if (c < 0x20 || c >= 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

describe("set, get, del, exists", () => {
  it("keeps the type of what is stored", async () => {
    const b = await newBoard();
    const cases: Array<[string, string]> = [
      ["42", "42"],
      ["-7", "-7"],
      ["2147483648", "2147483648"],
      ["-9223372036854775808", "-9223372036854775808"],
      ["1.5", "1.5"],
      ["3.0", "3.0"],
      ["-0.0", "-0.0"],
      ['"str"', '"str"'],
      ['""', '""'],
      ['"a\\n\\x00\\xff"', '"a\\n\\x00\xff"'],
      ["sym", "sym"],
      ["'sym", "sym"],
      ["true", "true"],
      ["[1 two \"3\" 4.0 [5]]", '[1 two "3" 4.0 [5]]'],
      ["{(core/util/log x) y}", "{(core/util/log x) y}"],
      ["'(core/kv/get k)", "(core/kv/get k)"],
      ["''x", "'x"],
      ["[@x @\"e\"]", '[@x @"e"]'],
      ["[]", "[]"],
      ["{}", "{}"],
      ["'()", "()"],
      ["(core/kv/exists nothing)", "false"],
    ];
    for (const [expr, stored] of cases) {
      expect(await execL(b, `(core/kv/set k ${expr})`), expr).toBe("true");
      expect(await execL(b, "(core/kv/get k)"), expr).toBe(stored);
    }
    // an error object can be kept only inside a list: as a value it is an error
    expect(await b.exec("(core/kv/set k @x)")).toBe("@x");
    expect(await b.exec("(core/kv/set k '@x)")).toBe("@x");
    expect(await b.exec("(core/kv/get k)")).toBe("false");
  });

  it("get, del and exists on present and missing keys", async () => {
    const b = await newBoard();
    expect(await b.exec("(core/kv/get a)")).toBe('@"core/kv/get: key not found"');
    expect(await b.exec("(core/kv/exists a)")).toBe("false");
    expect(await b.exec("(core/kv/del a)")).toBe("true");
    expect(await b.exec("(core/kv/set a 1)")).toBe("true");
    expect(await b.exec("(core/kv/exists a)")).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(1);
    expect(await b.exec("(core/kv/set a 2) (core/kv/get a)")).toBe("2");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(1);
    expect(await b.exec("(core/kv/del a)")).toBe("true");
    expect(await b.exec("(core/kv/exists a)")).toBe("false");
    expect(await b.exec("(core/kv/get a)")).toBe('@"core/kv/get: key not found"');
    expect(await b.exec("(core/kv/del a)")).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(0);
  });

  it("a stored value is a copy: later changes to its source do not reach it", async () => {
    const b = await newBoard();
    await b.exec("(core/kv/set src [1 2 3])");
    await b.exec("(core/kv/set copy (core/kv/get src))");
    await b.exec("(core/kv/set src changed)");
    expect(await b.exec("(core/kv/get copy)")).toBe("[1 2 3]");
    // values are stored with their own symbols
    await b.exec("(core/kv/set syms [alpha beta alpha (gamma {delta})])");
    expect(await b.exec("(core/kv/get syms)")).toBe("[alpha beta alpha (gamma {delta})]");
    expect(await b.exec("(core/kv/set body {(core/kv/set ran yes)}) (core/expr/eval (core/kv/get body)) (core/kv/get ran)")).toBe("yes");
  });

  it("key arguments: symbols as written, strings as bytes, anything else evaluated", async () => {
    const b = await newBoard();
    expect(await b.exec('(core/kv/set a 1) (core/kv/get "a")')).toBe("1");
    expect(await b.exec('(core/kv/set "b c" 2) (core/kv/get "b c")')).toBe("2");
    expect(await b.exec("(core/kv/set name target) (core/kv/set (core/kv/get name) 3) (core/kv/get target)")).toBe("3");
    expect(await b.exec('(core/kv/set sname "starget") (core/kv/set (core/kv/get sname) 4) (core/kv/get starget)')).toBe("4");
    expect(await execL(b, `(core/kv/set "\\x00\\xff" 5) (core/kv/get ${lit("\x00\xff")})`)).toBe("5");
    // a quoted symbol is evaluated: 'q is q
    expect(await b.exec("(core/kv/set 'q 6) (core/kv/get q)")).toBe("6");
    for (const cmd of ["set", "get", "del", "exists", "snx", "cas"]) {
      const extra = cmd === "set" || cmd === "snx" ? " 1" : cmd === "cas" ? " 1 2" : "";
      expect(await b.exec(`(core/kv/${cmd} 5${extra})`), cmd).toBe(`@"core/kv/${cmd}: key must be a symbol or string"`);
      expect(await b.exec(`(core/kv/${cmd} [k]${extra})`), cmd).toBe(`@"core/kv/${cmd}: key must be a symbol or string"`);
      // an evaluated key: (core/kv/exists nothere) gives the symbol false, the key "false"
      await b.exec("(core/kv/del false)");
      const viaCall = { set: "true", get: '@"core/kv/get: key not found"', del: "true", exists: "false", snx: "true", cas: "false" }[cmd];
      expect(await b.exec(`(core/kv/${cmd} (core/kv/exists nothere)${extra})`), cmd).toBe(viaCall);
      expect(await b.exec(`(core/kv/${cmd} 1.5${extra})`), cmd).toBe(`@"core/kv/${cmd}: key must be a symbol or string"`);
      expect(await b.exec(`(core/kv/${cmd} ""${extra})`), cmd).toBe(`@"core/kv/${cmd}: invalid key length"`);
      expect(await b.exec(`(core/kv/${cmd} $nope${extra})`), cmd).toBe('@"unbound variable: $nope"');
      expect(await b.exec(`(core/kv/${cmd} (core/kv/get nope)${extra})`), cmd).toBe('@"core/kv/get: key not found"');
    }
    expect(await b.exec("(core/kv/exists false)")).toBe("false");
    expect(await b.exec("(core/kv/set)")).toBe('@"core/kv/set: expected 2 arguments"');
    expect(await b.exec("(core/kv/set a 1 2)")).toBe('@"core/kv/set: expected 2 arguments"');
    expect(await b.exec("(core/kv/get)")).toBe('@"core/kv/get: expected 1 argument"');
    expect(await b.exec("(core/kv/get a b)")).toBe('@"core/kv/get: expected 1 argument"');
    expect(await b.exec("(core/kv/del)")).toBe('@"core/kv/del: expected 1 argument"');
    expect(await b.exec("(core/kv/exists a b)")).toBe('@"core/kv/exists: expected 1 argument"');
    expect(await b.exec("(core/kv/snx a)")).toBe('@"core/kv/snx: expected 2 arguments"');
    expect(await b.exec("(core/kv/cas a 1)")).toBe('@"core/kv/cas: expected 3 arguments"');
    expect(await b.exec("(core/kv/cas a 1 2 3)")).toBe('@"core/kv/cas: expected 3 arguments"');
    expect(await b.exec("(core/kv/iterate a 0 1)")).toBe('@"core/kv/iterate: expected 4 arguments"');
    // left to right: the key is checked before the value is evaluated
    const rec = record(b);
    expect(await b.exec('(core/kv/set 5 (core/util/log "value evaluated"))')).toBe('@"core/kv/set: key must be a symbol or string"');
    expect(rec.logs).toEqual([]);
    expect(await b.exec("(core/kv/set k $nope)")).toBe('@"unbound variable: $nope"');
  });
});

describe("snx and cas", () => {
  it("snx stores only when the key is missing, after evaluating the value", async () => {
    const b = await newBoard();
    const rec = record(b);
    expect(await b.exec("(core/kv/snx s first)")).toBe("true");
    expect(await b.exec("(core/kv/get s)")).toBe("first");
    expect(await b.exec('(core/kv/snx s (core/util/log "evaluated anyway"))')).toBe("false");
    expect(rec.logs).toEqual(["evaluated anyway"]);
    expect(await b.exec("(core/kv/get s)")).toBe("first");
    expect(await b.exec("(core/kv/snx s @boom)")).toBe("@boom");
    expect(await b.exec("(core/kv/snx new @boom)")).toBe("@boom");
    expect(await b.exec("(core/kv/exists new)")).toBe("false");
    await b.exec("(core/kv/del s)");
    expect(await b.exec("(core/kv/snx s second) (core/kv/get s)")).toBe("second");
  });

  it("cas swaps only when the key exists and equals EXPECTED; both are evaluated", async () => {
    const b = await newBoard();
    const rec = record(b);
    expect(await b.exec('(core/kv/cas c 1 (core/util/log "new evaluated"))')).toBe("false");
    expect(rec.logs).toEqual(["new evaluated"]);
    expect(await b.exec("(core/kv/exists c)")).toBe("false");
    await b.exec("(core/kv/set c 1)");
    expect(await b.exec("(core/kv/cas c 2 3)")).toBe("false");
    expect(await b.exec("(core/kv/get c)")).toBe("1");
    expect(await b.exec("(core/kv/cas c 1 3)")).toBe("true");
    expect(await b.exec("(core/kv/get c)")).toBe("3");
    expect(await b.exec("(core/kv/cas c (core/kv/get c) [4])")).toBe("true");
    expect(await b.exec("(core/kv/get c)")).toBe("[4]");
    expect(await b.exec("(core/kv/cas c @e 5)")).toBe("@e");
    expect(await b.exec("(core/kv/cas c [4] @e)")).toBe("@e");
    expect(await b.exec("(core/kv/get c)")).toBe("[4]");
  });

  // [stored, expected, equal?]: SPEC.md section 4, structural equality
  const EQ: Array<[string, string, boolean]> = [
    ["10", '"10"', false],
    ['"10"', "10", false],
    ["1", "1.0", false],
    ["1.0", "1", false],
    ["1.0", "1.0", true],
    ["1.0", "1.", true],
    ["0.0", "-0.0", false],
    ["-0.0", "0.0", false],
    ["-0.0", "-0.0", true],
    ["1e-400", "0.0", true],
    ["-1e-400", "-0.0", true],
    ["5e-324", "4.9e-324", true],
    ["0.1", "0.1", true],
    ["0.30000000000000004", "0.3", false],
    ["5", "5", true],
    ["5", "+005", true],
    ["2147483648", "2147483648", true],
    ["-9223372036854775808", "-9223372036854775808", true],
    ["5", "6", false],
    ["a", '"a"', false],
    ['"a"', "a", false],
    ["a", "'a", true],
    ["a", "b", false],
    ['""', '""', true],
    ['"a\\x00b"', '"a\\0b"', true],
    ['"ab"', '"abc"', false],
    ["[1 2]", "[1 2]", true],
    ["[1 2]", "[1 2 3]", false],
    ["[1 2 3]", "[1 2]", false],
    ["[1 [2]]", "[1 [2]]", true],
    ["[1 [2]]", "[1 [3]]", false],
    ["[1 [2]]", "[1 [2.0]]", false],
    ["[]", "[]", true],
    ["[]", "{}", false],
    ["'()", "[]", false],
    ["'(a)", "[a]", false],
    ["{a}", "[a]", false],
    ["{a}", "{a}", true],
    ["'(a b)", "'(a b)", true],
    ["[b a]", "[b a]", true],
    ["[b a]", "[a b]", false],
    ["[x \"x\"]", "[x x]", false],
    ["''x", "''x", true],
    ["''x", "'x", false],
    ["[@x]", "[@x]", true],
    ["[@x]", '[@"x"]', false],
    ["[@x]", "[x]", false],
    ["['x]", "[@x]", false],
    ["[[[]]]", "[[[]]]", true],
    ["[[[]]]", "[[[1]]]", false],
  ];
  it("structural equality: same type and contents, reals by bits", async () => {
    const b = await newBoard();
    for (const [stored, expected, equal] of EQ) {
      await b.exec(`(core/kv/set e ${stored})`);
      const label = `${stored} vs ${expected}`;
      expect(await b.exec(`(core/kv/cas e ${expected} swapped)`), label).toBe(equal ? "true" : "false");
      expect(await b.exec("(core/kv/get e)"), label).toBe(equal ? "swapped" : (await b.exec(`(core/kv/set tmp ${stored}) (core/kv/get tmp)`)));
    }
  });

  it("integers are equal whatever their width in the buffer (5 from a handler's $topic is an INT64)", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/kv/set five 5) (core/kv/set big 4294967301)");
    await b.exec(
      "(core/event/sub A 5 {(core/kv/set t $topic) (core/util/log (core/kv/cas five $topic swapped) (core/kv/cas big $topic no))})",
    );
    await b.exec("(core/event/pub A 5 0)");
    await b.drain();
    // 5 == $topic; 2^32+5 != 5 (all 64 bits compared)
    expect(rec.logs).toEqual(["true false"]);
    expect(await b.exec("(core/kv/get five)")).toBe("swapped");
    expect(await b.exec("(core/kv/get big)")).toBe("4294967301");
    // $topic was stored as it came: compare it with a literal (INT32)
    expect(await b.exec("(core/kv/get t)")).toBe("5");
    expect(await b.exec("(core/kv/cas t 5 [5])")).toBe("true");
    expect(await b.exec("(core/kv/get t)")).toBe("[5]");
  });
});

// ---------------------------------------------------------------------------------------

describe("MAX_KEY and MAX_VALUE", () => {
  it("keys of 255 bytes are fine, 256 are refused by every command", async () => {
    const b = await newBoard();
    const k255 = "k".repeat(255);
    const k256 = "k".repeat(256);
    expect(await b.exec(`(core/kv/set ${k255} 1)`)).toBe("true");
    expect(await b.exec(`(core/kv/get "${k255}")`)).toBe("1");
    expect(await b.exec(`(core/kv/exists ${k255})`)).toBe("true");
    expect(await b.exec(`(core/kv/snx ${k255} 2)`)).toBe("false");
    expect(await b.exec(`(core/kv/cas ${k255} 1 2)`)).toBe("true");
    expect(await b.exec(`(core/kv/iterate ${k255} 0 10 {(core/kv/get $key)})`)).toBe("true");
    expect(await b.exec(`(core/kv/del ${k255})`)).toBe("true");
    for (const [cmd, rest] of [["set", " 1"], ["get", ""], ["del", ""], ["exists", ""], ["snx", " 1"], ["cas", " 1 2"], ["iterate", " 0 1 {}"]]) {
      expect(await b.exec(`(core/kv/${cmd} ${k256}${rest})`)).toBe(`@"core/kv/${cmd}: invalid key length"`);
      expect(await b.exec(`(core/kv/${cmd} "${k256}"${rest})`)).toBe(`@"core/kv/${cmd}: invalid key length"`);
    }
    // 255 bytes of UTF-8 (multi-byte characters count as bytes)
    const e127 = "é".repeat(127); // 254 bytes
    expect(await b.exec(`(core/kv/set "${e127}x" 1)`)).toBe("true");
    expect(await b.exec(`(core/kv/set "${e127}é" 1)`)).toBe('@"core/kv/set: invalid key length"');
    // escapes count as the bytes they make
    expect(await b.exec(`(core/kv/set "${"\\x41".repeat(255)}" 1) (core/kv/get ${"A".repeat(255)})`)).toBe("1");
    expect(await b.exec(`(core/kv/set "${"\\x41".repeat(256)}" 1)`)).toBe('@"core/kv/set: invalid key length"');
    expect(b.stat(Stat.KV_ENTRIES)).toBe(2);
  });

  it("value too large is decided by the canonical form, for values of every shape near the limit (seeded)", async () => {
    // the store skips printing values that are surely small (4 printed bytes per encoded
    // byte at most, symbols of up to 20 bytes): whatever the shape, the answer must be
    // the one the printed length gives
    const b = await newBoard();
    const r = prng(1024);
    const atom = (): string => {
      switch (r.int(6)) {
        case 0: return `"${Array.from({ length: r.int(12) }, () => r.pick(["a", "\\x01", "\\n", '\\"', "z"])).join("")}"`;
        case 1: return String(r.int(2 ** 31) - 2 ** 30);
        case 2: return String(2 ** 40 + r.int(1000));
        case 3: return `${r.int(1000)}.25`;
        case 4: return "s".repeat(1 + r.int(30)); // symbols on both sides of 20 bytes
        default: return `'q${r.int(9)}`;
      }
    };
    const value = (n: number): string => `[${Array.from({ length: n }, () => (r.int(8) === 0 ? `(${atom()} ${atom()})` : atom())).join(" ")}]`;
    let stored = 0;
    let refused = 0;
    for (let i = 0; i < 120; i++) {
      const v = value(20 + r.int(200));
      const printed = await b.exec(`'${v}`);
      const got = await b.exec(`(core/kv/set k${i} ${v})`);
      if (printed.length <= 1024) {
        expect(got, v).toBe("true");
        expect(await b.exec(`(core/kv/get k${i})`)).toBe(printed);
        stored++;
      } else {
        expect(got, v).toBe('@"core/kv/set: value too large"');
        refused++;
      }
    }
    expect(stored).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });

  it("values of exactly 1024 bytes of canonical form are stored, 1025 are refused", async () => {
    const b = await newBoard();
    const s1024 = '"' + "x".repeat(1022) + '"';
    const s1025 = '"' + "x".repeat(1023) + '"';
    expect(await b.exec(`(core/kv/set v ${s1024})`)).toBe("true");
    expect(await b.exec("(core/kv/get v)")).toBe(s1024);
    for (const cmd of ["set", "snx"]) expect(await b.exec(`(core/kv/${cmd} w ${s1025})`)).toBe(`@"core/kv/${cmd}: value too large"`);
    expect(await b.exec(`(core/kv/cas v ${s1024} ${s1025})`)).toBe('@"core/kv/cas: value too large"');
    expect(await b.exec("(core/kv/get v)")).toBe(s1024);
    expect(await b.exec("(core/kv/exists w)")).toBe("false");
    // short raw bytes, long canonical form: \x01 prints as 4 bytes
    const esc = (n: number, tail: string) => '"' + "\\x01".repeat(n) + tail + '"';
    expect(await b.exec(`(core/kv/set e ${esc(255, "xx")})`)).toBe("true"); // 2 + 1020 + 2 = 1024
    expect(await execL(b, "(core/kv/get e)")).toBe(esc(255, "xx"));
    expect(await b.exec(`(core/kv/set e2 ${esc(255, "xxx")})`)).toBe('@"core/kv/set: value too large"'); // 258 raw bytes
    expect(await b.exec(`(core/kv/set e3 "${"\\n".repeat(511)}")`)).toBe("true"); // 2 + 1022
    expect(await b.exec(`(core/kv/set e3 "${"\\n".repeat(512)}")`)).toBe('@"core/kv/set: value too large"'); // 514 raw bytes
    // a data list of exactly 1024 and 1025
    expect(await b.exec(`(core/kv/set l [${"x".repeat(1022)}])`)).toBe("true");
    expect(await b.exec(`(core/kv/set l2 [${"x".repeat(1023)}])`)).toBe('@"core/kv/set: value too large"');
    expect(await b.exec(`(core/kv/set l3 [[${"x".repeat(1013)}] "" '()])`)).toBe("true"); // 1 + 1015 + 3 + 4 + 1
    expect(await b.exec(`(core/kv/set l3 [[${"x".repeat(1014)}] "" '()])`)).toBe('@"core/kv/set: value too large"');
    // the canonical form counts, not the text: 1.50000 prints as 1.5
    const reals = "[" + Array(204).fill("1.50000").join(" ") + "]"; // canonical: 204*4 - 1 + 2 = 817
    expect(await b.exec(`(core/kv/set r ${reals})`)).toBe("true");
  });
});

// ---------------------------------------------------------------------------------------

describe("iterate", () => {
  async function seeded() {
    const b = await newBoard();
    const rec = record(b);
    for (const k of ["k1", "k10", "k2", "k9", "k:a", "kZ", "ka", "j", "l", "K"]) await b.exec(`(core/kv/set ${k} ${k})`);
    return { b, rec };
  }

  it("walks keys with the prefix in bytewise order, inside the OFFSET/LIMIT window", async () => {
    const { b, rec } = await seeded();
    const walk = async (args: string) => {
      rec.clear();
      expect(await b.exec(`(core/kv/iterate ${args} {(core/util/log $key)})`), args).toBe("true");
      return rec.logs.join(",");
    };
    expect(await walk('"" 0 100')).toBe("K,j,k1,k10,k2,k9,k:a,kZ,ka,l");
    expect(await walk("k 0 100")).toBe("k1,k10,k2,k9,k:a,kZ,ka");
    expect(await walk('"k" 2 3')).toBe("k2,k9,k:a");
    expect(await walk("k 6 5")).toBe("ka");
    expect(await walk("k 7 5")).toBe("");
    expect(await walk("k 0 0")).toBe("");
    expect(await walk("k 9223372036854775807 9223372036854775807")).toBe("");
    expect(await walk("k 5 9223372036854775807")).toBe("kZ,ka");
    expect(await walk('"" 8 100')).toBe("ka,l");
    expect(await walk("k1 0 10")).toBe("k1,k10");
    expect(await walk("k10 0 10")).toBe("k10");
    expect(await walk("k100 0 10")).toBe("");
    // PREFIX, OFFSET and LIMIT are evaluated when they are not plain keys
    await b.exec("(core/kv/set cnt 1)");
    expect(await walk("(core/kv/get K) (core/kv/get cnt) (core/kv/get cnt)")).toBe("");
    expect(await walk("'k (core/kv/get cnt) (core/kv/get cnt)")).toBe("k10");
    // $key is a string
    expect(await b.exec('(core/kv/iterate "k" 6 1 {(core/kv/set last $key) 42}) (core/kv/get last)')).toBe('"ka"');
  });

  it("orders bytes >= 0x80 after ASCII (unsigned bytewise)", async () => {
    const b = await newBoard();
    const rec = record(b);
    const keys = ["a\xff", "b", "a\x80", "aZ", "\xff", "a", "a\x7f", "\x00", "\x7f\xff", "\x80"];
    for (const k of keys) expect(await b.exec(bytes(`(core/kv/set ${lit(k)} 1)`))).toBe("true");
    expect(await b.exec('(core/kv/iterate "" 0 100 {(core/util/log $key)})')).toBe("true");
    expect(rec.logBytes.map(latin1)).toEqual(["\x00", "a", "aZ", "a\x7f", "a\x80", "a\xff", "b", "\x7f\xff", "\x80", "\xff"]);
    rec.clear();
    await b.exec(bytes('(core/kv/iterate "a" 2 10 {(core/util/log $key)})'));
    expect(rec.logBytes.map(latin1)).toEqual(["a\x7f", "a\x80", "a\xff"]);
    rec.clear();
    await b.exec(bytes('(core/kv/iterate "\\x80" 0 10 {(core/util/log $key)})'));
    expect(rec.logBytes.map(latin1)).toEqual(["\x80"]);
  });

  it("orders keys that are prefixes of each other or hold NUL bytes, around the first eight bytes", async () => {
    // the search compares the first eight bytes as one word, keys zero-padded: a key that
    // ends there must still come before a longer one whose next byte is NUL
    const b = await newBoard();
    const rec = record(b);
    const keys = ["abcdefgh", "a\x00", "abcdefg", "abcdefgh\x00", "a", "abcdefg\x00", "\x00\x00", "\x00", "a\x00b", "abcdefghi", "abcdefgh\x00\x00"];
    for (const [i, k] of keys.entries()) expect(await b.exec(bytes(`(core/kv/set ${lit(k)} ${i})`))).toBe("true");
    const sorted = keys.map((k) => bytes(k)).sort((x, y) => Buffer.compare(x, y)).map(latin1);
    expect(await b.exec('(core/kv/iterate "" 0 100 {(core/util/log $key)})')).toBe("true");
    expect(rec.logBytes.map(latin1)).toEqual(sorted);
    for (const [i, k] of keys.entries()) expect(await b.exec(bytes(`(core/kv/get ${lit(k)})`)), JSON.stringify(k)).toBe(String(i));
    for (const k of ["abcdefgh\x00\x00\x00", "ab", "\x00\x00\x00", "abcdefgi"]) {
      expect(await b.exec(bytes(`(core/kv/exists ${lit(k)})`)), JSON.stringify(k)).toBe("false");
    }
    for (const [prefix, want] of [["a\x00", 2], ["abcdefg", 6], ["abcdefgh", 4], ["abcdefgh\x00", 2], ["\x00", 2]] as const) {
      rec.clear();
      await b.exec(bytes(`(core/kv/iterate ${lit(prefix)} 0 100 {(core/util/log $key)})`));
      expect(rec.logBytes.map(latin1), JSON.stringify(prefix)).toEqual(sorted.filter((k) => k.startsWith(prefix)));
      expect(rec.logBytes.length).toBe(want);
    }
  });

  it("skips keys deleted before their turn (the window does not move), never visits keys inserted during the walk", async () => {
    const { b, rec } = await seeded();
    expect(await b.exec('(core/kv/iterate "k" 0 3 {(core/util/log "visit" $key) (core/kv/del k10)})')).toBe("true");
    expect(rec.logs).toEqual(["visit k1", "visit k2"]);
    rec.clear();
    expect(await b.exec('(core/kv/iterate "k" 0 100 {(core/util/log "visit" $key) (core/kv/del $key) (core/kv/set k15 15) (core/kv/set k0 0) (core/kv/set kz 0)})')).toBe("true");
    expect(rec.logs).toEqual(["visit k1", "visit k2", "visit k9", "visit k:a", "visit kZ", "visit ka"]);
    rec.clear();
    await b.exec('(core/kv/iterate "k" 0 100 {(core/util/log $key)})');
    expect(rec.logs).toEqual(["k0", "k15", "kz"]);
    // deleting every key ahead of the walk: nothing more is visited
    rec.clear();
    expect(await b.exec('(core/kv/iterate "" 0 100 {(core/util/log $key) (core/kv/iterate "" 0 100 {(core/kv/del $key)})})')).toBe("true");
    expect(rec.logs).toEqual(["K"]);
    expect(b.stat(Stat.KV_ENTRIES)).toBe(0);
  });

  it("nested iterates shadow $key; the outer one's comes back; $key is unbound outside", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/kv/set n1 1) (core/kv/set n2 2) (core/kv/set m1 1) (core/kv/set m2 2)");
    await b.exec('(core/kv/iterate "n" 0 10 {(core/util/log "outer" $key) (core/kv/iterate "m" 0 10 {(core/util/log "inner" $key)}) (core/util/log "outer again" $key)})');
    expect(rec.logs).toEqual([
      "outer n1", "inner m1", "inner m2", "outer again n1",
      "outer n2", "inner m1", "inner m2", "outer again n2",
    ]);
    rec.clear();
    await b.exec("(core/kv/set p:a 1) (core/kv/set p:a:1 2) (core/kv/set p:b 3)");
    await b.exec('(core/kv/iterate "p:" 0 10 {(core/kv/iterate $key 0 10 {(core/util/log $key)})})');
    expect(rec.logs).toEqual(["p:a", "p:a:1", "p:a:1", "p:b"]);
    expect(await b.exec("$key")).toBe('@"unbound variable: $key"');
    rec.clear();
    // eval inside a step runs in the step's context
    await b.exec('(core/kv/iterate "n" 0 1 {(core/expr/eval "(core/util/log \\"eval sees\\" $key)")})');
    expect(rec.logs).toEqual(["eval sees n1"]);
  });

  it("a $key kept past its turn keeps its value while later turns move on (an event, $result, a stored copy)", async () => {
    // iterate rewrites its $key string in place when nothing else holds it: anything
    // that does hold it must see the key of its own turn
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/kv/set n1 1) (core/kv/set n22 2) (core/kv/set n3 3) (core/kv/set n4444 4)");
    await b.exec("(core/event/sub $CHANNEL_A 1 {(core/util/log \"event\" $data)})");
    await b.exec('(core/kv/iterate "n" 0 10 {(core/event/pub $CHANNEL_A 1 $key) $key})');
    expect(rec.logs).toEqual(["event n1", "event n22", "event n3", "event n4444"]);
    rec.clear();
    await b.exec('(core/kv/iterate "n" 0 10 {$key (core/util/log "after" $result) (core/kv/set last $key)}) (core/util/log "last" (core/kv/get last))');
    expect(rec.logs).toEqual(["after n1", "after n22", "after n3", "after n4444", "last n4444"]);
  });

  it("$result: a step sees the caller's until its own first form completes, and not the previous step's", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/kv/set r1 1) (core/kv/set r2 2)");
    expect(await b.exec('"before" (core/kv/iterate "r" 0 10 {(core/util/log "first form sees" $result) 9 (core/util/log "third form sees" $result)}) $result')).toBe("true");
    expect(rec.logs).toEqual([
      "first form sees before", "third form sees 9",
      "first form sees before", "third form sees 9",
    ]);
    rec.clear();
    await b.exec('"outer" (core/kv/iterate "r" 0 1 {"outer step" (core/kv/iterate "r" 0 1 {(core/util/log $key "sees" $result)})})');
    expect(rec.logs).toEqual(["r1 sees outer step"]);
    // the body's value is dropped; iterate gives true
    expect(await b.exec('(core/kv/iterate "r" 0 10 {42})')).toBe("true");
  });

  it("an error in the body stops the walk and is returned; argument checks left to right", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/kv/set n1 1) (core/kv/set n2 2)");
    expect(await b.exec('(core/kv/iterate "n" 0 10 {(core/util/log "step" $key) (core/kv/get missing)})')).toBe('@"core/kv/get: key not found"');
    expect(await b.exec('(core/kv/iterate "n" 0 10 {(core/kv/iterate "n" 0 10 {@"inner"}) (core/util/log "never")})')).toBe('@"inner"');
    expect(rec.logs).toEqual(["step n1"]);
    const errs: Array<[string, string]> = [
      ['"n" -1 10 {}', "offset must be a non-negative integer"],
      ['"n" 1.0 10 {}', "offset must be a non-negative integer"],
      ['"n" "0" 10 {}', "offset must be a non-negative integer"],
      ['"n" 0 -1 {}', "limit must be a non-negative integer"],
      ['"n" 0 "10" {}', "limit must be a non-negative integer"],
      ['"n" 0 10 (core/util/log "not a body")', "expected a body"],
      ['"n" 0 10 [x]', "expected a body"],
      ['"n" -1 -1 (x)', "offset must be a non-negative integer"],
      ['5 -1 -1 (x)', "key must be a symbol or string"],
      ['"" 0 10', "expected 4 arguments"],
    ];
    for (const [args, msg] of errs) expect(await b.exec(`(core/kv/iterate ${args})`), args).toBe(`@"core/kv/iterate: ${msg}"`);
    expect(await b.exec('(core/kv/iterate "n" $nope -1 {})')).toBe('@"unbound variable: $nope"');
    expect(rec.logs).toEqual(["step n1"]);
    expect(await b.exec('(core/kv/iterate "" 0 10 {})')).toBe("true");
  });

  it("10,000 keys come back in bytewise order", async () => {
    // the store in RAM (no flash log): this is about the store's order, not the partition size
    const b = await newBoard({ maxInput: 1 << 20, flash: false, maxPages: 1024 });
    const r = prng(10000);
    const alphabet = [..."abcdefghijklmnopqrstuvwxyz0123456789:/_-"].concat(["\x80", "\xc3", "\xa9", "\xff", "\x01", "\x00", " "]);
    const keys = new Set<string>();
    while (keys.size < 10000) {
      // short keys, and long ones sharing prefixes (the comparison goes eight bytes at a
      // time with an overlapping last word: differences at every position and length)
      let k = r.int(3) === 0 ? r.pick(["user:profile:", "user:profile:x", "sensor/temperature/"]) : "";
      const n = 1 + r.int(r.int(2) === 0 ? 10 : 24);
      for (let i = 0; i < n; i++) k += r.pick(alphabet);
      keys.add(k);
    }
    const list = [...keys];
    const forms = list.map((k, i) => `(core/kv/set ${lit(k)} ${i})`);
    expect(await b.exec(bytes(forms.slice(0, 5000).join("")))).toBe("true");
    expect(await b.exec(bytes(forms.slice(5000).join("")))).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(10000);
    const sorted = list.map((k) => bytes(k)).sort((x, y) => Buffer.compare(x, y)).map(latin1);
    const rec = record(b);
    expect(await b.exec('(core/kv/iterate "" 0 100000 {(core/util/log $key)})')).toBe("true");
    expect(rec.logBytes.length).toBe(10000);
    expect(rec.logBytes.map(latin1)).toEqual(sorted);
    // windows and prefixes agree with the sorted list
    rec.clear();
    await b.exec('(core/kv/iterate "" 9990 100 {(core/util/log $key)})');
    expect(rec.logBytes.map(latin1)).toEqual(sorted.slice(9990));
    rec.clear();
    await b.exec('(core/kv/iterate "a" 3 50 {(core/util/log $key)})');
    expect(rec.logBytes.map(latin1)).toEqual(sorted.filter((k) => k.startsWith("a")).slice(3, 53));
    rec.clear();
    await b.exec(bytes('(core/kv/iterate "\\xc3" 0 100000 {(core/util/log $key)})'));
    expect(rec.logBytes.map(latin1)).toEqual(sorted.filter((k) => k.startsWith("\xc3")));
    // values are where they were put
    const probe = list[1234]!;
    expect(await b.exec(bytes(`(core/kv/get ${lit(probe)})`))).toBe("1234");
    // exact lookups (the search stops at an equal key): every other key deleted by name,
    // a missing one reported missing, the rest still there in order
    const gone = new Set(list.filter((_, i) => i % 2 === 0));
    expect(await b.exec(bytes([...gone].map((k) => `(core/kv/del ${lit(k)})`).join("")))).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(5000);
    expect(await b.exec(bytes(`(core/kv/exists ${lit(list[0]!)})`))).toBe("false");
    expect(await b.exec(bytes(`(core/kv/get ${lit(list[1]!)})`))).toBe("1");
    rec.clear();
    expect(await b.exec('(core/kv/iterate "" 0 100000 {(core/util/log $key)})')).toBe("true");
    expect(rec.logBytes.map(latin1)).toEqual(sorted.filter((k) => !gone.has(k)));
  }, 30_000);
});

// ---------------------------------------------------------------------------------------

describe("store full", () => {
  async function fillUntilFull(b: VirtualBoard, v: string): Promise<number> {
    let n = 0;
    for (; n < 2000; n++) {
      const r = await b.exec(`(core/kv/set k${String(n).padStart(4, "0")} ${v})`);
      if (r !== "true") {
        expect(r).toBe('@"core/kv/set: store full"');
        return n;
      }
    }
    throw new Error("the store never filled up");
  }

  async function fullStoreStillServes(b: VirtualBoard): Promise<void> {
    const v = '"' + "x".repeat(1000) + '"';
    const n = await fillUntilFull(b, v);
    expect(n).toBeGreaterThan(50);
    expect(b.stat(Stat.KV_ENTRIES)).toBe(n);
    // snx of another new key of the same size is refused the same way
    expect(await b.exec(`(core/kv/snx other ${v})`)).toBe('@"core/kv/snx: store full"');
    // the board still parses and runs requests: get, exists, iterate, del
    expect((await b.exec("(core/kv/get k0000)")).length).toBe(1002);
    expect(await b.exec("(core/kv/exists k0001)")).toBe("true");
    const rec = record(b);
    expect(await b.exec('(core/kv/iterate "k00" 0 3 {(core/util/log $key)})')).toBe("true");
    expect(rec.logs).toEqual(["k0000", "k0001", "k0002"]);
    expect(await b.exec("(core/kv/del k0000)")).toBe("true");
    expect(await b.exec("(core/kv/del no-such-key)")).toBe("true");
    expect(await b.exec('(core/kv/iterate "" 0 20 {(core/kv/del $key)})')).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(n - 21);
    // room again
    expect(await b.exec(`(core/kv/set again1 ${v})`)).toBe("true");
    expect(await b.exec(`(core/kv/snx again2 ${v})`)).toBe("true");
    expect(await b.exec(`(core/kv/cas again1 ${v} small)`)).toBe("true");
    expect(await b.exec("(core/kv/get again1)")).toBe("small");
    // emptying the store gives all the room back
    expect(await b.exec('(core/kv/iterate "" 0 10000 {(core/kv/del $key)})')).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(0);
    let m = 0;
    for (; m < n; m++) {
      const r = await b.exec(`(core/kv/set j${String(m).padStart(4, "0")} ${v})`);
      if (r !== "true") break;
    }
    expect(m).toBeGreaterThanOrEqual(Math.floor(n * 0.95)); // (allocator bookkeeping may keep a little)
    expect(b.alive).toBe(true);
  }

  it("memory: with a small maxPages, writes fail with store full, reads and deletes still work, freed room takes writes again", async () => {
    await fullStoreStillServes(await newBoard({ maxPages: 4, flash: false }));
  }, 30_000);

  it("memory: a full store fragmented by values of two sizes still answers get, del and iterate", async () => {
    const b = await newBoard({ maxPages: 4, flash: false });
    const x = (n: number) => '"' + "x".repeat(n) + '"';
    const key = (p: string, i: number) => p + String(i).padStart(4, "0");
    let n = 0;
    for (; n < 1000; n++) if ((await b.exec(`(core/kv/set ${key("a", n)} ${x(600)})`)) !== "true") break;
    expect(await b.exec(`(core/kv/set ${key("a", n)} ${x(600)})`)).toBe('@"core/kv/set: store full"');
    // free every other 600-byte value, then fill up again with values too big for the holes
    for (let i = 0; i < n; i += 2) expect(await b.exec(`(core/kv/del ${key("a", i)})`)).toBe("true");
    let m = 0;
    for (; m < 1000; m++) if ((await b.exec(`(core/kv/set ${key("b", m)} ${x(1000)})`)) !== "true") break;
    expect(await b.exec(`(core/kv/set ${key("b", m)} ${x(1000)})`)).toBe('@"core/kv/set: store full"');
    // reads and deletes still work on the full store
    expect(await b.exec(`(core/kv/get ${key("a", 1)})`)).toBe(x(600));
    expect(await b.exec(`(core/kv/exists ${key("a", 3)})`)).toBe("true");
    expect(await b.exec(`(core/kv/del ${key("a", 1)})`)).toBe("true");
    expect(await b.exec('(core/kv/iterate "" 0 100000 {(core/kv/del $key)})')).toBe("true");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(0);
    expect(await b.exec(`(core/kv/set again ${x(1000)}) (core/kv/get again)`)).toBe(x(1000));
  }, 30_000);

  it("on a full store, deleting one key makes room for one key of the same size, and no more", async () => {
    // the write goes into the holes the deletion left, so the reserve for requests stays whole
    for (const flash of [false, true]) {
      // without a K/V log, and with the default board's (in its flash)
      const b = await newBoard(flash ? { maxPages: 1 } : { maxPages: 1, flash: false });
      const key = (i: number) => `key-${String(i).padStart(12, "0")}`;
      const val = (i: number) => `"val-${String(i).padStart(12, "0")}"`;
      let n = 0;
      while ((await b.exec(`(core/kv/set ${key(n)} ${val(n)})`)) === "true") n++;
      expect(n).toBeGreaterThan(100);
      for (let i = 0; i < 5; i++) {
        expect(await b.exec(`(core/kv/del ${key(i)})`)).toBe("true");
        expect(await b.exec(`(core/kv/set ${key(n + i)} ${val(n + i)})`), `flash ${flash}, round ${i}`).toBe("true");
        expect(await b.exec(`(core/kv/set ${key(n + 100 + i)} ${val(n + 100 + i)})`)).toBe('@"core/kv/set: store full"');
      }
      expect(await b.exec(`(core/kv/get ${key(n + 4)})`)).toBe(val(n + 4));
      expect(b.stat(Stat.KV_ENTRIES)).toBe(n);
    }
  }, 30_000);

  it("a burst of requests on a full store is taken in as memory allows: none fails for lack of memory", async () => {
    // queued requests hold their parsed text; while the processor is busy the image takes
    // a new one only if STORE_RESERVE stays free in one piece after it, and refuses it for
    // now otherwise (the board runs it and submits it again)
    const b = await newBoard({ maxPages: 1, flash: false });
    const key = (i: number) => `key-${String(i).padStart(12, "0")}`;
    let n = 0;
    while ((await b.exec(`(core/kv/set ${key(n)} "val-${String(n).padStart(12, "0")}")`)) === "true") n++;
    expect(n).toBeGreaterThan(100);
    const retries = b.queueFullRetries;
    const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => b.exec(`(core/kv/set ${key(n + i)} "v") (core/kv/get ${key(i % n)})`)));
    // each answer: the value read back, or the write refused (an error stops the request)
    expect(answers.filter((a) => !/^"val-\d{12}"$/.test(a) && a !== '@"core/kv/set: store full"')).toEqual([]);
    expect(b.queueFullRetries).toBeGreaterThan(retries);
  }, 30_000);

  it("the same on the default virtual board (the store kept in its flash log)", async () => {
    await fullStoreStillServes(await newBoard());
  }, 30_000);
});
