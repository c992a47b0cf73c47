#!/usr/bin/env node
// Power-loss trials for the K/V log (SPEC.md section 7): run random store writes on a
// virtual board whose flash loses power after a random number of bytes, reboot from
// what the flash holds, and check that the store is what was acknowledged: every write
// that answered before the cut is there, nothing else is, except that the one write in
// flight when the power went may or may not be (no answer ever reached the host); and
// the rebooted board can write again.
//
//   node tools/power-loss.mjs [--trials N] [--seconds S] [--seed S] [--json]

import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { VirtualBoard } = await import(path.join(root, "dist/host/board/virtual-board.js"));
const { NorFlash } = await import(path.join(root, "dist/host/board/flash.js"));

function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A random sequence of store writes, and the store each prefix of it leaves. */
function plan(rnd, n) {
  const ops = [];
  for (let i = 0; i < n; i++) {
    const key = `k${Math.floor(rnd() * 40)}`;
    const r = rnd();
    // large values fill a log area in ~140 writes, so trials cross compactions
    const size = r < 0.5 ? 900 : Math.floor(rnd() * 60);
    const value = `v${i}-` + "x".repeat(size);
    if (r < 0.75) ops.push({ kind: "set", key, value });
    else if (r < 0.9) ops.push({ kind: "del", key });
    else ops.push({ kind: "cas", key, value });
  }
  return ops;
}

function text(op, model) {
  if (op.kind === "set") return `(core/kv/set ${op.key} "${op.value}")`;
  if (op.kind === "del") return `(core/kv/del ${op.key})`;
  // cas against the current value (or a miss when absent): exercises both answers
  const cur = model.get(op.key);
  return `(core/kv/cas ${op.key} "${cur ?? "absent"}" "${op.value}")`;
}

function apply(op, model, answer) {
  if (op.kind === "set") model.set(op.key, op.value);
  else if (op.kind === "del") model.delete(op.key);
  else if (answer === "true") model.set(op.key, op.value);
}

/** What a correct board answers when the flash works. */
function expected(op, model) {
  if (op.kind === "cas") return model.has(op.key) ? "true" : "false";
  return "true";
}

async function dump(board) {
  const lines = [];
  const onLog = (t) => lines.push(t);
  board.on("log", onLog);
  const r = await board.exec('(core/kv/iterate "" 0 100000 {(core/util/log $key (core/kv/get $key))})');
  await board.drain();
  board.off("log", onLog);
  if (r !== "true") throw new Error(`dump failed: ${r}`);
  return new Map(lines.map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
}

function same(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** One trial; returns {ok, acked, cut, total, detail}. */
export async function trial(seed, nOps = 400) {
  const rnd = prng(seed);
  const ops = plan(rnd, nOps);
  // a dry run measures how many flash bytes the whole sequence changes
  const dry = NorFlash.memory();
  {
    const b = await VirtualBoard.create({ flash: dry, clock: "virtual" });
    const m = new Map();
    for (const op of ops) apply(op, m, await b.exec(text(op, m)));
    b.close();
  }
  const total = dry.changedBytes;
  const cut = Math.floor(rnd() * total);
  const flash = NorFlash.memory();
  flash.cutPowerAfter(cut);
  const model = new Map();
  let acked = 0;
  let inflight = null; // the store if the write in flight at the cut had landed
  let board = null;
  try {
    board = await VirtualBoard.create({ flash, clock: "virtual" });
    for (const op of ops) {
      const want = expected(op, model);
      const got = await board.exec(text(op, model));
      if (got !== want) {
        if (!got.startsWith("@")) return { ok: false, seed, cut, total, acked, detail: `answer ${got}, expected ${want}` };
        // the power went during this write: it was not acknowledged
        inflight = new Map(model);
        apply(op, inflight, want);
        break;
      }
      apply(op, model, got);
      acked++;
    }
  } catch (e) {
    if (!/power lost|K\/V log|out-of-memory/.test(String(e.message))) throw e;
  } finally {
    board?.close();
  }
  // reboot from what the flash holds
  const after = flash.snapshot();
  const rebooted = await VirtualBoard.create({ flash: after, clock: "virtual" });
  const store = await dump(rebooted);
  if (!same(store, model) && !(inflight && same(store, inflight))) {
    rebooted.close();
    const diff = [...new Set([...store.keys(), ...model.keys()])].filter((k) => store.get(k) !== model.get(k));
    const show = (v) => (v === undefined ? "absent" : v.length > 24 ? v.slice(0, 20) + "…(" + v.length + ")" : v);
    const d = diff.slice(0, 3).map((k) => `${k}: ${show(store.get(k))} instead of ${show(model.get(k))}`).join("; ");
    return { ok: false, seed, cut, total, acked, detail: `store after reboot differs from the acknowledged writes (${d})` };
  }
  // the rebooted board writes again, and that survives another reboot
  const w = await rebooted.exec('(core/kv/set after-reboot "ok")');
  rebooted.close();
  const again = await VirtualBoard.create({ flash: after.snapshot(), clock: "virtual" });
  const check = await again.exec("(core/kv/get after-reboot)");
  again.close();
  if (w !== "true" || check !== '"ok"') return { ok: false, seed, cut, total, acked, detail: `write after reboot: ${w}, read back: ${check}` };
  return { ok: true, seed, cut, total, acked };
}

/**
 * A transient fault: one flash write fails part-way (after `keep` bytes) and the board
 * goes on. That write was answered with an error, so after the remaining writes and a
 * reboot the store must be exactly what was acknowledged.
 */
export async function faultTrial(seed, nOps = 300) {
  const rnd = prng(seed ^ 0x5eed);
  const ops = plan(rnd, nOps);
  const flash = NorFlash.memory();
  const board = await VirtualBoard.create({ flash, clock: "virtual" });
  const at = Math.floor(rnd() * nOps * 0.8);
  const keep = Math.floor(rnd() * 1000);
  flash.failWrite(at, keep);
  const model = new Map();
  let refused = 0;
  for (const op of ops) {
    const want = expected(op, model);
    const got = await board.exec(text(op, model));
    if (got === want) apply(op, model, got);
    else if (got.startsWith("@")) refused++;
    else return { ok: false, seed, detail: `answer ${got}, expected ${want}` };
  }
  const live = await dump(board);
  board.close();
  const rebooted = await VirtualBoard.create({ flash: flash.snapshot(), clock: "virtual" });
  const store = await dump(rebooted);
  rebooted.close();
  if (!same(live, model)) return { ok: false, seed, detail: "the running board's store differs from the acknowledged writes" };
  if (!same(store, model)) return { ok: false, seed, detail: `after a failed write (${refused} refused) and a reboot the store differs from the acknowledged writes` };
  return { ok: true, seed };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log("usage: node tools/power-loss.mjs [--trials N] [--seconds S] [--seed S] [--json]\n\nPower-loss trials of the K/V log on the virtual board, every fourth one a transient\nflash fault instead (default: 20 trials).");
    return 0;
  }
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const trials = opt("--trials", args.includes("--seconds") ? Infinity : 20);
  const seconds = opt("--seconds", Infinity);
  let seed = opt("--seed", 1);
  const t0 = Date.now();
  let passed = 0;
  let failed = 0;
  for (let i = 0; i < trials && (Date.now() - t0) / 1000 < seconds; i++, seed++) {
    const r = i % 4 === 3 ? await faultTrial(seed) : await trial(seed);
    if (r.ok) passed++;
    else {
      failed++;
      console.log(r.cut === undefined ? `FAIL seed ${r.seed} (transient fault): ${r.detail}` : `FAIL seed ${r.seed}: cut at byte ${r.cut} of ${r.total}, ${r.acked} writes acknowledged: ${r.detail}`);
    }
  }
  const line = `power-loss: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
  console.log(args.includes("--json") ? JSON.stringify({ passed, failed }) : line);
  return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(await main());
