// Runs tools/fuzz.mjs (the standalone fuzzer) for about ten seconds with a fixed seed:
// no trap, every request answered exactly once, heap in use bounded.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { IMAGE, ROOT, requireImage } from "./helpers.js";

beforeAll(requireImage);

function fuzz(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "tools", "fuzz.mjs"), "--image", IMAGE, ...args],
      { cwd: ROOT, timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("tools/fuzz.mjs", () => {
  it("runs ten seconds of seeded fuzzing without a failure", async () => {
    const r = await fuzz(["--seconds", "10", "--seed", "20261124"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const line = r.stdout.trim().split("\n").pop()!;
    expect(line).toMatch(/^fuzz: ok: seed 20261124, /);
    const m = /(\d+) rounds, (\d+) requests answered (\d+) times \((\d+) values, (\d+) errors\)/.exec(line);
    expect(m, line).not.toBeNull();
    const [rounds, requests, answers, values, errors] = m!.slice(1).map(Number) as [number, number, number, number, number];
    expect(rounds).toBeGreaterThan(0);
    expect(requests).toBeGreaterThan(10_000);
    expect(answers).toBe(requests);
    expect(values + errors).toBe(answers);
    expect(values).toBeGreaterThan(1000);
    expect(line).toMatch(/(\d+) heap checks/);
    expect(line).toMatch(/no traps$/);
  }, 60_000);

  it("replays a round deterministically and takes --help", async () => {
    const a = await fuzz(["--seed", "7", "--round", "3"]);
    const b = await fuzz(["--seed", "7", "--round", "3"]);
    expect(a.code).toBe(0);
    const strip = (s: string) => s.replace(/, [\d.]+ s,/, ",");
    expect(strip(a.stdout)).toBe(strip(b.stdout));
    expect(a.stdout).toMatch(/^fuzz: ok: seed 7, [\d.]+ s, 1 rounds, /);
    const h = await fuzz(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^usage: node tools\/fuzz\.mjs/);
    const bad = await fuzz(["--bogus"]);
    expect(bad.code).toBe(2);
  }, 60_000);
});
