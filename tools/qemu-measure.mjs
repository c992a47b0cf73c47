#!/usr/bin/env node
// node tools/qemu-measure.mjs: the RAM the firmware uses on the emulated RISC-V board
// (firmware/ports/qemu-rv32), measured by the board itself (--report: static data, the
// heap's span, the stack painted at boot and found used), for every transcript (each on
// a fresh board, over the serial link) and for the 1,000-entry / 64-subscription workload.

import { readdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(import.meta.url), "../..");
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log("usage: node tools/qemu-measure.mjs [--json] [--workload-only] [DIR...]\n\nRuns DIR/*.slp (default test/transcripts and ../shared/conformance when present) and the\n1,000-entry workload on the qemu-rv32 board with --report, and prints the largest figures.\n  --workload-only  the workload alone");
  process.exit(0);
}
const json = process.argv.includes("--json");
const workloadOnly = process.argv.includes("--workload-only");
const { startQemuPty, qemuMissing } = await import(join(root, "dist/host/cli/qemu-board.js"));
const { openBoard } = await import(join(root, "dist/host/client/board-client.js"));
const missing = qemuMissing();
if (missing) {
  console.error(`qemu-measure: ${missing}`);
  process.exit(3);
}
const image = join(root, "build/sxs.wasm");
const dirs = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (dirs.length === 0 && !workloadOnly) dirs.push(join(root, "test/transcripts"), ...[resolve(root, "../shared/conformance")].filter(existsSync));

/** Starts a board with --report; `figures()` is the last report (the highs so far). */
async function board(extra = []) {
  let last = {};
  let buf = "";
  const b = await startQemuPty(["--image", image, "--report", ...extra], {
    onStderr: (d) => {
      buf += d;
      for (const m of buf.matchAll(/sxs-report ram (\d+) static (\d+) heap-span (\d+) stack-used (\d+) free-heap (\d+)/g))
        last = { ram: +m[1], static: +m[2], heapSpan: +m[3], stackUsed: +m[4] };
      buf = buf.slice(buf.lastIndexOf("\n") + 1);
    },
  });
  return { b, figures: () => last };
}

const rows = [];
const max = { static: 0, heapSpan: 0, stackUsed: 0, ram: 0 };
function note(name, f) {
  rows.push({ name, ...f });
  for (const k of ["static", "heapSpan", "stackUsed", "ram"]) max[k] = Math.max(max[k], f[k] ?? 0);
}

for (const dir of dirs)
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".slp")).sort()) {
    const { b, figures } = await board(["--clock", "virtual"]);
    const r = spawnSync(process.execPath, [join(root, "bin/sxs.mjs"), "run", "--transcript", "--port", b.path, join(dir, f)], { encoding: "utf8" });
    await new Promise((res) => setTimeout(res, 300)); // the last report line
    await b.stop();
    if (r.status !== 0) console.error(`qemu-measure: ${f}: exit ${r.status}: ${r.stderr.trim()}`);
    note(f, figures());
  }

{
  const { b, figures } = await board();
  const c = await openBoard(b.path);
  let ok = 0, full = 0;
  for (let i = 0; i < 1000; i++) {
    const v = await c.submit(`(core/kv/set key-${String(i).padStart(12, "0")} "val-${String(i).padStart(12, "0")}")`).result;
    if (v === "true") ok++;
    else full++;
  }
  for (let i = 0; i < 64; i++) await c.submit(`(core/event/sub $CHANNEL_B ${i} {(core/kv/set seen $data)})`).result;
  await c.submit("(core/event/pub $CHANNEL_B 7 1)").result;
  await c.close();
  await new Promise((res) => setTimeout(res, 300));
  await b.stop();
  note(`workload (${ok} set, ${full} refused)`, figures());
}

if (json) console.log(JSON.stringify({ rows, max }));
else {
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${"run".padEnd(w)}  static  heap-span  stack-used  of RAM`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${String(r.static).padStart(6)}  ${String(r.heapSpan).padStart(9)}  ${String(r.stackUsed).padStart(10)}  ${r.ram}`);
  console.log(`${"largest".padEnd(w)}  ${String(max.static).padStart(6)}  ${String(max.heapSpan).padStart(9)}  ${String(max.stackUsed).padStart(10)}  ${max.ram}`);
  console.log(`RAM left at the worst: ${max.ram - max.static - max.heapSpan - 32768} bytes of heap never reached (the 32 KiB stack apart); stack headroom ${32768 - max.stackUsed} bytes`);
}
