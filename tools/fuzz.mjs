#!/usr/bin/env node
// A seeded fuzzer for the image (build/sxs.wasm), through its raw exports (docs/abi.md).
//
// Each round builds a fresh instance with random limits (processors, queue, step slice,
// step limit, memory pages, input limit, flash size) and throws batches of requests at
// it: forms generated from the SLP grammar and the twelve commands (keys and values near
// the limits, nested lists, quotes and errors, events, awaits, evals of stored code,
// nesting bombs), random bytes, random interrupts, host watches, and sxs_encode /
// sxs_split / sxs_decode on random and corrupted input. It checks that:
//
//   - nothing ever traps (any exception out of an export is a failure);
//   - every submitted request is answered exactly once (no unknown or duplicate ids,
//     nothing left unanswered when the board is idle);
//   - heap in use stays bounded: after a warm-up the store is cleared (iterate + del)
//     and heap in use recorded; at the end of the round, the store cleared again, heap
//     in use must be back near that value (subscriptions, which cannot be removed,
//     are allowed for).
//
//   node tools/fuzz.mjs --seconds N --seed S [--rounds R] [--round R] [--image PATH] [--verbose]
//
// Rounds are deterministic: round r of seed S always does the same thing, so a failure
// is replayed with `--seed S --round r`. Prints one summary line; exits 1 on a failure.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Gen, latin1, prng } from "./fuzz-gen.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// ---------------------------------------------------------------------------------------
// Arguments

function usage(code) {
  console.log(`usage: node tools/fuzz.mjs [--seconds N] [--seed S] [--rounds R] [--round R] [--image PATH] [--verbose]

  --seconds N   stop starting new rounds after N seconds (default 60)
  --seed S      the seed (default: from the clock; printed in the summary)
  --rounds R    stop after R rounds
  --round R     run only round R (to replay a failure)
  --image PATH  the image (default build/sxs.wasm, or $SXS_IMAGE)
  --verbose     one line per round`);
  process.exit(code);
}

const opts = { seconds: 60, seed: null, rounds: Infinity, round: null, image: process.env.SXS_IMAGE || join(ROOT, "build", "sxs.wasm"), verbose: false };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const next = () => {
      if (i + 1 >= a.length) usage(2);
      return a[++i];
    };
    switch (a[i]) {
      case "--seconds": opts.seconds = Number(next()); break;
      case "--seed": opts.seed = Number(next()) >>> 0; break;
      case "--rounds": opts.rounds = Number(next()); break;
      case "--round": opts.round = Number(next()); break;
      case "--image": opts.image = resolve(next()); break;
      case "--verbose": opts.verbose = true; break;
      case "--help": case "-h": usage(0); break;
      default: console.error(`fuzz: unknown argument ${a[i]}`); usage(2);
    }
  }
  if (!(opts.seconds >= 0)) usage(2);
  if (opts.seed === null) opts.seed = (Date.now() ^ (process.pid << 16)) >>> 0;
}

const show = (b) => JSON.stringify(Buffer.from(b).toString("latin1").slice(0, 300));

// ---------------------------------------------------------------------------------------
// The instance

class Failure extends Error {}

class Board {
  static module = null;

  constructor(limits, flashSize, stats) {
    this.stats = stats;
    this.now = 0;
    this.outstanding = new Map(); // req -> text
    this.flash = flashSize ? new Uint8Array(flashSize).fill(0xff) : null;
    this.limits = limits;
    this.lastRun = [];
    const mem = () => new Uint8Array(this.x.memory.buffer);
    const flashOk = (off, len) => this.flash && off >= 0 && len >= 0 && off + len <= this.flash.length;
    const env = {
      host_result: (req, p, n) => {
        this.stats.results++;
        if (!this.outstanding.has(req)) throw new Failure(`request ${req} answered but not outstanding (unknown, or answered twice)`);
        this.outstanding.delete(req);
        const first = mem()[p];
        if (first === 0x40) this.stats.errors++;
        else this.stats.values++;
      },
      host_log: () => {
        this.stats.logs++;
      },
      host_event: () => {
        this.stats.events++;
      },
      host_now: () => this.now,
      host_flash_size: () => (this.flash ? this.flash.length : 0),
      host_flash_read: (off, p, len) => {
        if (!flashOk(off, len)) return -1;
        mem().set(this.flash.subarray(off, off + len), p);
        return 0;
      },
      host_flash_write: (off, p, len) => {
        if (!flashOk(off, len)) return -1;
        const src = mem().subarray(p, p + len);
        for (let i = 0; i < len; i++) if ((this.flash[off + i] & src[i]) !== src[i]) return -1; // NOR: only clears bits
        this.flash.set(src, off);
        return 0;
      },
      host_flash_erase: (off, len) => {
        if (!flashOk(off, len) || off % 4096 || len % 4096) return -1;
        this.flash.fill(0xff, off, off + len);
        return 0;
      },
    };
    const imports = {};
    for (const imp of WebAssembly.Module.imports(Board.module)) {
      if (imp.kind !== "function") continue;
      imports[imp.module] ??= {};
      imports[imp.module][imp.name] = env[imp.name] ?? (() => 0);
    }
    this.x = new WebAssembly.Instance(Board.module, imports).exports;
    for (const [id, v] of Object.entries(limits)) {
      const r = this.call("sxs_limit", Number(id), v);
      if (r !== 0) throw new Failure(`sxs_limit(${id}, ${v}) = ${r}`);
    }
    const init = this.call("sxs_init");
    if (init !== 0) throw new Failure(`sxs_init() = ${init}`);
    this.nextReq = 1;
  }

  /** Calls an export; any exception is a trap. */
  call(name, ...args) {
    try {
      return this.x[name](...args);
    } catch (e) {
      if (e instanceof Failure) throw e;
      throw new Failure(`trap in ${name}(${args.join(", ")}): ${e && e.message}`);
    }
  }

  stage(bytes) {
    const p = this.call("sxs_input", bytes.length) >>> 0;
    if (p && bytes.length) new Uint8Array(this.x.memory.buffer).set(bytes, p);
    return bytes.length;
  }

  /** Submits; false when the queue is full (try again later). */
  submit(bytes, proc) {
    const req = this.nextReq;
    this.outstanding.set(req, bytes);
    const len = this.stage(bytes);
    const r = this.call("sxs_submit", req, proc, len);
    if (r === 0) {
      this.nextReq = this.nextReq >= 0x7fffffff ? 1 : this.nextReq + 1;
      this.stats.requests++;
      this.lastRun.push(bytes);
      if (this.lastRun.length > 12) this.lastRun.shift();
      return true;
    }
    this.outstanding.delete(req);
    if (r === -1) {
      this.stats.queueFull++;
      return false;
    }
    if (r === -3) {
      // out of memory with nothing running that could give some back (no room to stage,
      // parse or queue the request): not queued, never answered
      this.nextReq++;
      this.stats.refused++;
      return true;
    }
    throw new Failure(`sxs_submit(${req}, ${proc}, ${len}) = ${r}`);
  }

  /** Runs until idle (advancing the virtual clock to timers) or `maxSteps` steps are spent. */
  runUntilIdle(r, maxSteps, pending = []) {
    const start = this.call("sxs_stat", 8);
    for (;;) {
      while (pending.length && this.submit(pending[0][0], pending[0][1])) pending.shift();
      const status = this.call("sxs_run", 1 + r.int(40000));
      if (status !== 0 && status !== 1) throw new Failure(`sxs_run returned ${status}`);
      if (this.call("sxs_stat", 8) - start > maxSteps) return false;
      if (status === 1) continue;
      const due = this.call("sxs_next_timer");
      if (!(due >= 0)) {
        if (!pending.length) return true;
        // idle, no timer, and still no room in the queue: nothing will ever make room
        if (!this.submit(pending[0][0], pending[0][1])) {
          throw new Failure(`idle with no timer, but the queue stays full (${this.call("sxs_stat", 6)} entries)`);
        }
        pending.shift();
        continue;
      }
      if (due > this.now) this.now = due;
    }
  }

  /** Encodes, splits and decodes `bytes`: consistent answers, no traps. */
  codec(bytes, r) {
    const read = (ptr) => {
      ptr >>>= 0;
      if (!ptr) return null;
      const dv = new DataView(this.x.memory.buffer);
      const status = dv.getInt32(ptr, true);
      const n = dv.getUint32(ptr + 4, true);
      const out = new Uint8Array(this.x.memory.buffer).slice(ptr + 8, ptr + 8 + n);
      this.call("sxs_free", ptr);
      return { status, out };
    };
    const enc = read(this.call("sxs_encode", this.stage(bytes)));
    const sp = this.call("sxs_split", this.stage(bytes)) >>> 0;
    let splitOk = null;
    if (sp) {
      splitOk = new DataView(this.x.memory.buffer).getInt32(sp, true) >= 0;
      this.call("sxs_free", sp);
    }
    this.stats.codec++;
    if (!enc) return;
    const maxInput = this.limits[3] ?? 16384;
    const oom = enc.status < 0 && Buffer.from(enc.out).toString("latin1") === '@"out of memory"';
    if (splitOk !== null && !oom && bytes.length <= maxInput && (enc.status >= 0) !== splitOk) {
      throw new Failure(`sxs_encode and sxs_split disagree on ${show(bytes)}`);
    }
    if (enc.status < 0) return;
    // the buffer decodes; corrupted copies are refused or decode
    const dec = read(this.call("sxs_decode", this.stage(enc.out)));
    if (dec && dec.status < 0) throw new Failure(`sxs_decode refused the buffer sxs_encode built for ${show(bytes)}`);
    for (let k = 0; k < 4; k++) {
      const b = enc.out.slice(0, r.chance(0.2) ? r.int(enc.out.length + 1) : enc.out.length);
      if (b.length) b[r.int(b.length)] = r.int(256);
      const d = read(this.call("sxs_decode", this.stage(b)));
      if (d && d.status < 0 && Buffer.from(d.out).toString("latin1") !== "invalid buffer") throw new Failure("sxs_decode error text");
      this.stats.decodes++;
    }
  }
}

// ---------------------------------------------------------------------------------------
// A round

function runRound(round, stats) {
  const r = prng((opts.seed ^ Math.imul(round + 1, 0x9e3779b1)) >>> 0);
  const processors = 1 + r.int(4);
  const limits = {
    1: processors,
    2: r.pick([4, 16, 100, 1000]),
    3: r.chance(0.1) ? 256 : 16384,
    4: r.pick([2, 4, 16, 64, 256, 256]),
    5: r.pick([2000, 20000, 200000]),
    6: r.pick([1, 7, 100, 1000, 1000]),
  };
  const flashSize = r.pick([0, 64 * 1024, 256 * 1024]);
  const board = new Board(limits, flashSize, stats);
  const gen = new Gen(r, processors);
  const context = () => `seed ${opts.seed}, round ${round} (limits ${JSON.stringify(limits)}, flash ${flashSize}); last requests:\n  ${board.lastRun.map(show).join("\n  ")}`;
  try {
    const heap = () => board.call("sxs_stat", 1);
    const clearStore = () => {
      // iterate + del over the whole store; when memory is too fragmented for a snapshot of
      // every key (`out of memory`), over smaller windows
      for (const limit of [1000000, 10, 1]) {
        for (let i = 0; i < 50 && board.call("sxs_stat", 4) > 0; i++) {
          const before = board.call("sxs_stat", 4);
          board.submit(latin1(`(core/kv/iterate "" 0 ${limit} {(core/kv/del $key)})`), 0);
          board.runUntilIdle(r, 50_000_000);
          if (board.call("sxs_stat", 4) === before) break;
        }
        if (board.call("sxs_stat", 4) === 0) break;
        stats.smallWindows++;
      }
      return board.call("sxs_stat", 4);
    };
    const batches = 400;
    const warmup = 40;
    let baseline = null;
    let baseSubs = 0;
    let idle = true;
    for (let n = 0; n < batches; n++) {
      const pending = [];
      for (let i = 1 + r.int(12); i > 0; i--) pending.push([gen.request(), r.int(processors)]);
      if (r.chance(0.2)) {
        const ch = 1 + r.int(6);
        const t = r.chance(0.3) ? -1 : r.int(5);
        if (board.call("sxs_watch", ch, t, r.chance(0.7) ? 1 : 0) < -2) throw new Failure("sxs_watch");
      }
      if (r.chance(0.1)) board.codec(pending[0][0], r);
      // submit some now, interrupt some, run a little, then drain
      while (pending.length && board.submit(pending[0][0], pending[0][1])) pending.shift();
      if (r.chance(0.15) && board.outstanding.size) {
        const ids = [...board.outstanding.keys()];
        const req = r.pick(ids);
        const found = board.call("sxs_interrupt", req);
        if (found === 1) stats.interrupts++;
        else if (found !== 0) throw new Failure(`sxs_interrupt returned ${found}`);
      }
      if (r.chance(0.5)) board.call("sxs_run", 1 + r.int(2000));
      if (r.chance(0.1) && board.outstanding.size) board.call("sxs_interrupt", r.pick([...board.outstanding.keys()]));
      idle = board.runUntilIdle(r, 20_000_000, pending);
      if (!idle) {
        stats.notIdle++;
        // something feeds itself: the remaining requests must still be answered
        break;
      }
      if (board.outstanding.size) throw new Failure(`idle with ${board.outstanding.size} requests unanswered: ${[...board.outstanding.values()].map(show).join(", ")}`);
      if (n === warmup) {
        // Subscriptions cannot be removed: fill the table now (later subs are refused),
        // so that what the heap holds for them is in the baseline.
        for (let i = 0; i < 80 && board.call("sxs_stat", 5) < 64; i++) {
          board.submit(latin1(`(core/event/sub ${r.pick("ABCDEF")} ${r.int(4)} ${gen.body(0, { handler: true })})`), 0);
          if (!board.runUntilIdle(r, 20_000_000)) break;
        }
        if (clearStore() === 0) {
          baseline = heap();
          baseSubs = board.call("sxs_stat", 5);
        }
      }
    }
    if (!idle) {
      // run until every request is answered (handlers may go on forever; requests may not)
      for (let i = 0; i < 200 && board.outstanding.size; i++) board.call("sxs_run", 100_000);
      if (board.outstanding.size) throw new Failure(`${board.outstanding.size} requests never answered`);
      return;
    }
    const left = clearStore();
    if (baseline !== null && left === 0) {
      const end = heap();
      const subs = board.call("sxs_stat", 5) - baseSubs;
      // Retained scratch may still grow after the baseline: parse tables, texts, the task
      // pool, and the queue rings, which grow (and stay) up to QUEUE entries of 24 bytes
      // each: one ring for channel events and one per processor.
      const allowance = 32 * 1024 + (processors + 1) * limits[2] * 24 + subs * 8192;
      stats.heapChecks++;
      stats.heapDrift = Math.max(stats.heapDrift, end - baseline);
      if (end - baseline > allowance) {
        throw new Failure(`heap in use grew from ${baseline} to ${end} bytes over the round (${subs} new subscriptions; allowance ${allowance})`);
      }
    } else if (left !== 0) {
      throw new Failure(`the store could not be emptied with iterate + del: ${left} keys left`);
    }
    if (board.call("sxs_stat", 7) !== 0) throw new Failure("idle with live tasks");
    if (board.call("sxs_stat", 6) !== 0) throw new Failure("idle with queued entries");
  } catch (e) {
    if (e instanceof Failure) {
      e.message += `\n  ${context()}`;
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(opts.image)) {
    console.error(`fuzz: ${opts.image} is missing: build it with \`npm run build:image\``);
    process.exit(2);
  }
  Board.module = new WebAssembly.Module(readFileSync(opts.image));
  const stats = {
    rounds: 0, requests: 0, results: 0, values: 0, errors: 0, interrupts: 0, queueFull: 0, refused: 0,
    logs: 0, events: 0, codec: 0, decodes: 0, heapChecks: 0, heapDrift: 0, notIdle: 0, smallWindows: 0,
  };
  const t0 = Date.now();
  const rounds = opts.round !== null ? [opts.round] : null;
  let round = 0;
  try {
    for (;;) {
      const rr = rounds ? rounds[stats.rounds] : round;
      if (rr === undefined) break;
      if (!rounds && (stats.rounds >= opts.rounds || (Date.now() - t0) / 1000 >= opts.seconds)) break;
      const before = stats.requests;
      runRound(rr, stats);
      stats.rounds++;
      round++;
      if (opts.verbose) console.log(`round ${rr}: ${stats.requests - before} requests`);
    }
  } catch (e) {
    console.error(`fuzz: FAILED: ${e.message}`);
    console.log(summary(stats, t0, false));
    process.exit(1);
  }
  if (stats.results !== stats.requests) {
    console.error(`fuzz: FAILED: ${stats.requests} requests queued, ${stats.results} answers`);
    console.log(summary(stats, t0, false));
    process.exit(1);
  }
  console.log(summary(stats, t0, true));
}

function summary(s, t0, ok) {
  return (
    `fuzz: ${ok ? "ok" : "FAILED"}: seed ${opts.seed}, ${((Date.now() - t0) / 1000).toFixed(1)} s, ${s.rounds} rounds, ` +
    `${s.requests} requests answered ${s.results} times (${s.values} values, ${s.errors} errors), ` +
    `${s.interrupts} interrupts, ${s.queueFull} queue-full retries, ${s.refused} refused (out of memory), ` +
    `${s.logs} log lines, ${s.events} watched events, ${s.codec} encode/split, ${s.decodes} corrupt decodes, ` +
    `${s.heapChecks} heap checks (max growth ${s.heapDrift} bytes), ${s.notIdle} rounds never idle, ` +
    `${s.smallWindows} store clears that needed smaller iterate windows, ` +
    (ok ? "no traps" : "stopped at the failure above")
  );
}

await main();
