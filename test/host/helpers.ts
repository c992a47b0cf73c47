// Shared helpers for the host tests.

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import binaryen from "binaryen";
import { ABI_VERSION } from "../../host/image/image.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const IMAGE = join(ROOT, "build", "sxs.wasm");
export const BIN = join(ROOT, "bin", "sxs.mjs");
const DIST_MAIN = join(ROOT, "dist", "host", "cli", "main.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes sure dist/ holds a build of host/ at least as new as the sources (the CLI runs from
 * dist/). Test files run in parallel workers, so a lock directory keeps it to one tsc.
 */
export async function ensureDist(): Promise<void> {
  const fresh = (): boolean =>
    existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= newestMtime(join(ROOT, "host"));
  if (fresh()) return;
  const lock = join(ROOT, "dist", ".build-lock");
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // someone else builds; a lock older than two minutes is stale
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await sleep(200);
      if (fresh()) return;
    }
  }
  try {
    if (fresh()) return;
    await promisify(execFile)(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.json")], {
      cwd: ROOT,
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/sxs.mjs ...args` with `input` on stdin (closed after). */
export function runCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", SXS_HISTORY: "", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** The pids of a process's children (Linux /proc; none when it has ended). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A temporary directory for a test. */
export function tempDir(prefix: string): string {
  const d = join(tmpdir(), `${prefix}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/**
 * A small image that speaks the ABI, for testing what lies around the image:
 * - `trapRun`: sxs_run traps (`unreachable`) on its first call: it passes every check
 *   at FLASH_COMMIT (exports, ABI version, sxs_init) but traps at start-up;
 * - `busyRun`: sxs_run always answers "work remains": never reaches idle;
 * - `abi`: what sxs_abi_version answers; `initResult`: what sxs_init answers;
 * - `tag`: a constant folded into the module, so that images differ in their CRC.
 * - `log`: each request also logs its text before the answer.
 * It holds one request at a time (a second submit gets "queue full"). A request is
 * answered with its own text; a request starting with `!` traps.
 */
export function fakeWasm(o: { trapRun?: boolean; busyRun?: boolean; abi?: number; initResult?: number; tag?: number; log?: boolean } = {}): Uint8Array {
  const runHead = o.trapRun ? "unreachable" : o.busyRun ? "(return (i32.const 1))" : "";
  const wat = `(module
 (import "env" "host_result" (func $result (param i32 i32 i32)))
 (import "env" "host_log" (func $log (param i32 i32)))
 (import "env" "host_event" (func $event (param i32 i32 i32 i32)))
 (import "env" "host_now" (func $now (result f64)))
 (memory (export "memory") 1 4)
 (global $req (mut i32) (i32.const 0))
 (global $len (mut i32) (i32.const 0))
 (global $tag i32 (i32.const ${o.tag ?? 0}))
 (func (export "sxs_abi_version") (result i32) (i32.const ${o.abi ?? ABI_VERSION}))
 (func (export "sxs_limit") (param i32 i32) (result i32) (i32.const 0))
 (func (export "sxs_init") (result i32) (i32.const ${o.initResult ?? 0}))
 (func (export "sxs_input") (param i32) (result i32) (i32.const 1024))
 (func (export "sxs_submit") (param $r i32) (param $p i32) (param $l i32) (result i32)
   (if (i32.ne (local.get $p) (i32.const 0)) (then (return (i32.const -2))))
   (if (global.get $req) (then (return (i32.const -1))))
   (memory.copy (i32.const 2048) (i32.const 1024) (local.get $l))
   (global.set $req (local.get $r)) (global.set $len (local.get $l)) (i32.const 0))
 (func (export "sxs_run") (param i32) (result i32)
   ${runHead}
   (if (i32.eqz (global.get $req)) (then (return (i32.const 0))))
   (if (i32.eq (i32.load8_u (i32.const 2048)) (i32.const 33)) (then unreachable))
   ${o.log ? "(call $log (i32.const 2048) (global.get $len))" : ""}
   (call $result (global.get $req) (i32.const 2048) (global.get $len))
   (global.set $req (i32.const 0))
   (i32.const 0))
 (func (export "sxs_next_timer") (result f64) (f64.const -1))
 (func (export "sxs_interrupt") (param i32) (result i32) (i32.const 0))
 (func (export "sxs_watch") (param i32 i32 i32) (result i32) (i32.const 0))
 (func (export "sxs_split") (param i32) (result i32) (i32.const 0))
 (func (export "sxs_free") (param i32))
 (func (export "sxs_stat") (param i32) (result f64) (f64.convert_i32_s (global.get $tag)))
 (func (export "sxs_encode") (param i32) (result i32) (i32.const 0))
 (func (export "sxs_decode") (param i32) (result i32) (i32.const 0))
)`;
  const m = binaryen.parseText(wat);
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
  try {
    if (!m.validate()) throw new Error("fake image does not validate");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** fakeWasm({ log: true }) written to `file` (for the host's side: board and CLI tests). */
export function writeFakeImage(file: string): string {
  writeFileSync(file, fakeWasm({ log: true }));
  return file;
}

/** Test files that need the real image fail with this message when it is missing. */
export function requireImage(): void {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: build it with \`npm run build:image\``);
}
