// tools/soak.mjs: the same cycles of work on one board over the serial link, checked for
// drift (answers, logs, events) and growth (the image's heap, keys, the firmware's
// memory). Brief runs here on each engine; `npm run soak` runs at length. Runs with a
// leak or a drifting answer injected must fail, or the checks prove nothing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const mustRun = process.env.CI === "true";
const wasm3Built = existsSync(join(root, "firmware/target/release/sxs-fw"));
const qemuBuilt = existsSync(join(root, "firmware/target/qemu-rv32/sxs-fw.elf"));

interface Summary {
  engine: string;
  ok: boolean;
  cycles: number;
  requests: number;
  heapUsed: { first: number; last: number };
  rssKb: { first: number; max: number; last: number } | null;
  freeNativeHeap: { first: number; min: number; last: number } | null;
  retransmits: number;
  badFrames: number;
  failures: Array<{ cycle: number; what: string }>;
}

function soak(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, "tools", "soak.mjs"), ...args], { cwd: root, timeout: 170_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function run(args: string[]): Promise<{ code: number; summary: Summary }> {
  const r = await soak([...args, "--json"]);
  expect(r.stderr).toBe("");
  return { code: r.code, summary: JSON.parse(r.stdout) as Summary };
}

describe("tools/soak.mjs", () => {
  it("v8: 12 cycles on the virtual board over a pty, nothing drifts or grows", async () => {
    const { code, summary } = await run(["--engine", "v8", "--cycles", "12"]);
    expect(summary.failures).toEqual([]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ ok: true, cycles: 12, requests: 12 * 126, badFrames: 0 });
    expect(summary.rssKb).not.toBeNull();
  }, 180_000);

  it.skipIf(!wasm3Built && !mustRun)("wasm3: 12 cycles on the Linux firmware, its resident size included", async () => {
    const { code, summary } = await run(["--engine", "wasm3", "--cycles", "12"]);
    expect(summary.failures).toEqual([]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ ok: true, cycles: 12, requests: 12 * 126, badFrames: 0 });
    // measured on every cycle (the tool checks its growth; a null here would skip that check)
    expect(summary.rssKb).not.toBeNull();
    expect(summary.rssKb!.max).toBeLessThan(16 * 1024);
  }, 180_000);

  it.skipIf(!qemuBuilt && !mustRun)("qemu: 12 cycles on the RISC-V board, its free native heap included", async () => {
    const { code, summary } = await run(["--engine", "qemu", "--cycles", "12"]);
    expect(summary.failures).toEqual([]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ ok: true, cycles: 12, badFrames: 0, rssKb: null });
    // reported by the board on every cycle (the tool checks it does not fall)
    expect(summary.freeNativeHeap).not.toBeNull();
    expect(summary.freeNativeHeap!.min).toBeGreaterThan(0);
  }, 180_000);

  it.skipIf(!wasm3Built && !mustRun)("a leak (one more subscription per cycle) fails the run, with what grew", async () => {
    const { code, summary } = await run(["--engine", "wasm3", "--cycles", "12", "--inject-leak"]);
    expect(code).toBe(1);
    expect(summary.ok).toBe(false);
    expect(summary.failures).toHaveLength(1);
    expect(summary.failures[0]!.what).toMatch(/^heap in use keeps growing: at most \d+, then \d+, then \d+ bytes/);
    expect(summary.heapUsed.last - summary.heapUsed.first).toBeGreaterThan(8 * 1024);
    // the text summary says the same
    const text = await soak(["--engine", "v8", "--cycles", "12", "--inject-leak"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^soak \(v8\): FAILED: 12 cycles/);
    expect(text.stdout).toMatch(/\n {2}cycle 11: heap in use keeps growing/);
  }, 180_000);

  it("an answer that differs from the same cycle a period before fails the run at once", async () => {
    const r = await soak(["--engine", "v8", "--cycles", "12", "--inject-drift"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^soak \(v8\): FAILED: 4 cycles/);
    expect(r.stdout).toMatch(/\n {2}cycle 3: answer \d+ differs from cycle 0: "3" against "0"\n/);
  }, 60_000);

  it("--help, and usage errors exit 2", async () => {
    const help = await soak(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: node tools\/soak\.mjs/);
    for (const bad of [["--engine", "spidermonkey"], ["--cycles", "3"], ["--seconds"], ["--frobnicate"], ["--processors", "1"]]) {
      const r = await soak(bad);
      expect(r.code, bad.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^soak: /);
    }
  });
});
