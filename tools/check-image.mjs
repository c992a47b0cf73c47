#!/usr/bin/env node
// Check that a Wasm image uses only what wasm3 0.5.0 runs and only the host ABI of
// docs/abi.md. Plain Node ESM, no dependencies; the binary is parsed by
// tools/wasm-reader.mjs (every section, every instruction with its immediates).
//
//   node tools/check-image.mjs FILE.wasm [--json] [--no-abi] [--help]
//
// Exit status: 0 ok, 1 rejected (or unreadable/malformed), 2 bad usage.

import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  NUMERIC_TYPES,
  WasmError,
  allGlobals,
  decodeFunction,
  describeFunction,
  funcCount,
  funcTypeIndex,
  hex,
  opcodeLabel,
  parseModule,
  signature,
} from "./wasm-reader.mjs";

// ---------------------------------------------------------------------------
// The host ABI (docs/abi.md). Keep these lists in step with that document.

export const ABI_DOC = "docs/abi.md";

/** Every import the image may have (all functions). The image need not use them all. */
export const ALLOWED_IMPORTS = [
  { module: "env", name: "host_result", params: ["i32", "i32", "i32"], results: [] },
  { module: "env", name: "host_log", params: ["i32", "i32"], results: [] },
  { module: "env", name: "host_event", params: ["i32", "i32", "i32", "i32"], results: [] },
  { module: "env", name: "host_now", params: [], results: ["f64"] },
  { module: "env", name: "host_flash_size", params: [], results: ["i32"] },
  { module: "env", name: "host_flash_read", params: ["i32", "i32", "i32"], results: ["i32"] },
  { module: "env", name: "host_flash_write", params: ["i32", "i32", "i32"], results: ["i32"] },
  { module: "env", name: "host_flash_erase", params: ["i32", "i32"], results: ["i32"] },
];

/** Every export the image must have. Other exports are allowed. */
export const REQUIRED_EXPORTS = [
  { name: "memory", kind: "memory" },
  { name: "sxs_abi_version", kind: "func", params: [], results: ["i32"] },
  { name: "sxs_limit", kind: "func", params: ["i32", "i32"], results: ["i32"] },
  { name: "sxs_init", kind: "func", params: [], results: ["i32"] },
  { name: "sxs_input", kind: "func", params: ["i32"], results: ["i32"] },
  { name: "sxs_submit", kind: "func", params: ["i32", "i32", "i32"], results: ["i32"] },
  { name: "sxs_run", kind: "func", params: ["i32"], results: ["i32"] },
  { name: "sxs_next_timer", kind: "func", params: [], results: ["f64"] },
  { name: "sxs_interrupt", kind: "func", params: ["i32"], results: ["i32"] },
  { name: "sxs_watch", kind: "func", params: ["i32", "i32", "i32"], results: ["i32"] },
  { name: "sxs_split", kind: "func", params: ["i32"], results: ["i32"] },
  { name: "sxs_free", kind: "func", params: ["i32"], results: [] },
  { name: "sxs_encode", kind: "func", params: ["i32"], results: ["i32"] },
  { name: "sxs_decode", kind: "func", params: ["i32"], results: ["i32"] },
  { name: "sxs_stat", kind: "func", params: ["i32"], results: ["f64"] },
];

/** Import modules that mean WASI. */
const WASI_MODULE = /^wasi(_|$|:)/;

export const FEATURES = "MVP + sign-ext + sat-f2i + bulk-memory copy/fill";

// ---------------------------------------------------------------------------
// What wasm3 0.5.0 runs

const ENGINE = "wasm3 0.5.0";

/** Instructions outside the MVP that wasm3 0.5.0 runs. */
const ALLOWED_EXTENSION_OPS = new Set([
  "i32.extend8_s", "i32.extend16_s", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s",
  "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
  "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u",
  "memory.copy", "memory.fill",
]);

const PROPOSAL_REASON = {
  "simd": `SIMD (0xFD prefix) is not supported by ${ENGINE}`,
  "threads": `threads/atomics (0xFE prefix) are not supported by ${ENGINE}`,
  "tail-call": `tail calls are not supported by ${ENGINE}`,
  "exceptions": `exception handling is not supported by ${ENGINE}`,
  "reference-types": `reference types are not supported by ${ENGINE}`,
  "function-references": `typed function references are not supported by ${ENGINE}`,
  "gc": `GC instructions are not supported by ${ENGINE}`,
  "bulk-memory": `of the bulk-memory operations ${ENGINE} runs only memory.copy and memory.fill`,
};

function typeProblem(type) {
  if (NUMERIC_TYPES.has(type)) return null;
  if (type === "v128") return `v128 (SIMD) is not supported by ${ENGINE}`;
  if (type === "funcref" || type === "externref") return `${type} (reference types) is not supported by ${ENGINE}`;
  return `${type} (GC/typed references) is not supported by ${ENGINE}`;
}

function limitsProblem(limits, what) {
  if (limits.is64) return `64-bit ${what} (memory64/table64) is not supported by ${ENGINE}`;
  if (limits.shared) return `shared ${what} (threads) is not supported by ${ENGINE}`;
  if (limits.max !== null && limits.max < limits.min) return `${what} maximum ${limits.max} is below its minimum ${limits.min}`;
  if (what === "memory" && (limits.min > 65536 || (limits.max ?? 0) > 65536)) return "memory limits exceed 65536 pages (4 GiB)";
  return null;
}

const sameTypes = (a, b) => a.length === b.length && a.every((t, i) => t === b[i]);

// ---------------------------------------------------------------------------
// The check

/**
 * Check an image. Returns { ok, errors: [{ message, offset?, func? }], info }.
 * Never throws for bad input: a malformed binary is reported as an error.
 * @param {Uint8Array} bytes
 * @param {{ abi?: boolean, validate?: boolean }} options  abi: check imports/exports
 *   against docs/abi.md (default true); validate: also run V8's validator (default true)
 */
export function checkImage(bytes, { abi = true, validate = true } = {}) {
  const errors = [];
  const info = { bytes: bytes.length, functions: 0, imports: 0, exports: 0, used: {} };
  let m;
  try {
    m = parseModule(bytes);
  } catch (e) {
    if (!(e instanceof WasmError)) throw e;
    errors.push({ message: `malformed module at offset ${hex(e.offset ?? 0)}: ${e.message}`, offset: e.offset });
    return { ok: false, errors, info };
  }
  info.functions = m.funcs.length;
  info.imports = m.imports.length;
  info.exports = m.exports.length;

  const err = (message, offset, func) => errors.push({ message, offset, func });
  const at = (offset) => `at ${hex(offset)}`;
  const used = {
    "sign-extension": 0,
    "nontrapping-f2i": 0,
    "memory.copy": 0,
    "memory.fill": 0,
    "multi-value blocks": 0,
    "multi-value functions": 0,
    "mutable globals": 0,
    instructions: 0,
  };
  info.used = used;

  // Sections the engine does not know
  for (const s of m.sections) {
    if (s.id === 13) err(`tag section ${at(s.offset)}: exception handling is not supported by ${ENGINE}`, s.offset);
  }
  if (m.nameSectionError) {
    err(`custom "name" section: malformed (${m.nameSectionError.message} ${at(m.nameSectionError.offset)}); ${ENGINE} parses it and would refuse the module`, m.nameSectionError.offset);
  }

  // Types
  m.types.forEach((t, i) => {
    for (const v of [...t.params, ...t.results]) {
      const p = typeProblem(v);
      if (p) {
        err(`type ${i} ${signature(t)} ${at(t.offset)}: ${p}`, t.offset);
        break;
      }
    }
  });
  const typeOk = (idx) => idx < m.types.length;

  // Imports
  let importedFunc = 0;
  m.imports.forEach((imp) => {
    const what = `import "${imp.module}"."${imp.name}" (${imp.kind}) ${at(imp.offset)}`;
    if (imp.kind === "func") {
      const fidx = importedFunc++;
      if (!typeOk(imp.type)) return err(`${what}: type index ${imp.type} out of range`, imp.offset);
      if (!abi) return;
      if (WASI_MODULE.test(imp.module)) {
        return err(`${what}: WASI import; the image must not use WASI (${ABI_DOC} allows only ${allowedList()})`, imp.offset, fidx);
      }
      const allowed = ALLOWED_IMPORTS.find((a) => a.module === imp.module && a.name === imp.name);
      if (!allowed) return err(`${what}: not in the allowed import list of ${ABI_DOC} (${allowedList()})`, imp.offset, fidx);
      const t = m.types[imp.type];
      if (!sameTypes(t.params, allowed.params) || !sameTypes(t.results, allowed.results)) {
        err(`${what}: signature ${signature(t)} differs from ${ABI_DOC}: ${signature(allowed)}`, imp.offset, fidx);
      }
      return;
    }
    if (abi && imp.kind !== "func") {
      return err(`${what}: ${ABI_DOC} allows only function imports (${allowedList()})`, imp.offset);
    }
    if (imp.kind === "table") return err(`${what}: table imports are not supported by ${ENGINE}`, imp.offset);
    if (imp.kind === "tag") return err(`${what}: exception handling is not supported by ${ENGINE}`, imp.offset);
    if (imp.kind === "memory") {
      const p = limitsProblem(imp.memory, "memory");
      if (p) err(`${what}: ${p}`, imp.offset);
    }
    if (imp.kind === "global") {
      const p = typeProblem(imp.global.type);
      if (p) err(`${what}: ${p}`, imp.offset);
      if (imp.global.mutable) used["mutable globals"]++;
    }
  });

  // Functions
  m.funcs.forEach((t, i) => {
    const fidx = m.imported.func + i;
    if (!typeOk(t)) err(`${describeFunction(m, fidx)}: type index ${t} out of range`, m.codes[i]?.offset, fidx);
    else if (m.types[t].results.length > 1) used["multi-value functions"]++;
  });

  // Tables
  const nTables = m.imported.table + m.tables.length;
  if (nTables > 1) {
    const s = m.sections.find((x) => x.id === 4) ?? m.sections.find((x) => x.id === 2);
    err(`${nTables} tables: multiple tables (reference types) are not supported by ${ENGINE}; the MVP allows one funcref table`, s?.offset);
  }
  m.tables.forEach((t, i) => {
    const what = `table ${m.imported.table + i} ${at(t.offset)}`;
    if (t.refType !== "funcref") err(`${what}: element type ${t.refType}; only the MVP funcref table is supported by ${ENGINE}`, t.offset);
    if (t.init) err(`${what}: table initializer expression (typed function references) is not supported by ${ENGINE}`, t.offset);
    const p = limitsProblem(t.limits, "table");
    if (p) err(`${what}: ${p}`, t.offset);
  });

  // Memories
  const nMemories = m.imported.memory + m.memories.length;
  const memSection = m.sections.find((x) => x.id === 5);
  if (nMemories > 1) {
    err(`${nMemories} memories: multiple memories are not supported by ${ENGINE}`, memSection?.offset);
  }
  if (memSection && m.memories.length === 0) {
    err(`memory section ${at(memSection.offset)} declares no memory; ${ENGINE} requires exactly one entry in a memory section`, memSection.offset);
  }
  m.memories.forEach((mem, i) => {
    const p = limitsProblem(mem.limits, "memory");
    if (p) err(`memory ${m.imported.memory + i} ${at(mem.offset)}: ${p}`, mem.offset);
  });
  const memoryLimits = m.imports.find((x) => x.kind === "memory")?.memory ?? m.memories[0]?.limits ?? null;

  // Globals
  const globals = allGlobals(m);
  m.globals.forEach((g, i) => {
    const gidx = m.imported.global + i;
    const what = `global ${gidx} ${at(g.offset)}`;
    if (g.mutable) used["mutable globals"]++;
    const p = typeProblem(g.type);
    if (p) err(`${what}: ${p}`, g.offset);
    checkConstExpr(g.init, g.type, what);
  });

  // MVP constant expression: one t.const, or global.get of an imported immutable global.
  function checkConstExpr(expr, type, what) {
    const ins = expr.instrs;
    const first = ins[0];
    if (ins.length !== 2) {
      const bad = ins.find((x) => x.name !== "end" && !/^(i32|i64|f32|f64)\.const$|^global\.get$/.test(x.name)) ?? ins[1];
      const reason = bad.proposal !== "mvp" && PROPOSAL_REASON[bad.proposal]
        ? PROPOSAL_REASON[bad.proposal]
        : `constant expressions other than one *.const or global.get (extended-const) are not supported by ${ENGINE}`;
      return err(`${what}: initializer uses ${opcodeLabel(bad)} ${at(bad.offset)}: ${reason}`, bad.offset);
    }
    if (first.proposal !== "mvp") {
      return err(`${what}: initializer uses ${opcodeLabel(first)} ${at(first.offset)}: ${PROPOSAL_REASON[first.proposal] ?? `not supported by ${ENGINE}`}`, first.offset);
    }
    if (first.name === "global.get") {
      const g = first.imm.global;
      if (g >= m.imported.global) {
        return err(`${what}: initializer reads global ${g}, which is not an imported global`, first.offset);
      }
      if (globals[g].mutable) return err(`${what}: initializer reads mutable global ${g}`, first.offset);
      if (globals[g].type !== type) return err(`${what}: initializer has type ${globals[g].type}, expected ${type}`, first.offset);
      return;
    }
    const t = first.name.slice(0, 3);
    if (!/^(i32|i64|f32|f64)\.const$/.test(first.name)) {
      return err(`${what}: ${opcodeLabel(first)} ${at(first.offset)} is not a constant instruction`, first.offset);
    }
    if (t !== type) err(`${what}: initializer has type ${t}, expected ${type}`, first.offset);
  }

  // Exports
  const exportNames = new Map();
  for (const e of m.exports) {
    const what = `export "${e.name}" ${at(e.offset)}`;
    if (exportNames.has(e.name)) err(`${what}: duplicate export name`, e.offset);
    exportNames.set(e.name, e);
    const count = { func: funcCount(m), table: nTables, memory: nMemories, global: globals.length, tag: m.imported.tag + m.tags.length }[e.kind];
    if (e.index >= count) err(`${what}: ${e.kind} index ${e.index} out of range (${count} ${e.kind}(s))`, e.offset);
  }
  if (abi) {
    for (const req of REQUIRED_EXPORTS) {
      const e = exportNames.get(req.name);
      if (!e) {
        err(`missing export "${req.name}" (${req.kind}${req.kind === "func" ? ` ${signature(req)}` : ""}) required by ${ABI_DOC}`);
        continue;
      }
      if (e.kind !== req.kind) {
        err(`export "${req.name}" ${at(e.offset)} is a ${e.kind}; ${ABI_DOC} requires a ${req.kind}`, e.offset);
        continue;
      }
      if (req.kind === "func" && e.index < funcCount(m)) {
        const t = m.types[funcTypeIndex(m, e.index)];
        if (t && (!sameTypes(t.params, req.params) || !sameTypes(t.results, req.results))) {
          err(`export "${req.name}" ${at(e.offset)} has signature ${signature(t)}; ${ABI_DOC} requires ${signature(req)}`, e.offset);
        }
      }
    }
  }

  // Start
  if (m.start) {
    const { index, offset } = m.start;
    if (index >= funcCount(m)) err(`start function ${index} ${at(offset)} out of range`, offset);
    else {
      const t = m.types[funcTypeIndex(m, index)];
      if (t && (t.params.length || t.results.length)) err(`start function ${index} has signature ${signature(t)}; must be () -> ()`, offset);
    }
  }

  // Element segments
  m.elements.forEach((seg, i) => {
    const what = `element segment ${i} ${at(seg.offset)}`;
    if (seg.mode !== "active") {
      return err(`${what}: ${seg.mode} element segment (bulk memory/reference types) is not supported by ${ENGINE}`, seg.offset);
    }
    if (seg.flags !== 0) {
      return err(`${what}: element segment encoding ${seg.flags} (explicit table index or expressions, reference types) is not supported by ${ENGINE}; only flags 0`, seg.offset);
    }
    if (nTables === 0) return err(`${what}: active element segment without a table`, seg.offset);
    checkConstExpr(seg.offsetExpr, "i32", `${what} offset`);
    for (const f of seg.funcs) {
      if (f >= funcCount(m)) {
        err(`${what}: function index ${f} out of range`, seg.offset);
        break;
      }
    }
  });

  // Data
  const passive = m.datas.filter((d) => d.mode === "passive").length;
  if (m.dataCount !== null && passive > 0) {
    const s = m.sections.find((x) => x.id === 12);
    err(`data count section ${at(s.offset)} with ${passive} passive data segment(s): passive segments (memory.init/data.drop) are not supported by ${ENGINE}`, s.offset);
  }
  m.datas.forEach((d, i) => {
    const what = `data segment ${i} ${at(d.offset)}`;
    if (d.mode === "passive") {
      return err(`${what}: passive data segment (bulk memory) is not supported by ${ENGINE}; use active segments`, d.offset);
    }
    if (d.flags !== 0) {
      return err(`${what}: data segment with an explicit memory index (flags ${d.flags}, multi-memory encoding) is not supported by ${ENGINE}`, d.offset);
    }
    if (nMemories === 0) return err(`${what}: data segment without a memory`, d.offset);
    const before = errors.length;
    checkConstExpr(d.offsetExpr, "i32", `${what} offset`);
    if (errors.length === before && memoryLimits) {
      const c = d.offsetExpr.instrs[0];
      if (c.name === "i32.const") {
        const start = c.imm.value >>> 0;
        if (start + d.size > memoryLimits.min * 65536) {
          err(`${what}: ${d.size} byte(s) at ${start} lie outside the initial memory (${memoryLimits.min} page(s))`, d.offset);
        }
      }
    }
  });

  // Code
  m.codes.forEach((code) => checkFunction(m, code));

  function checkFunction(mod, code) {
    const fidx = code.funcIndex;
    const where = describeFunction(mod, fidx);
    const t = mod.types[mod.funcs[fidx - mod.imported.func]];
    const nLocals = (t ? t.params.length : 0) + code.localCount;
    for (const l of code.locals) {
      const p = typeProblem(l.type);
      if (p) {
        err(`${where} ${at(code.offset)}: local of type ${p}`, code.offset, fidx);
        break;
      }
    }
    const seen = new Map(); // one report per distinct construct, with a count
    const report = (key, offset, message) => {
      const prev = seen.get(key);
      if (prev) {
        prev.more++;
        return;
      }
      const e = { message: `${where} at ${hex(offset)}: ${message}`, offset, func: fidx, more: 0 };
      seen.set(key, e);
      errors.push(e);
    };
    const label = (ins) => opcodeLabel(ins);
    try {
      decodeFunction(mod, fidx, (ins, depth) => {
        used.instructions++;
        const name = ins.name;
        if (ins.undecodable) {
          report(label(ins), ins.offset, `${label(ins)}: ${PROPOSAL_REASON[ins.proposal]} (the rest of this function was not decoded)`);
          return false;
        }
        if (ins.proposal !== "mvp" && !ALLOWED_EXTENSION_OPS.has(name)) {
          report(label(ins), ins.offset, `${label(ins)}: ${PROPOSAL_REASON[ins.proposal] ?? `not supported by ${ENGINE}`}`);
          return;
        }
        if (ins.proposal === "sign-extension") used["sign-extension"]++;
        else if (ins.proposal === "nontrapping-f2i") used["nontrapping-f2i"]++;
        else if (name === "memory.copy" || name === "memory.fill") used[name]++;

        const imm = ins.imm;
        switch (ins.info.imm) {
          case "blocktype":
            if (imm.kind === "value") {
              const p = typeProblem(imm.type);
              if (p) report(`bt:${imm.type}`, ins.offset, `${label(ins)} with block type ${p}`);
            } else if (imm.kind === "index") {
              if (!typeOk(imm.index)) report(`bt#${imm.index}`, ins.offset, `${label(ins)}: block type index ${imm.index} out of range`);
              else used["multi-value blocks"]++;
            }
            break;
          case "label":
            if (imm.label >= depth) report(`label`, ins.offset, `${label(ins)}: branch depth ${imm.label} exceeds the ${depth} enclosing block(s)`);
            break;
          case "br_table":
            for (const l of [...imm.labels, imm.default]) {
              if (l >= depth) {
                report(`label`, ins.offset, `${label(ins)}: branch depth ${l} exceeds the ${depth} enclosing block(s)`);
                break;
              }
            }
            break;
          case "func":
            if (imm.func >= funcCount(mod)) report(`func`, ins.offset, `${label(ins)}: function index ${imm.func} out of range`);
            break;
          case "call_indirect":
            if (imm.table !== 0) {
              report(`cit`, ins.offset, `${label(ins)} with table index ${imm.table}: multiple tables (reference types) are not supported by ${ENGINE}`);
            } else if (nTables === 0) report(`cit0`, ins.offset, `${label(ins)} without a table`);
            if (!typeOk(imm.type)) report(`citype`, ins.offset, `${label(ins)}: type index ${imm.type} out of range`);
            break;
          case "local":
            if (imm.local >= nLocals) report(`local`, ins.offset, `${label(ins)}: local index ${imm.local} out of range (${nLocals} local(s))`);
            break;
          case "global":
            if (imm.global >= globals.length) report(`global`, ins.offset, `${label(ins)}: global index ${imm.global} out of range`);
            else if (name === "global.set" && !globals[imm.global].mutable) report(`gset`, ins.offset, `${label(ins)}: global ${imm.global} is immutable`);
            break;
          case "memarg":
            if (imm.multiMemory) report(`mm`, ins.offset, `${label(ins)} with memory index ${imm.memory}: multiple memories are not supported by ${ENGINE}`);
            else if (nMemories === 0) report(`nomem`, ins.offset, `${label(ins)} without a memory`);
            if (ins.info.align !== undefined && imm.align > ins.info.align) {
              report(`align`, ins.offset, `${label(ins)}: alignment 2^${imm.align} exceeds the natural alignment 2^${ins.info.align}`);
            }
            if (typeof imm.offset === "bigint") report(`off64`, ins.offset, `${label(ins)}: 64-bit offset (memory64) is not supported by ${ENGINE}`);
            break;
          case "memidx":
          case "memory.copy":
            if (imm.memory !== 0 || (imm.memory2 ?? 0) !== 0) {
              report(`mm`, ins.offset, `${label(ins)} with memory index ${imm.memory || imm.memory2}: multiple memories are not supported by ${ENGINE}`);
            } else if (nMemories === 0) report(`nomem`, ins.offset, `${label(ins)} without a memory`);
            break;
        }
      });
    } catch (e) {
      if (!(e instanceof WasmError)) throw e;
      err(`${where}: malformed body at offset ${hex(e.offset ?? code.offset)}: ${e.message}`, e.offset, fidx);
    }
    for (const e of seen.values()) {
      if (e.more) e.message += ` (and ${e.more} more in this function)`;
      delete e.more;
    }
  }

  // Finally V8's validator (types, stack discipline) — only when our checks passed,
  // whose messages are more specific.
  if (errors.length === 0 && validate && typeof WebAssembly !== "undefined") {
    if (!WebAssembly.validate(bytes)) {
      let detail = "WebAssembly.validate() returned false";
      try {
        new WebAssembly.Module(bytes);
      } catch (e) {
        detail = String(e.message ?? e);
      }
      err(`invalid module (V8's validator: ${detail})`);
    }
  }

  return { ok: errors.length === 0, errors, info };
}

function allowedList() {
  return ALLOWED_IMPORTS.map((a) => `${a.module}.${a.name}`).join(", ");
}

// ---------------------------------------------------------------------------
// Command line

const USAGE = `usage: node tools/check-image.mjs FILE.wasm [--json] [--no-abi] [--help]

Checks that FILE.wasm only uses what ${ENGINE} runs (${FEATURES},
mutable globals, multi-value) and, unless --no-abi, only the imports and all the
exports of ${ABI_DOC}. The whole binary is parsed and every instruction decoded.

  --json     print the result as one JSON object on stdout
  --no-abi   skip the import/export checks (for modules that are not the image)
  --help     show this help

Exit status: 0 ok, 1 rejected or unreadable, 2 bad usage.`;

const MAX_LISTED = 40;

export function main(argv) {
  let json = false;
  let abi = true;
  const files = [];
  for (const a of argv) {
    if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE + "\n");
      return 0;
    } else if (a === "--json") json = true;
    else if (a === "--no-abi") abi = false;
    else if (a.startsWith("-") && a !== "-") {
      process.stderr.write(`check-image: unknown option ${a}\n${USAGE}\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    process.stderr.write(`check-image: expected one FILE.wasm, got ${files.length}\n${USAGE}\n`);
    return 2;
  }
  const file = files[0];

  const fail = (errors) => {
    if (json) {
      process.stdout.write(JSON.stringify({ file, ok: false, errors }) + "\n");
    } else {
      const lines = errors.slice(0, MAX_LISTED).map((e) => `  ${e.message}`);
      if (errors.length > MAX_LISTED) lines.push(`  ... and ${errors.length - MAX_LISTED} more`);
      process.stderr.write(`${file}: REJECTED (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n${lines.join("\n")}\n`);
    }
    return 1;
  };

  let bytes;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return fail([{ message: `cannot read ${file}: ${e.code ?? e.message}` }]);
  }
  let result;
  try {
    result = checkImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { abi });
  } catch (e) {
    // A bug in this tool, not in the image: still no stack trace by default.
    return fail([{ message: `internal error in check-image: ${e?.message ?? e}` }]);
  }
  if (!result.ok) return fail(result.errors);
  const { info } = result;
  if (json) {
    process.stdout.write(JSON.stringify({
      file, ok: true, bytes: info.bytes, functions: info.functions, imports: info.imports,
      exports: info.exports, features: FEATURES, abi, used: info.used,
    }) + "\n");
  } else {
    process.stdout.write(`${file}: ok, ${info.bytes} bytes, ${info.functions} functions, ${info.imports} imports, ` +
      `${info.exports} exports (${FEATURES})\n`);
  }
  return 0;
}

function isMain() {
  try {
    return process.argv[1] && realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
