// Tests for tools/check-image.mjs (and tools/wasm-reader.mjs): modules are written
// here as raw bytes, so every forbidden construct can be tried on its own.
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-ignore -- plain JavaScript tools without type declarations
import { ALLOWED_IMPORTS, REQUIRED_EXPORTS, checkImage } from "../../tools/check-image.mjs";
// @ts-ignore
import { decodeFunction, parseModule, sizeReport } from "../../tools/wasm-reader.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TOOL = join(ROOT, "tools/check-image.mjs");

// ---------------------------------------------------------------------------
// A tiny module writer

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c;
const TYPE_CODE: Record<string, number> = { i32: I32, i64: I64, f32: F32, f64: F64 };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function sleb(v: number | bigint): number[] {
  let n = BigInt(v);
  const out: number[] = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s: string) => {
  const b = [...Buffer.from(s, "utf8")];
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, payload: number[]) => [id, ...uleb(payload.length), ...payload];
const f64bytes = (x: number) => [...Buffer.from(new Float64Array([x]).buffer)];

// Opcodes used below
const END = 0x0b, LOCAL_GET = 0x20, DROP = 0x1a, I32_CONST = 0x41;

interface Sig {
  params: number[];
  results: number[];
}
interface Func extends Sig {
  locals?: [number, number][];
  /** body without the final `end`; may use ctx.type() to get a type index */
  body: number[] | ((ctx: Ctx) => number[]);
  export?: string;
}
interface Ctx {
  type(params: number[], results: number[]): number;
  /** index of the function exported under `name` (after imports) */
  func(name: string): number;
}
interface Spec {
  imports?: { module: string; name: string; params: number[]; results: number[] }[];
  rawImports?: number[][]; // non-function imports, after the function imports
  funcs?: Func[];
  tables?: number[][] | null;
  memories?: number[][] | null; // raw memtype entries; null: no memory section
  globals?: number[][];
  exports?: [string, number, number][]; // extra exports
  omitExports?: string[];
  elements?: number[][];
  datas?: number[][];
  dataCount?: number;
  extraSections?: number[][]; // appended at the end
  preCode?: number[][]; // sections inserted just before the code section
}

const sigOf = (p: string[]) => p.map((t) => TYPE_CODE[t]);

/** The required exports with trivial bodies: a module that satisfies docs/abi.md. */
function abiFuncs(): Func[] {
  return REQUIRED_EXPORTS.filter((e: any) => e.kind === "func").map((e: any) => ({
    params: sigOf(e.params),
    results: sigOf(e.results),
    export: e.name,
    body: e.results.length === 0 ? [] : e.results[0] === "f64" ? [0x44, ...f64bytes(0)] : [I32_CONST, 0],
  }));
}

function abiImports() {
  return ALLOWED_IMPORTS.map((i: any) => ({ module: i.module, name: i.name, params: sigOf(i.params), results: sigOf(i.results) }));
}

function build(spec: Spec = {}): Uint8Array {
  const imports = spec.imports ?? abiImports();
  const funcs = [...abiFuncs().filter((f) => !spec.omitExports?.includes(f.export!)), ...(spec.funcs ?? [])];
  const types: string[] = [];
  const typeBytes: number[][] = [];
  const type = (params: number[], results: number[]) => {
    const key = `${params}|${results}`;
    let i = types.indexOf(key);
    if (i < 0) {
      i = types.push(key) - 1;
      typeBytes.push([0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))]);
    }
    return i;
  };
  const ctx: Ctx = {
    type,
    func: (name) => imports.length + funcs.findIndex((f) => f.export === name),
  };
  const importEntries = [
    ...imports.map((i) => [...str(i.module), ...str(i.name), 0x00, ...uleb(type(i.params, i.results))]),
    ...(spec.rawImports ?? []),
  ];
  const funcTypes = funcs.map((f) => type(f.params, f.results));
  const bodies = funcs.map((f) => {
    const body = typeof f.body === "function" ? f.body(ctx) : f.body;
    const locals = vec((f.locals ?? []).map(([n, t]) => [...uleb(n), t]));
    const code = [...locals, ...body, END];
    return [...uleb(code.length), ...code];
  });
  const exports: number[][] = funcs
    .map((f, i) => (f.export ? [...str(f.export), 0x00, ...uleb(imports.length + i)] : []))
    .filter((e) => e.length);
  if (!spec.omitExports?.includes("memory")) exports.push([...str("memory"), 0x02, 0x00]);
  for (const [name, kind, index] of spec.exports ?? []) exports.push([...str(name), kind, ...uleb(index)]);

  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  out.push(...section(1, vec(typeBytes)));
  if (importEntries.length) out.push(...section(2, vec(importEntries)));
  out.push(...section(3, vec(funcTypes.map((t) => uleb(t)))));
  if (spec.tables) out.push(...section(4, vec(spec.tables)));
  const memories = spec.memories === undefined ? [[0x00, 0x01]] : spec.memories;
  if (memories) out.push(...section(5, vec(memories)));
  if (spec.globals) out.push(...section(6, vec(spec.globals)));
  out.push(...section(7, vec(exports)));
  if (spec.elements) out.push(...section(9, vec(spec.elements)));
  if (spec.dataCount !== undefined) out.push(...section(12, uleb(spec.dataCount)));
  for (const s of spec.preCode ?? []) out.push(...s);
  out.push(...section(10, vec(bodies)));
  if (spec.datas) out.push(...section(11, vec(spec.datas)));
  for (const s of spec.extraSections ?? []) out.push(...s);
  return new Uint8Array(out);
}

/** A module with one extra exported function "probe". */
const probe = (f: Omit<Func, "export">, spec: Spec = {}) =>
  build({ ...spec, funcs: [...(spec.funcs ?? []), { ...f, export: "probe" }] });

function check(bytes: Uint8Array, opts?: { abi?: boolean }) {
  const r = checkImage(bytes, opts);
  return { ...r, text: r.errors.map((e: { message: string }) => e.message).join("\n") };
}

function expectRejected(bytes: Uint8Array, ...patterns: (string | RegExp)[]) {
  const r = check(bytes);
  expect(r.ok, "expected the module to be rejected").toBe(false);
  for (const p of patterns) {
    if (typeof p === "string") expect(r.text).toContain(p);
    else expect(r.text).toMatch(p);
  }
  return r;
}

function expectAccepted(bytes: Uint8Array, opts?: { abi?: boolean }) {
  const r = check(bytes, opts);
  expect(r.text).toBe("");
  expect(r.ok).toBe(true);
  expect(WebAssembly.validate(bytes)).toBe(true);
  return r;
}

function cli(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [TOOL, ...args], { cwd, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sxs-check-image-"));
  return () => rmSync(tmp, { recursive: true, force: true });
});

// Index of the probe function in modules built with the default imports.
const N_IMPORTS = ALLOWED_IMPORTS.length;
const N_FUNCS = REQUIRED_EXPORTS.filter((e: any) => e.kind === "func").length;
const PROBE = N_IMPORTS + N_FUNCS;

// ---------------------------------------------------------------------------

describe("the ABI lists", () => {
  it("match docs/abi.md", () => {
    const doc = readFileSync(join(ROOT, "docs/abi.md"), "utf8");
    const table = (heading: RegExp) => {
      const start = doc.search(heading);
      expect(start).toBeGreaterThan(-1);
      const rest = doc.slice(start).split("\n").slice(1);
      const next = rest.findIndex((l) => l.startsWith("#"));
      return rest.slice(0, next < 0 ? undefined : next)
        .map((l) => /^\|\s*`([a-z_0-9]+)`\s*\|\s*`?([^|`]*)`?\s*\|/.exec(l))
        .filter((x): x is RegExpExecArray => x !== null)
        .map(([, name, sig]) => ({ name, sig: sig.trim() }));
    };
    const parseSig = (sig: string) => {
      const m = /^\((.*)\)\s*->\s*(\w+)$/.exec(sig)!;
      expect(m, sig).not.toBeNull();
      const params = m[1].trim() ? m[1].split(",").map((p) => p.split(":")[1].trim()) : [];
      return { params, results: m[2] === "void" ? [] : [m[2]] };
    };
    const exports = table(/^## Exports/m).map((e) =>
      e.sig === "memory" ? { name: e.name, kind: "memory" } : { name: e.name, kind: "func", ...parseSig(e.sig) });
    const imports = table(/^## Imports \(module `env`\)/m).map((e) => ({ module: "env", name: e.name, ...parseSig(e.sig) }));
    expect(exports.length).toBeGreaterThan(10);
    expect(REQUIRED_EXPORTS).toEqual(exports);
    expect(ALLOWED_IMPORTS).toEqual(imports);
  });
});

describe("valid modules", () => {
  it("accepts a minimal module with the required imports and exports", () => {
    const bytes = build();
    const r = expectAccepted(bytes);
    expect(r.info).toMatchObject({ bytes: bytes.length, imports: N_IMPORTS, exports: REQUIRED_EXPORTS.length });
  });

  it("accepts a module that uses only some of the allowed imports, and extra exports", () => {
    expectAccepted(build({ imports: abiImports().slice(1, 2), exports: [["extra_mem", 0x02, 0]] }));
  });

  it("prints the one-line summary and exits 0", () => {
    const file = join(tmp, "ok.wasm");
    const bytes = build();
    writeFileSync(file, bytes);
    const r = cli([file]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `${file}: ok, ${bytes.length} bytes, ${N_FUNCS} functions, ${N_IMPORTS} imports, ${REQUIRED_EXPORTS.length} exports ` +
        "(MVP + sign-ext + sat-f2i + bulk-memory copy/fill)\n",
    );
    const j = cli([file, "--json"]);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      file, ok: true, bytes: bytes.length, functions: N_FUNCS, imports: N_IMPORTS, exports: REQUIRED_EXPORTS.length,
      features: "MVP + sign-ext + sat-f2i + bulk-memory copy/fill",
    });
  });

  it("accepts mutable globals, a table with an active element segment, a start function and active data", () => {
    const bytes = probe(
      { params: [], results: [], body: [I32_CONST, 5, 0x24, 0x00] }, // global.set 0
      {
        globals: [[I32, 0x01, I32_CONST, 0x00, END], [I64, 0x00, 0x42, 0x7f, END]],
        tables: [[0x70, 0x00, 0x01]],
        elements: [[0x00, I32_CONST, 0x00, END, ...vec([uleb(N_IMPORTS)])]],
        datas: [[0x00, I32_CONST, 0x10, END, ...vec([[1], [2], [3]])]],
        dataCount: 1,
        preCode: [],
      },
    );
    const r = expectAccepted(bytes);
    expect(r.info.used["mutable globals"]).toBe(1);
  });
});

describe("allowed extensions", () => {
  it("i32.extend8_s (sign extension)", () => {
    const r = expectAccepted(probe({ params: [I32], results: [I32], body: [LOCAL_GET, 0, 0xc0] }));
    expect(r.info.used["sign-extension"]).toBe(1);
  });

  it("all sign-extension ops", () => {
    expectAccepted(probe({
      params: [I32, I64], results: [],
      body: [
        LOCAL_GET, 0, 0xc0, DROP, LOCAL_GET, 0, 0xc1, DROP,
        LOCAL_GET, 1, 0xc2, DROP, LOCAL_GET, 1, 0xc3, DROP, LOCAL_GET, 1, 0xc4, DROP,
      ],
    }));
  });

  it("i64.trunc_sat_f64_s (non-trapping float-to-int)", () => {
    const r = expectAccepted(probe({ params: [F64], results: [I64], body: [LOCAL_GET, 0, 0xfc, 0x06] }));
    expect(r.info.used["nontrapping-f2i"]).toBe(1);
  });

  it("all eight trunc_sat ops", () => {
    const body: number[] = [];
    for (const [sub, param] of [[0, 0], [1, 0], [2, 1], [3, 1], [4, 0], [5, 0], [6, 1], [7, 1]]) {
      body.push(LOCAL_GET, param, 0xfc, sub, DROP);
    }
    expectAccepted(probe({ params: [F32, F64], results: [], body }));
  });

  it("memory.copy", () => {
    const r = expectAccepted(probe({
      params: [I32, I32, I32], results: [],
      body: [LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 2, 0xfc, 0x0a, 0x00, 0x00],
    }));
    expect(r.info.used["memory.copy"]).toBe(1);
  });

  it("memory.fill", () => {
    const r = expectAccepted(probe({
      params: [I32, I32, I32], results: [],
      body: [LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 2, 0xfc, 0x0b, 0x00],
    }));
    expect(r.info.used["memory.fill"]).toBe(1);
  });

  it("multi-value: a block type that references a type index, and several results", () => {
    const bytes = probe(
      {
        params: [I32], results: [I32],
        // local.get 0; block (type (i32) -> (i32 i32)) i32.const 1 end; i32.add
        body: (ctx) => [LOCAL_GET, 0, 0x02, ...sleb(ctx.type([I32], [I32, I32])), I32_CONST, 1, END, 0x6a],
      },
      { funcs: [{ params: [], results: [I32, I64], body: [I32_CONST, 1, 0x42, 2], export: "pair" }] },
    );
    const r = expectAccepted(bytes);
    expect(r.info.used["multi-value blocks"]).toBe(1);
    expect(r.info.used["multi-value functions"]).toBe(1);
  });

  it("memory.size/grow, loads/stores with alignment and offsets, br_table, call_indirect, f32/f64 consts", () => {
    const bytes = probe(
      {
        params: [I32], results: [I32],
        locals: [[2, I64], [1, F64]],
        body: (ctx) => [
          0x3f, 0x00, DROP, // memory.size
          I32_CONST, 0, 0x40, 0x00, DROP, // memory.grow
          I32_CONST, 0, 0x29, 0x03, ...uleb(0x12345), 0x21, 1, // i64.load align=8 offset=0x12345
          I32_CONST, 0, 0x20, 1, 0x37, 0x03, 0x80, 0x80, 0x80, 0x80, 0x0f, // i64.store offset=0xF0000000
          0x43, 0x00, 0x00, 0xc0, 0x7f, DROP, // f32.const nan
          0x44, ...f64bytes(-0.5), 0x21, 3,
          0x42, ...sleb(-9223372036854775808n), 0x21, 2,
          0x02, 0x40, 0x02, 0x40, LOCAL_GET, 0, 0x0e, ...vec([[0], [1], [0]]), 1, END, END, // br_table
          I32_CONST, 0, 0x11, ...uleb(ctx.type([], [I32])), 0x00, // call_indirect
        ],
      },
      { tables: [[0x70, 0x00, 0x01]], elements: [[0x00, I32_CONST, 0x00, END, ...vec([uleb(N_IMPORTS)])]] },
    );
    expectAccepted(bytes);
  });
});

describe("forbidden constructs", () => {
  const fn = `function ${PROBE} (export "probe")`;

  it("SIMD: an 0xFD instruction", () => {
    const bytes = probe({ params: [], results: [], body: [I32_CONST, 0, 0xfd, 0x00, 0x04, 0x00, DROP] });
    const r = expectRejected(bytes, fn, "v128.load (0xFD 0x00)", "SIMD");
    // names the byte offset of the instruction
    const off = bytes.findIndex((b, i) => b === 0xfd && bytes[i + 1] === 0x00 && bytes[i + 2] === 0x04);
    expect(r.text).toContain(`at 0x${off.toString(16)}:`);
    expect(r.errors[0].offset).toBe(off);
  });

  it("SIMD: v128.const and i8x16.shuffle immediates are decoded (decoding continues after them)", () => {
    const bytes = probe({
      params: [], results: [],
      body: [0xfd, 0x0c, ...new Array(16).fill(0x0b), 0xfd, 0x0c, ...new Array(16).fill(0),
        0xfd, 0x0d, ...new Array(16).fill(0x0b), DROP, 0xfe, 0x03, 0x00],
    });
    expectRejected(bytes, "v128.const (0xFD 0x0C)", "(and 1 more in this function)", "i8x16.shuffle (0xFD 0x0D)", "atomic.fence (0xFE 0x03)");
  });

  it("SIMD: a v128 parameter or local", () => {
    expectRejected(probe({ params: [0x7b], results: [], body: [] }), "v128 (SIMD)");
    expectRejected(probe({ params: [], results: [], locals: [[1, 0x7b]], body: [] }), "v128 (SIMD)");
  });

  it("memory.init with a passive data segment", () => {
    const bytes = probe(
      { params: [], results: [], body: [I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, 0xfc, 0x08, 0x00, 0x00] },
      { datas: [[0x01, ...vec([[1], [2]])]], dataCount: 1 },
    );
    expectRejected(bytes, `${fn} at 0x`, "memory.init (0xFC 0x08)", "passive data segment", /data segment 0 at 0x[0-9a-f]+/);
  });

  it("data.drop", () => {
    const bytes = probe(
      { params: [], results: [], body: [0xfc, 0x09, 0x00] },
      { datas: [[0x00, I32_CONST, 0, END, ...vec([[1]])]], dataCount: 1 },
    );
    const r = expectRejected(bytes, fn, "data.drop (0xFC 0x09)");
    expect(r.errors).toHaveLength(1);
  });

  it("a passive data segment on its own, and a data count section with it", () => {
    const r = expectRejected(build({ datas: [[0x01, ...vec([[1]])]], dataCount: 1 }), "passive data segment", "data count section");
    expect(r.errors).toHaveLength(2);
  });

  it("a data segment with an explicit memory index", () => {
    expectRejected(build({ datas: [[0x02, 0x00, I32_CONST, 0, END, ...vec([[1]])]] }), "explicit memory index");
  });

  it("passive and declarative element segments", () => {
    const tables = [[0x70, 0x00, 0x01]];
    expectRejected(build({ tables, elements: [[0x01, 0x00, ...vec([uleb(N_IMPORTS)])]] }), "passive element segment");
    expectRejected(build({ tables, elements: [[0x03, 0x00, ...vec([uleb(N_IMPORTS)])]] }), "declarative element segment");
    expectRejected(build({ tables, elements: [[0x02, 0x00, I32_CONST, 0, END, 0x00, ...vec([uleb(N_IMPORTS)])]] }), "element segment encoding 2");
  });

  it("atomics: an 0xFE instruction", () => {
    const bytes = probe({ params: [], results: [], body: [I32_CONST, 0, 0xfe, 0x10, 0x02, 0x00, DROP] });
    expectRejected(bytes, fn, "i32.atomic.load (0xFE 0x10)", "threads/atomics");
  });

  it("a shared memory (threads)", () => {
    expectRejected(build({ memories: [[0x03, 0x01, 0x02]] }), "shared memory (threads)");
  });

  it("tail calls: return_call and return_call_indirect", () => {
    expectRejected(
      probe({ params: [], results: [I32], body: (ctx) => [0x12, ...uleb(ctx.func("sxs_init"))] }),
      fn, "return_call (0x12)", "tail calls",
    );
    expectRejected(
      probe({ params: [], results: [I32], body: (ctx) => [I32_CONST, 0, 0x13, ...uleb(ctx.type([], [I32])), 0x00] },
        { tables: [[0x70, 0x00, 0x01]] }),
      "return_call_indirect (0x13)", "tail calls",
    );
  });

  it("reference types: ref.func", () => {
    expectRejected(
      probe({ params: [], results: [], body: (ctx) => [0xd2, ...uleb(ctx.func("sxs_init")), DROP] }),
      fn, "ref.func (0xD2)", "reference types",
    );
  });

  it("reference types: ref.null, ref.is_null, typed select, table.get", () => {
    expectRejected(probe({ params: [], results: [], body: [0xd0, 0x70, 0xd1, DROP] }), "ref.null (0xD0)", "ref.is_null (0xD1)");
    expectRejected(
      probe({ params: [], results: [I32], body: [I32_CONST, 1, I32_CONST, 2, I32_CONST, 0, 0x1c, ...vec([[I32]])] }),
      "select (0x1C)", "reference types",
    );
    expectRejected(
      probe({ params: [], results: [], body: [I32_CONST, 0, 0x25, 0x00, DROP] }, { tables: [[0x70, 0x00, 0x01]] }),
      "table.get (0x25)",
    );
  });

  it("table.grow and the other table.* instructions", () => {
    const tables = [[0x70, 0x00, 0x01]];
    expectRejected(
      probe({ params: [], results: [], body: [I32_CONST, 0, I32_CONST, 1, 0xfc, 0x0f, 0x00, DROP] }, { tables }),
      fn, "table.grow (0xFC 0x0F)",
    );
    for (const [sub, name, imm] of [
      [0x0c, "table.init", [0x00, 0x00]], [0x0d, "elem.drop", [0x00]], [0x0e, "table.copy", [0x00, 0x00]],
      [0x10, "table.size", [0x00]], [0x11, "table.fill", [0x00]],
    ] as [number, string, number[]][]) {
      expectRejected(
        probe({ params: [], results: [], body: [0xfc, sub, ...imm] }, { tables }),
        `${name} (0xFC 0x${sub.toString(16).toUpperCase().padStart(2, "0")})`,
      );
    }
  });

  it("tables beyond the MVP: two tables, an externref table, call_indirect through table 1", () => {
    expectRejected(build({ tables: [[0x70, 0x00, 0x01], [0x70, 0x00, 0x01]] }), "2 tables", "multiple tables");
    expectRejected(build({ tables: [[0x6f, 0x00, 0x01]] }), "element type externref");
    expectRejected(
      probe({ params: [], results: [], body: (ctx) => [I32_CONST, 0, 0x11, ...uleb(ctx.type([], [])), 0x01] },
        { tables: [[0x70, 0x00, 0x01]] }),
      "call_indirect (0x11) with table index 1",
    );
  });

  it("multiple memories", () => {
    expectRejected(build({ memories: [[0x00, 0x01], [0x00, 0x01]] }), "2 memories", "multiple memories");
    expectRejected(
      probe({ params: [], results: [], body: [I32_CONST, 0, 0x28, 0x42, 0x01, 0x00, DROP] }),
      "i32.load (0x28) with memory index 1",
    );
    expectRejected(probe({ params: [], results: [], body: [0x3f, 0x01, DROP] }), "memory.size (0x3F) with memory index 1");
  });

  it("memory64", () => {
    expectRejected(build({ memories: [[0x04, 0x01]] }), "64-bit memory");
  });

  it("exception handling: a tag section, try/throw", () => {
    // The tag section (id 13) goes between memory and global: splice it in after memory.
    const ok = build();
    const memEnd = sectionEnd(ok, 5);
    const tag = section(13, vec([[0x00, 0x00]]));
    const withTag = new Uint8Array([...ok.slice(0, memEnd), ...tag, ...ok.slice(memEnd)]);
    expectRejected(withTag, "tag section", "exception handling");
    expectRejected(probe({ params: [], results: [], body: [0x06, 0x40, 0x08, 0x00, 0x07, 0x00, END] }), "try (0x06)", "throw (0x08)", "catch (0x07)");
  });

  it("GC type definitions are refused with a message", () => {
    const ok = build();
    // replace the type section by one holding a struct type
    const typeEnd = sectionEnd(ok, 1);
    const bad = new Uint8Array([...ok.slice(0, 8), ...section(1, vec([[0x5f, 0x00]])), ...ok.slice(typeEnd)]);
    expectRejected(bad, "malformed module", "GC type definition (struct");
  });

  it("extended constant expressions in a global initializer", () => {
    expectRejected(build({ globals: [[I32, 0x00, I32_CONST, 1, I32_CONST, 2, 0x6a, END]] }), "global 0", "i32.add (0x6A)", "extended-const");
    expectRejected(build({ globals: [[I32, 0x00, 0xd0, 0x70, END]] }), "ref.null (0xD0)");
  });

  it("a wrong import", () => {
    const imports = [...abiImports(), { module: "env", name: "abort", params: [I32, I32, I32, I32], results: [] }];
    expectRejected(build({ imports }), 'import "env"."abort" (func)', "not in the allowed import list of docs/abi.md");
  });

  it("an allowed import with the wrong signature", () => {
    const imports = abiImports();
    imports[0] = { ...imports[0], params: [I32] };
    expectRejected(build({ imports }), '"env"."host_result"', "signature (i32) -> () differs from docs/abi.md: (i32, i32, i32) -> ()");
  });

  it("a non-function import", () => {
    const rawImports = [[...str("env"), ...str("mem"), 0x02, 0x00, 0x01]];
    expectRejected(build({ rawImports, memories: null }), 'import "env"."mem" (memory)', "only function imports");
  });

  it("a WASI import", () => {
    const imports = [...abiImports(), { module: "wasi_snapshot_preview1", name: "fd_write", params: [I32, I32, I32, I32], results: [I32] }];
    expectRejected(build({ imports }), '"wasi_snapshot_preview1"."fd_write"', "WASI import");
  });

  it("a missing export", () => {
    expectRejected(build({ omitExports: ["sxs_stat"] }), 'missing export "sxs_stat"', "docs/abi.md");
    expectRejected(build({ omitExports: ["memory"] }), 'missing export "memory"');
  });

  it("a required export with the wrong signature or kind", () => {
    const spec = { omitExports: ["sxs_run"], funcs: [{ params: [I32], results: [], body: [], export: "sxs_run" }] };
    expectRejected(build(spec), 'export "sxs_run"', "(i32) -> ()", "requires (i32) -> i32");
    expectRejected(build({ omitExports: ["sxs_free"], exports: [["sxs_free", 0x02, 0]] }), 'export "sxs_free"', "is a memory");
  });

  it("invalid code that decodes fine is caught by V8's validator", () => {
    // i64.const where the function returns i32
    expectRejected(probe({ params: [], results: [I32], body: [0x42, 0x01] }), "invalid module (V8's validator");
  });

  it("out-of-range indices and branch depths", () => {
    expectRejected(probe({ params: [], results: [], body: [0x10, 0x7f] }), "call (0x10): function index 127 out of range");
    expectRejected(probe({ params: [], results: [], body: [0x0c, 0x01] }), "br (0x0C): branch depth 1 exceeds the 1 enclosing block(s)");
    expectRejected(probe({ params: [I32], results: [], body: [LOCAL_GET, 1, DROP] }), "local.get (0x20): local index 1 out of range");
  });
});

function sectionEnd(bytes: Uint8Array, id: number): number {
  const m = parseModule(bytes);
  return m.sections.find((s: { id: number }) => s.id === id).end;
}

describe("malformed input", () => {
  it("every truncation of a valid module is reported, never thrown", () => {
    const bytes = build({ funcs: [{ params: [F64], results: [I64], body: [LOCAL_GET, 0, 0xfc, 0x06], export: "x" }] });
    for (let n = 0; n < bytes.length; n++) {
      const r = check(bytes.subarray(0, n));
      expect(r.ok, `truncated to ${n} bytes`).toBe(false);
      expect(r.text).toMatch(/^malformed module at offset 0x[0-9a-f]+: |missing export|function section declares/);
    }
  });

  it("random corruption never makes the checker throw", () => {
    const good = build();
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let rejected = 0;
    for (let t = 0; t < 3000; t++) {
      const b = good.slice();
      const flips = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < flips; k++) b[8 + Math.floor(rnd() * (b.length - 8))] = Math.floor(rnd() * 256);
      const r = check(b);
      if (!r.ok) rejected++;
      for (const e of r.errors) expect(typeof e.message).toBe("string");
    }
    expect(rejected).toBeGreaterThan(1000);
  });

  it("LEB128 edge cases: over-long and out-of-range encodings are malformed", () => {
    // i32.const with a 6-byte LEB
    expectRejected(probe({ params: [], results: [], body: [I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, DROP] }),
      "malformed", "longer than 5 bytes");
    // i32.const 0x80000000 needs 33 bits signed: 0x80 0x80 0x80 0x80 0x08 is out of range for s32
    expectRejected(probe({ params: [], results: [], body: [I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x08, DROP] }), "does not fit in s32");
    // i32.const -2^31 is fine: 0x80 0x80 0x80 0x80 0x78
    expectAccepted(probe({ params: [], results: [I32], body: [I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x78] }));
  });

  it("the reader decodes immediates exactly", () => {
    const bytes = probe({
      params: [], results: [],
      body: [
        I32_CONST, ...sleb(-2147483648), DROP,
        0x42, ...sleb(-9223372036854775808n), DROP,
        0x42, ...sleb(9223372036854775807n), DROP,
        0x43, ...Buffer.from(new Float32Array([1.5]).buffer), DROP,
        0x44, ...f64bytes(-1e300), DROP,
        I32_CONST, 0, 0x2d, 0x00, ...uleb(0xffffffff), DROP,
      ],
    });
    const m = parseModule(bytes);
    const seen: any[] = [];
    decodeFunction(m, PROBE, (ins: any) => {
      if (ins.imm) seen.push([ins.name, ins.imm.value ?? ins.imm.offset]);
    });
    expect(seen).toEqual([
      ["i32.const", -2147483648],
      ["i64.const", -9223372036854775808n],
      ["i64.const", 9223372036854775807n],
      ["f32.const", 1.5],
      ["f64.const", -1e300],
      ["i32.const", 0],
      ["i32.load8_u", 0xffffffff],
    ]);
    const report = sizeReport(m);
    expect(report.sections.reduce((s: number, x: { bytes: number }) => s + x.bytes, report.header)).toBe(bytes.length);
    expect(report.functions).toHaveLength(m.codes.length);
  });

  it("the command line reports a truncated file and garbage without a stack trace", () => {
    const truncated = join(tmp, "truncated.wasm");
    writeFileSync(truncated, build().subarray(0, 40));
    const garbage = join(tmp, "garbage.wasm");
    writeFileSync(garbage, Buffer.from("this is not a wasm file at all\n"));
    const empty = join(tmp, "empty.wasm");
    writeFileSync(empty, new Uint8Array(0));
    for (const [file, msg] of [
      [truncated, /malformed module at offset 0x[0-9a-f]+: .*(truncated|unexpected end)/],
      [garbage, /not a WebAssembly binary \(bad magic/],
      [empty, /file too short/],
      [join(tmp, "missing.wasm"), /cannot read .*missing\.wasm: ENOENT/],
    ] as [string, RegExp][]) {
      const r = cli([file]);
      expect(r.status, file).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toContain(`${file}: REJECTED`);
      expect(r.stderr).not.toMatch(/\n\s+at |Error:|node:internal/);
      const j = cli([file, "--json"]);
      expect(j.status).toBe(1);
      expect(JSON.parse(j.stdout)).toMatchObject({ file, ok: false, errors: [{ message: expect.stringMatching(msg) }] });
    }
  });

  it("the command line lists every problem of a rejected image", () => {
    const file = join(tmp, "bad.wasm");
    const imports = [...abiImports(), { module: "wasi_unstable", name: "proc_exit", params: [I32], results: [] }];
    writeFileSync(file, probe({ params: [], results: [], body: [0xfc, 0x09, 0x00] }, { imports, omitExports: ["sxs_split"], datas: [], dataCount: 0 }));
    const r = cli([file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/REJECTED \(3 problems\)/);
    expect(r.stderr).toContain("WASI import");
    expect(r.stderr).toContain("data.drop (0xFC 0x09)");
    expect(r.stderr).toContain('missing export "sxs_split"');
  });

  it("usage: --help, unknown options, no file", () => {
    const h = cli(["--help"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^usage: node tools\/check-image\.mjs FILE\.wasm \[--json\]/);
    expect(cli(["--frobnicate", "x.wasm"]).status).toBe(2);
    expect(cli([]).status).toBe(2);
  });
});

describe("real AssemblyScript output", () => {
  let wasm: string;
  beforeAll(() => {
    wasm = join(tmp, "small.wasm");
    // From the temporary directory, so that the project's asconfig.json is not picked up.
    execFileSync(
      process.execPath,
      [
        join(ROOT, "node_modules/assemblyscript/bin/asc.js"),
        join(ROOT, "test/tools/fixtures/small.ts"),
        "--runtime", "stub", "--use", "abort=", "-Oz",
        "-o", wasm,
      ],
      { cwd: tmp, stdio: "pipe" },
    );
  }, 60_000);

  it("passes with --no-abi, using sign-ext, sat-f2i and memory.copy/fill", () => {
    const r = cli([wasm, "--no-abi"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^.*small\.wasm: ok, \d+ bytes, \d+ functions, 0 imports, \d+ exports \(MVP \+ sign-ext \+ sat-f2i \+ bulk-memory copy\/fill\)\n$/);
    const j = JSON.parse(cli([wasm, "--no-abi", "--json"]).stdout);
    expect(j.ok).toBe(true);
    expect(j.used["memory.copy"]).toBeGreaterThan(0);
    expect(j.used["memory.fill"]).toBeGreaterThan(0);
    expect(j.used["sign-extension"]).toBeGreaterThan(0);
    expect(j.used["nontrapping-f2i"]).toBeGreaterThan(0);
    // asc emits a data count section with bulk memory on: fine without passive segments
    const m = parseModule(readFileSync(wasm));
    expect(m.sections.map((s: { name: string }) => s.name)).toContain("datacount");
  });

  it("fails the ABI check without --no-abi (it is not the image)", () => {
    const r = cli([wasm]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('missing export "sxs_abi_version"');
  });
});
