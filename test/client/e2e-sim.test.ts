// End to end over a real pseudo-terminal: `node bin/sxs.mjs sim` (the virtual board behind
// a pty, host/cli/sim.ts) on one side, the CLI's serial commands on the other.
// Skipped until host/cli/sim.ts exists.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc32 } from "../../host/link/crc32.js";
import { buildImage } from "../../host/link/image-header.js";
import { openBoard } from "../../host/client/board-client.js";
import { BIN, IMAGE, ROOT, childPids, fakeWasm, runCli, tempDir } from "../host/helpers.js";
import { buildDist } from "./dist.js";

const simExists = existsSync(join(ROOT, "host", "cli", "sim.ts"));
// The engines behind `sxs sim`: V8 in process, wasm3 in the Linux firmware (built by npm
// run build when cargo is there), and the same firmware on QEMU's emulated RISC-V board
// (built where gcc-riscv64-unknown-elf is installed). In CI a missing firmware fails
// instead of skipping.
const fwBuilt = existsSync(join(ROOT, "firmware", "target", "release", "sxs-fw"));
const qemuBuilt = existsSync(join(ROOT, "firmware", "target", "qemu-rv32", "sxs-fw.elf"));
const CI = process.env.CI === "true";
const ENGINES: readonly string[] = ["v8", ...(fwBuilt || CI ? ["wasm3"] : []), ...(qemuBuilt || CI ? ["qemu"] : [])];
if (!ENGINES.includes("wasm3")) console.warn("test/client/e2e-sim: the Linux firmware is not built (npm run build:firmware); the wasm3 board is not tested");
if (!ENGINES.includes("qemu")) console.warn("test/client/e2e-sim: the qemu-rv32 firmware is not built (see firmware/ports/qemu-rv32/README.md); the emulated RISC-V board is not tested");
const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SimProc {
  path: string;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

let simHelp = "";

/** Runs the CLI and keeps its output as bytes. */
function runBytes(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

/** Starts `sxs sim`; its first line of stdout names the pty a tool opens. */
async function startSim(extra: string[] = []): Promise<SimProc> {
  const proc = spawn(process.execPath, [BIN, "sim", ...extra], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((r) => proc.on("close", () => r()));
  const end = Date.now() + 20_000;
  while (!out.includes("\n")) {
    if (Date.now() > end || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      throw new Error(`sxs sim gave no path: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
    }
    await sleep(20);
  }
  const first = out.slice(0, out.indexOf("\n"));
  const m = /(\/dev\/\S+)/.exec(first);
  if (!m) throw new Error(`first line of sxs sim is not a path: ${JSON.stringify(first)}`);
  return {
    path: m[1]!,
    proc,
    output: () => out + err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The option that gives the sim a virtual clock (transcripts) or a real one, if `sxs sim --help` lists it. */
function clockArgs(clock: "virtual" | "real"): string[] {
  return /--clock\b/.test(simHelp) ? ["--clock", clock] : [];
}

/** The release image with a custom section appended: still valid, but another image id. */
/** The release image with a custom section of `n` zero bytes appended: valid, and long to send. */
function paddedWasm(n: number): Uint8Array {
  const name = new TextEncoder().encode("sxs-pad");
  const size = 1 + name.length + n;
  const leb: number[] = [];
  for (let v = size; ; ) {
    const b = v & 0x7f;
    v >>>= 7;
    leb.push(v ? b | 0x80 : b);
    if (!v) break;
  }
  const w = new Uint8Array(readFileSync(IMAGE));
  const out = new Uint8Array(w.length + 1 + leb.length + size);
  out.set(w);
  out.set([0, ...leb, name.length, ...name], w.length);
  return out;
}

function variantWasm(tag: string): Uint8Array {
  const w = new Uint8Array(readFileSync(IMAGE));
  const name = new TextEncoder().encode("sxs-test");
  const payload = new TextEncoder().encode(tag);
  const body = Uint8Array.from([name.length, ...name, ...payload]);
  if (body.length > 127) throw new Error("tag too long");
  return Uint8Array.from([...w, 0, body.length, ...body]);
}

describe.skipIf(!simExists).each(ENGINES)("end to end against `sxs sim --engine %s` over a pty", (engine) => {
  let dir: string;
  let sim: SimProc;

  beforeAll(async () => {
    await buildDist();
    dir = tempDir("sxs-e2e");
    simHelp = (await runCli(["sim", "--help"])).stdout;
    sim = await startSim(engine === "v8" ? clockArgs("real") : ["--engine", engine]);
  }, 120_000);

  afterAll(async () => {
    await sim?.stop();
  });

  const port = () => ["--port", sim.path];

  it("exec, info", async () => {
    expect(await runCli(["exec", ...port(), "(core/kv/set a 41) (core/kv/get a)"])).toMatchObject({ code: 0, stdout: "41\n" });
    expect(await runCli(["exec", ...port(), "(core/kv/get nope)"])).toMatchObject({ code: 1, stdout: '@"core/kv/get: key not found"\n' });
    const log = await runCli(["exec", ...port(), '(core/event/sub A 1 {(core/util/log "h" $data)}) (core/util/log "before") (core/event/pub A 1 2)']);
    expect(log).toMatchObject({ code: 0, stdout: "true\n", stderr: "log: before\nlog: h 2\n" });
    const info = JSON.parse((await runCli(["info", "--json", ...port()])).stdout);
    expect(info.proto).toBe(1);
    expect(info.image).toMatch(/^[0-9a-f]{8}$/);
  }, 30_000);

  it("run FILE and repl over the port", async () => {
    const f = join(dir, "script.slp");
    writeFileSync(f, '(core/event/sub A 41 {(core/util/log "handled" $data)})\n(core/event/pub A 41 "x")\n(core/util/log "last")\n(core/kv/set done true)\n');
    expect(await runCli(["run", ...port(), f])).toMatchObject({ code: 0, stdout: "last\n=> true\nhandled x\n", stderr: "" });
    const input = ["(core/kv/set r 1)", "(core/kv/get", "   r)", '(core/kv/set s "two', 'lines")', "(core/kv/get s)", ".watch B 3", "(core/event/pub B 3 [b])", ""].join("\n");
    const r = await runCli(["repl", ...port()], { input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(["=> true", "=> 1", "=> true", '=> "two\\nlines"', "watching B/3", "=> true", "event B/3: [b]", ""].join("\n"));
  }, 30_000);

  it("reset: the board comes back (framed), its state kept in flash", async () => {
    expect((await runCli(["exec", ...port(), "(core/kv/set keep 7)"])).code).toBe(0);
    const r = await runCli(["reset", ...port()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^board reset; back after \d+ ms: image [0-9a-f]{8} in slot 0\n$/);
    expect(JSON.parse((await runCli(["info", "--json", ...port()])).stdout).bootReason).toBe(1);
    expect((await runCli(["exec", ...port(), "(core/kv/get keep)"])).stdout).toBe("7\n");
  }, 30_000);

  it("monitor shows events and log lines with timestamps", async () => {
    // A processor runs its requests one at a time: the second request logs and publishes
    // once the first has waited 2.5 s. Their tool goes away; the monitor comes.
    const c = await openBoard(sim.path, { timeoutMs: 5000 });
    c.submit("(core/expr/await 1 F 99 2500)").result.catch(() => {});
    c.submit('(core/util/log "tick") (core/event/pub B 7 [tick 1])').result.catch(() => {});
    await sleep(100);
    await c.dispose();
    const child = spawn(process.execPath, [BIN, "monitor", ...port()], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = new Promise<number | null>((r) => child.on("close", (x) => r(x)));
    for (let i = 0; i < 400 && !out.includes("event B/7"); i++) await sleep(25);
    child.kill("SIGINT");
    expect(await code).toBe(0);
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} log: tick$/m);
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} event B\/7: \[tick 1\]$/m);
  }, 30_000);

  it("a task that lives on does not hold exec or run: a note after --wait, it goes on, later commands are not held", async () => {
    const r = await runCli(["exec", ...port(), "--wait", "300", "(core/event/sub A 9 {(core/expr/await nil B 9 1000000) (core/util/log \"woke\" $result)}) (core/event/pub A 9 1)"], { timeoutMs: 20_000 });
    expect(r).toMatchObject({ code: 0, stdout: "true\n", stderr: "sxs: 1 task still running after --wait 300 ms; they go on on the board\n" });
    // the waiting handler is background now: it does not hold the next commands up
    expect(await runCli(["exec", ...port(), "(core/kv/set bg 1)"], { timeoutMs: 20_000 })).toMatchObject({ code: 0, stdout: "true\n", stderr: "" });
    const f = join(dir, "bg.slp");
    writeFileSync(f, '(core/event/sub C 9 {(core/util/log "h" $data)})\n(core/event/pub C 9 2)\n');
    expect(await runCli(["run", ...port(), f], { timeoutMs: 20_000 })).toMatchObject({ code: 0, stdout: "=> true\nh 2\n", stderr: "" });
    // it went on: the event it waits for wakes it
    const w = await runCli(["exec", ...port(), "(core/event/pub B 9 7)"], { timeoutMs: 20_000 });
    expect(w).toMatchObject({ code: 0, stdout: "true\n", stderr: "log: woke 7\n" });
  }, 60_000);

  it("interrupt stops a runaway: Ctrl-C on exec, and `sxs interrupt` for one left behind", async () => {
    const child = spawn(process.execPath, [BIN, "exec", ...port(), "(core/expr/await nil A 1 100000000)"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = new Promise<number | null>((r) => child.on("close", (x) => r(x)));
    await sleep(1500);
    child.kill("SIGINT");
    expect(await code).toBe(1);
    expect(out).toBe('@"interrupted"\n');
    expect((await runCli(["exec", ...port(), "1"])).stdout).toBe("1\n");

    const c = await openBoard(sim.path, { timeoutMs: 5000 });
    c.submit("(core/expr/await nil A 1 100000000)").result.catch(() => {});
    await sleep(200);
    await c.dispose();
    const r = await runCli(["interrupt", ...port()]);
    expect(r).toMatchObject({ code: 0, stdout: "interrupted 1 request\n" });
    expect((await runCli(["exec", ...port(), "2"])).stdout).toBe("2\n");
  }, 30_000);

  it("flash switches the image hash; bad images are refused and the old one keeps serving", async () => {
    const before = JSON.parse((await runCli(["info", "--json", ...port()])).stdout).image as string;
    const w = variantWasm("e2e-1");
    const bare = join(dir, "variant.wasm");
    writeFileSync(bare, w);
    const r = await runCli(["flash", ...port(), "--baud", "921600", bare], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`board is back running image ${hex8(crc32(w))}`);
    expect(r.stdout).toMatch(/^sent [\d.]+ KiB in [\d.]+ s: [\d.]+ KiB\/s/);
    const after = JSON.parse((await runCli(["info", "--json", ...port()])).stdout);
    expect(after.image).toBe(hex8(crc32(w)));
    expect(after.image).not.toBe(before);
    expect((await runCli(["exec", ...port(), "(core/kv/get a)"])).stdout).toBe("41\n"); // the K/V store survived

    const good = buildImage(variantWasm("e2e-2"), { abiVersion: 2 });
    const flip = good.slice();
    flip[1000]! ^= 0x40;
    const bad: Array<[string, Uint8Array, RegExp]> = [
      ["bad-crc", flip, /IMAGE_BAD_CRC/],
      ["truncated", good.slice(0, good.length - 100), /IMAGE_BAD_HEADER/],
      ["wrong-abi", buildImage(variantWasm("e2e-3"), { abiVersion: 99 }), /IMAGE_BAD_ABI/],
      ["not-wasm", buildImage(new Uint8Array(4000).fill(0x41), { abiVersion: 2 }), /IMAGE_NOT_WASM/],
    ];
    for (const [name, bytes, reason] of bad) {
      const f = join(dir, `${name}.img`);
      writeFileSync(f, bytes);
      for (const check of [[], ["--no-check"]]) {
        const x = await runCli(["flash", ...port(), ...check, f], { timeoutMs: 60_000 });
        expect(x.code, `${name} ${check.join(" ")}: ${x.stderr}`).toBe(3);
        expect(x.stderr).toMatch(reason);
        expect(x.stderr).toMatch(check.length ? /the board refused the image/ : /image refused before sending/);
      }
      expect(JSON.parse((await runCli(["info", "--json", ...port()])).stdout).image).toBe(hex8(crc32(w)));
      expect((await runCli(["exec", ...port(), "(core/kv/get a)"])).stdout).toBe("41\n");
    }
  }, 120_000);

  it("an image that traps at start-up does not take over: the old image keeps serving", async () => {
    const current = JSON.parse((await runCli(["info", "--json", ...port()])).stdout).image as string;
    const f = join(dir, "trap.wasm");
    writeFileSync(f, fakeWasm({ trapRun: true })); // passes the image checks, traps in sxs_run
    const r = await runCli(["flash", ...port(), f], { timeoutMs: 60_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/rolled back|refused the image/);
    const info = JSON.parse((await runCli(["info", "--json", ...port()])).stdout);
    expect(info.image).toBe(current);
    expect((await runCli(["exec", ...port(), "3"])).stdout).toBe("3\n");
  }, 60_000);
});

/** Files whose last form leaves tasks waiting on multi-second timers (their output comes after the last result). */
const TIMER_TAIL = new Set(["await.slp"]);

describe.skipIf(!simExists)("run --transcript --port = the in-process transcript", () => {
  const files = [
    ...readdirSync(join(ROOT, "test", "transcripts")).filter((f) => f.endsWith(".slp")).map((f) => join(ROOT, "test", "transcripts", f)),
    ...(existsSync(join(ROOT, "..", "shared", "conformance"))
      ? readdirSync(join(ROOT, "..", "shared", "conformance")).filter((f) => f.endsWith(".slp")).map((f) => join(ROOT, "..", "shared", "conformance", f))
      : []),
  ]
    .filter((f) => existsSync(f.replace(/\.slp$/, ".out")))
    .sort();

  // Whether the board reports live tasks in INFO (then idle is exact over the link; see
  // BoardClient.settle). Without it, a task waiting on a timer longer than the quiet
  // period is invisible: its output after the last form is not waited for.
  let exactIdle = false;

  beforeAll(async () => {
    await buildDist();
    simHelp = (await runCli(["sim", "--help"])).stdout;
    const s = await startSim();
    try {
      const c = await openBoard(s.path, { timeoutMs: 5000 });
      exactIdle = (await c.info()).liveTasks !== undefined;
      await c.close();
    } finally {
      await s.stop();
    }
    if (!exactIdle) console.warn("sxs sim does not append live_tasks to INFO: idle over the link is a quiet period; trailing timer output of await.slp is not waited for");
  }, 120_000);

  for (const f of files) {
    it.concurrent(`${basename(join(f, ".."))}/${basename(f)}`, async () => {
      const want = readFileSync(f.replace(/\.slp$/, ".out"));
      // a fresh board for each file (a fresh flash, so an empty K/V store), as in process
      const s = await startSim(clockArgs("virtual"));
      try {
        const r = await runBytes(["run", "--transcript", "--port", s.path, f], 90_000);
        expect(r.stderr.toString()).toBe("");
        expect(r.code).toBe(0);
        const got = r.stdout.toString("latin1");
        if (!exactIdle && TIMER_TAIL.has(basename(f))) {
          // everything up to the output of timers that outlast the quiet period
          expect(want.toString("latin1").startsWith(got)).toBe(true);
          const missing = want.toString("latin1").slice(got.length).split("\n").filter(Boolean);
          expect(missing.every((l) => l.startsWith("log: "))).toBe(true);
        } else expect(got).toBe(want.toString("latin1"));
      } finally {
        await s.stop();
      }
    }, 100_000);
  }

  // the firmware boards: `sxs run --engine wasm3|qemu --transcript` starts the Linux
  // firmware, or QEMU with the RISC-V build, behind a pty and runs the file over the serial
  // link (the firmware reports live tasks, so idle is exact and the trailing timer output
  // of await.slp is waited for)
  for (const engine of ENGINES.filter((e) => e !== "v8"))
    for (const f of files) {
      it.concurrent(`--engine ${engine}: ${basename(join(f, ".."))}/${basename(f)}`, async () => {
        const want = readFileSync(f.replace(/\.slp$/, ".out"));
        const r = await runBytes(["run", "--engine", engine, "--transcript", f], 90_000);
        expect(r.stderr.toString()).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.toString("latin1")).toBe(want.toString("latin1"));
      }, 100_000);
    }
});

// A board unplugged (or crashed) while `sxs flash` sends an image: the tool must end with
// exit 3 and say the port went away, and the board, powered up again on the same flash,
// must come back on the image it had, its store intact. The board is killed with SIGKILL
// once the tool reports the first bytes sent (so the board has begun writing the slot);
// the image carries 200 KB of padding so that the transfer cannot end first (several
// seconds, where the kill follows the first progress line within milliseconds).
describe.skipIf(!simExists).each(ENGINES)("a board that goes away during a flash (`sxs sim --engine %s`)", (engine) => {
  const simArgs = (flash: string) => [...(engine === "v8" ? clockArgs("real") : ["--engine", engine]), "--flash", flash];

  beforeAll(async () => {
    await buildDist();
    simHelp = (await runCli(["sim", "--help"])).stdout;
  }, 120_000);

  it("the tool exits 3 saying so; the board comes back on its old image with its store", async () => {
    const dir = tempDir("sxs-e2e-unplug");
    const flash = join(dir, "flash.bin");
    const sim = await startSim(simArgs(flash));
    let before: string;
    let tool: ChildProcess | undefined;
    try {
      expect((await runCli(["exec", "--port", sim.path, "(core/kv/set keep 7)"])).stdout).toBe("true\n");
      before = JSON.parse((await runCli(["info", "--json", "--port", sim.path])).stdout).image as string;
      const image = join(dir, "next.wasm");
      writeFileSync(image, paddedWasm(200_000));

      tool = spawn(process.execPath, [BIN, "flash", "--port", sim.path, image], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      tool.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
      const toolExit = new Promise<number | null>((r) => tool.on("close", (code) => r(code)));
      const end = Date.now() + 20_000;
      while (!/flash: [1-9]\d*\/\d+ bytes/.test(err)) {
        if (Date.now() > end || tool.exitCode !== null) throw new Error(`no progress from sxs flash: ${err}`);
        await sleep(10);
      }
      // pull the plug: the process that holds the board (the firmware or QEMU for those engines)
      const holders = engine === "v8" ? [sim.proc.pid!] : childPids(sim.proc.pid!);
      expect(holders).toHaveLength(1);
      process.kill(holders[0]!, "SIGKILL");
      const t = setTimeout(() => tool?.kill("SIGKILL"), 20_000);
      const code = await toolExit;
      clearTimeout(t);
      expect(code, err).toBe(3);
      expect(err).toMatch(new RegExp(`${sim.path} (went away|closed)`));
      expect(err).not.toMatch(/board is back/);
    } finally {
      if (tool && tool.exitCode === null && tool.signalCode === null) tool.kill("SIGKILL"); // a failed case leaves no tool behind
      await sim.stop();
    }

    const again = await startSim(simArgs(flash));
    try {
      const info = JSON.parse((await runCli(["info", "--json", "--port", again.path])).stdout);
      expect(info.image).toBe(before);
      expect((await runCli(["exec", "--port", again.path, "(core/kv/get keep)"])).stdout).toBe("7\n");
    } finally {
      await again.stop();
    }
  }, 90_000);
});

// One flash file handed from board to board. The boot record and the image slots are
// written by host/board/slots.ts on the V8 board and by firmware/core/sxs_slots.c on the
// others; the K/V log by the image on all of them. Each board must take over what the
// one before it left: the image that board flashed (in the other slot) and every key.
describe.skipIf(!simExists || ENGINES.length < 2)("one flash file passed from board to board", () => {
  const order = [...ENGINES, ENGINES[0]!];
  it(`${order.join(" → ")}: each boots the image the one before flashed, with every key`, async () => {
    await buildDist();
    const dir = tempDir("sxs-e2e-handover");
    const flash = join(dir, "flash.bin");
    const keys: string[] = [];
    let want: { image: string; activeSlot: number } | undefined;
    for (let i = 0; i < order.length; i++) {
      const engine = order[i]!;
      const sim = await startSim([...(engine === "v8" ? [] : ["--engine", engine]), "--flash", flash]);
      try {
        const p = ["--port", sim.path];
        const info = JSON.parse((await runCli(["info", "--json", ...p])).stdout);
        if (want) expect({ image: info.image, activeSlot: info.activeSlot }, `${engine} after ${order[i - 1]}`).toEqual(want);
        for (const k of keys) expect((await runCli(["exec", ...p, `(core/kv/get ${k})`])).stdout, `${engine}: ${k}`).toBe(`"${k}"\n`);
        if (i === order.length - 1) break;
        const key = `from-${engine}-${i}`;
        expect((await runCli(["exec", ...p, `(core/kv/set ${key} "${key}")`])).stdout).toBe("true\n");
        keys.push(key);
        const w = variantWasm(`handover-${i}`);
        const f = join(dir, `handover-${i}.wasm`);
        writeFileSync(f, w);
        const r = await runCli(["flash", ...p, f], { timeoutMs: 60_000 });
        expect(r.code, `${engine}: ${r.stderr}`).toBe(0);
        const after = JSON.parse((await runCli(["info", "--json", ...p])).stdout);
        expect(after.image).toBe(hex8(crc32(w)));
        expect(after.activeSlot).toBe(1 - info.activeSlot); // the inactive slot took it
        want = { image: after.image, activeSlot: after.activeSlot };
      } finally {
        await sim.stop();
      }
    }
  }, 180_000);
});
