// Tests for assembly/slp/number.ts (parseInteger, parseReal, formatReal),
// compiled on its own through test/as/number-entry.ts and compared with V8.
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Exports {
  memory: WebAssembly.Memory;
  buf(): number;
  parseReal(len: number): number;
  parseInteger(len: number): bigint;
  status(): number;
  formatReal(x: number): number;
}

let ex: Exports;
let mem: Uint8Array;
let base = 0;
let wasmSize = 0;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "sxs-number-"));
  try {
    const out = join(dir, "number.wasm");
    // Run from the temporary directory so that the project's asconfig.json
    // (whose entry is the whole image) is not picked up.
    execFileSync(
      process.execPath,
      [
        join(ROOT, "node_modules/assemblyscript/bin/asc.js"),
        join(ROOT, "test/as/number-entry.ts"),
        "--runtime", "stub", "--use", "abort=", "--noAssert", "-Oz",
        "-o", out,
      ],
      { cwd: dir, stdio: "pipe" },
    );
    const bytes = readFileSync(out);
    wasmSize = bytes.length;
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    ex = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
    mem = new Uint8Array(ex.memory.buffer);
    base = ex.buf();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

function put(s: string): number {
  for (let i = 0; i < s.length; i++) mem[base + i] = s.charCodeAt(i);
  return s.length;
}

function parseReal(s: string): number {
  return ex.parseReal(put(s));
}

function parseInteger(s: string): bigint {
  return ex.parseInteger(put(s));
}

function fmt(x: number): string {
  const n = ex.formatReal(x);
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(mem[base + i]);
  return s;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const u64 = new BigUint64Array(f64.buffer);

function bits(x: number): bigint {
  f64[0] = x;
  return u64[0];
}

function fromBits(b: bigint): number {
  u64[0] = b;
  return f64[0];
}

// xorshift128 with a fixed seed: the random tests are deterministic.
let s0 = 0x9e3779b9, s1 = 0x243f6a88, s2 = 0xb7e15162, s3 = 0x7f4a7c15;
function rnd32(): number {
  let t = s0 ^ (s0 << 11);
  s0 = s1; s1 = s2; s2 = s3;
  s3 = (s3 ^ (s3 >>> 19) ^ t ^ (t >>> 8)) >>> 0;
  return s3;
}
function rndInt(n: number): number {
  return Math.floor((rnd32() / 4294967296) * n);
}

/** The exact decimal expansion of a finite double (BigInt arithmetic). */
function exactDecimal(mant: bigint, e2: number): string {
  // value = mant * 2^e2
  if (e2 >= 0) return (mant << BigInt(e2)).toString();
  const digits = (mant * 5n ** BigInt(-e2)).toString().padStart(-e2 + 1, "0");
  const p = digits.length + e2;
  return (digits.slice(0, p) + "." + digits.slice(p)).replace(/\.?0+$/, "");
}

function decompose(x: number): [bigint, number] {
  const b = bits(x);
  const be = Number((b >> 52n) & 0x7ffn);
  const f = b & 0xfffffffffffffn;
  return be === 0 ? [f, -1074] : [f | (1n << 52n), be - 1075];
}

describe("number module", () => {
  it("is small and has no imports", () => {
    console.log(`number-entry.wasm (-Oz): ${wasmSize} bytes`);
    expect(wasmSize).toBeLessThan(6144);
  });
});

describe("parseInteger", () => {
  const ok: [string, bigint][] = [
    ["0", 0n], ["-0", 0n], ["+0", 0n], ["42", 42n], ["-7", -7n], ["+5", 5n],
    ["9223372036854775807", 9223372036854775807n],
    ["-9223372036854775807", -9223372036854775807n],
    ["-9223372036854775808", -9223372036854775808n],
    ["+9223372036854775807", 9223372036854775807n],
    ["000000000000000000000000000000000000000000000000000000000000012", 12n],
    ["-0000000000000000000000000000000000000009223372036854775808", -9223372036854775808n],
    ["00000000000000000000000000000000000000000000000000000000000000000", 0n],
    ["1000000000000000000", 1000000000000000000n],
    ["922337203685477580", 922337203685477580n],
    ["-922337203685477581", -922337203685477581n],
  ];
  for (const [s, v] of ok) {
    it(`reads ${s}`, () => {
      expect(parseInteger(s)).toBe(v);
      expect(ex.status()).toBe(0);
    });
  }
  const bad = [
    "9223372036854775808", "-9223372036854775809", "+9223372036854775808",
    "9223372036854775810", "9223372036854775817", "18446744073709551615",
    "18446744073709551616", "18446744073709551617", "92233720368547758070",
    "99999999999999999999", "100000000000000000000", "-100000000000000000000",
    "123456789012345678901234567890", "0000009223372036854775808",
    "27670116110564327424", "36893488147419103232",
  ];
  for (const s of bad) {
    it(`rejects ${s}`, () => {
      parseInteger(s);
      expect(ex.status()).toBe(1);
    });
  }
  it("agrees with BigInt on random integers", () => {
    const MAX = 9223372036854775807n, MIN = -9223372036854775808n;
    for (let n = 0; n < 20000; n++) {
      const len = 1 + rndInt(21);
      let s = "";
      for (let i = 0; i < len; i++) s += String(rndInt(10));
      const sign = rndInt(3);
      if (sign === 1) s = "-" + s;
      else if (sign === 2) s = "+" + s;
      const v = BigInt(s);
      const r = parseInteger(s);
      if (v > MAX || v < MIN) {
        expect(ex.status(), s).toBe(1);
      } else {
        expect(ex.status(), s).toBe(0);
        expect(r, s).toBe(v);
      }
    }
  });
});

describe("parseReal", () => {
  const cases = [
    "5e-324", "4.9406564584124654e-324", "2.4703282292062327e-324",
    "2.4703282292062328e-324", "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
    "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125000000000000000000000000000001e-324",
    "7.4109846876186982e-324", "7.4109846876186981e-324",
    "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
    "2.225073858507201136057409796709131975934819546351645648e-308",
    "1.7976931348623157e308", "1.7976931348623158e308",
    "1.797693134862315807937289714053034150799341327710387526e308",
    "9007199254740993", "9007199254740992", "9007199254740991", "9007199254740995",
    "9007199254740993.00000000000000000000000000000000000000000000000000000000000000000001",
    "0.1", "0.2", "0.3", "1e23", "1e22", "8.98846567431158e307", "123456789012345680000",
    "1.", ".5", "-0.0", "0.0", "+0.0", "-.0", "2E10", "+5", "-5.67e-3", "3.14", "1e+5", "1E-5",
    "00000000000000000000000000000001.5", "0.000000000000000000000000000000000000000000001",
    "1.000000000000000000000000000000000000000000000000000000000000000000",
    "100000000000000000000000000000000000000000000000000000000000000000000.0e-60",
    "0e999999999999", "0.0e-99999999999", "1e-99999999999", "-1e-99999999999",
    "1e-400", "-1e-400", "1e-325", "3e-324", "2e-324", "2.5e-324",
    "4.35e-309", "1e308", "1e-308", "1e-307", "1e-306", "4294967296", "18446744073709551616",
    "9.999999999999999e22", "1e37", "3.7e37", "9007199254740992e22", "9007199254740993e22",
    "1.448997445238699", "5708990770823839524233143877797980545530986496",
    "1e-7", "1e21", "0.00001", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999999999999999999999999999999999999999999999999999999999999999",
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792.0",
  ];
  for (const s of cases) {
    it(`reads ${s.length > 60 ? s.slice(0, 40) + "... (" + s.length + " chars)" : s}`, () => {
      const v = parseReal(s);
      const want = Number(s);
      expect(bits(v)).toBe(bits(want));
      expect(ex.status()).toBe(Number.isFinite(want) ? 0 : 1);
    });
  }
  it("signals range errors", () => {
    for (const s of ["1.7976931348623159e308", "1e309", "-1e309", "1e999999999999",
      "-1e999999999999", "1.797693134862315807937289714053034150799341327710387526e308",
      "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792.0",
      "99999999999999999999999999999999999999999999999e300",
      "0." + "0".repeat(2000) + "1e2400"]) {
      const v = parseReal(s);
      expect(v, s).toBe(s.startsWith("-") ? -Infinity : Infinity);
      expect(ex.status(), s).toBe(1);
    }
    expect(parseReal("1.7976931348623158e308")).toBe(1.7976931348623157e308);
    expect(ex.status()).toBe(0);
  });
  it("keeps the sign on underflow", () => {
    expect(Object.is(parseReal("-1e-400"), -0)).toBe(true);
    expect(Object.is(parseReal("1e-400"), 0)).toBe(true);
    expect(Object.is(parseReal("-0.0"), -0)).toBe(true);
    expect(ex.status()).toBe(0);
  });
  it("handles 800-digit and longer inputs", () => {
    for (let n = 0; n < 300; n++) {
      const len = 700 + rndInt(900);
      let s = String(1 + rndInt(9));
      for (let i = 1; i < len; i++) s += String(rndInt(10));
      const dot = rndInt(len + 1);
      s = s.slice(0, dot) + "." + s.slice(dot);
      if (rndInt(2)) s += "e" + String(rndInt(1400) - 1000);
      expect(bits(parseReal(s)), s).toBe(bits(Number(s)));
    }
  });
  it("rounds exact halfway points and their neighbours correctly", () => {
    for (let n = 0; n < 3000; n++) {
      let x: number;
      do {
        u32[0] = rnd32(); u32[1] = rnd32();
        if (n % 4 === 0) u32[1] &= 0x801fffff; // near the subnormal range
        x = f64[0];
      } while (!Number.isFinite(x) || x === 0);
      const [m, e] = decompose(Math.abs(x));
      const half = exactDecimal(2n * m + 1n, e - 1);
      for (const s of [half, half + "0000000000001", lowerBy(half)]) {
        const t = (x < 0 ? "-" : "") + s;
        expect(bits(parseReal(t)), t).toBe(bits(Number(t)));
      }
    }
  });
  it("agrees with Number() on random decimal strings", () => {
    for (let n = 0; n < 100000; n++) {
      const nd = 1 + rndInt(25);
      let d = "";
      for (let i = 0; i < nd; i++) d += String(rndInt(10));
      const form = rndInt(4);
      let s: string;
      if (form === 0) s = d + ".";
      else if (form === 1) s = "." + d;
      else {
        const p = rndInt(nd + 1);
        s = d.slice(0, p) + "." + d.slice(p);
        if (s.endsWith(".") && form === 3) s = d;
      }
      const r = rndInt(8);
      if (r < 4) s += "e" + String(rndInt(700) - 350);
      else if (r < 6) s += "E" + (rndInt(2) ? "+" : "-") + String(rndInt(40));
      else if (r === 6) s += "e" + String(rndInt(60) - 30);
      else if (s.indexOf(".") < 0) s += "e0";
      if (rndInt(4) === 0) s = (rndInt(2) ? "-" : "+") + s;
      const want = Number(s);
      const v = parseReal(s);
      if (bits(v) !== bits(want)) expect(bits(v), s).toBe(bits(want));
      const st = ex.status();
      if (st !== (Number.isFinite(want) ? 0 : 1)) expect(st, s).toBe(Number.isFinite(want) ? 0 : 1);
    }
  });
});

/** A decimal string just below the given positive one (last digit lowered, 9s appended). */
function lowerBy(s: string): string {
  if (s.indexOf(".") < 0) return (BigInt(s) - 1n).toString() + ".9999999999";
  // a fraction part never ends in 0 here
  const last = s.charCodeAt(s.length - 1) - 48;
  return s.slice(0, -1) + String(last - 1) + "9999999999";
}

describe("formatReal", () => {
  const examples: [number, string][] = [
    [3, "3"], [1e16, "10000000000000000"], [1e-5, "0.00001"], [1e-7, "1e-7"],
    [1e21, "1e+21"], [123456789012345680000, "123456789012345680000"], [0.5, "0.5"],
    [-0, "0"], [0, "0"], [NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"],
    [5e-324, "5e-324"], [-5e-324, "-5e-324"], [1.7976931348623157e308, "1.7976931348623157e+308"],
    [2.2250738585072014e-308, "2.2250738585072014e-308"], [0.1, "0.1"], [1e23, "1e+23"],
    [9007199254740993, "9007199254740992"], [1.5e-7, "1.5e-7"], [1.5e-6, "0.0000015"],
    [-1e21, "-1e+21"], [1e20, "100000000000000000000"], [999999999999999900000, "999999999999999900000"],
    [2 ** 63, "9223372036854776000"], [-3.14, "-3.14"], [100, "100"], [1.25e-300, "1.25e-300"],
    [4.35e-309, "4.35e-309"], [8.98846567431158e307, "8.98846567431158e+307"],
    [-1.2345678901234567e-100, "-1.2345678901234567e-100"],
  ];
  for (const [x, s] of examples) {
    it(`prints ${s}`, () => {
      expect(fmt(x)).toBe(s);
      expect(fmt(x)).toBe(String(x));
    });
  }
  it("prints powers of two and ten like V8", () => {
    for (let e = -1074; e <= 1023; e++) {
      const x = 2 ** e;
      expect(fmt(x), String(x)).toBe(String(x));
      expect(bits(parseReal(String(x)))).toBe(bits(x));
    }
    for (let e = -323; e <= 308; e++) {
      for (const s of [`1e${e}`, `9.999999999999999e${e}`, `5e${e}`]) {
        const x = Number(s);
        expect(fmt(x), s).toBe(String(x));
        const y = fromBits(bits(x) + 1n), z = fromBits(bits(x) - 1n);
        if (Number.isFinite(y)) expect(fmt(y), String(y)).toBe(String(y));
        if (z > 0) expect(fmt(z), String(z)).toBe(String(z));
      }
    }
  });
  it("prints integers like V8", () => {
    for (let n = 0; n < 20000; n++) {
      const x = rndInt(2) ? rndInt(1e6) : Math.floor((rnd32() * 2 ** 21 + (rnd32() >>> 11)));
      expect(fmt(x)).toBe(String(x));
    }
  });
  it("round-trips 200,000 random doubles exactly like V8", () => {
    let bad = 0;
    for (let n = 0; n < 200000; n++) {
      u32[0] = rnd32();
      u32[1] = rnd32();
      const x = f64[0];
      if (!Number.isFinite(x)) continue;
      const want = String(x);
      const got = fmt(x);
      if (got !== want) {
        expect(got, `bits ${bits(x).toString(16)}`).toBe(want);
        bad++;
      }
      const back = parseReal(want);
      if (bits(back) !== bits(x)) {
        expect(bits(back), want).toBe(bits(x));
        bad++;
      }
    }
    expect(bad).toBe(0);
  });
  it("stays within 32 bytes", () => {
    for (const x of [-1.2345678901234567e-7, -1.2345678901234567e-100, -1.2345678901234567e20,
      -0.0000012345678901234567, -2.2250738585072014e-308]) {
      const n = ex.formatReal(x);
      expect(n).toBeLessThanOrEqual(32);
      expect(fmt(x)).toBe(String(x));
    }
  });
});
