// tools/fuzz-engines.mjs: generated scripts give byte-identical transcripts under V8 and
// under wasm3 (the Linux firmware). A brief seeded campaign here; `npm run fuzz:engines`
// runs it at length. The comparison itself is checked against a firmware whose output is
// altered, and one that fails: both must be reported, with the replay.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const fw = join(root, "firmware/target/release/sxs-fw");
const built = existsSync(fw);
const mustRun = process.env.CI === "true";
const qemuBuilt = existsSync(join(root, "firmware/target/qemu-rv32/sxs-fw.elf"));
const work = mkdtempSync(join(tmpdir(), "sxs-fuzz-engines-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(root, "tools", "fuzz-engines.mjs"), ...args],
      { cwd: root, timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, SXS_FIRMWARE: "", SXS_QEMU_FIRMWARE: "" } },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A stand-in firmware: a shell script around the real one. */
function wrapper(name: string, body: string): string {
  const p = join(work, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe.skipIf(!built && !mustRun)("tools/fuzz-engines.mjs (V8 against wasm3)", () => {
  it("finds the two engines' transcripts identical over a seeded campaign", async () => {
    // a fixed number of rounds: the same scripts on every machine, however loaded
    const r = await tool(["--rounds", "400", "--seconds", "100", "--seed", "20261124"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = /^fuzz-engines: ok: seed 20261124, [\d.]+ s, (\d+) rounds, (\d+) transcript lines \(\d+ bytes\) identical under V8 and wasm3 \((\d+) values, (\d+) errors, (\d+) log lines\), no traps$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    const [rounds, lines, values, errors, logs] = m!.slice(1).map(Number) as [number, number, number, number, number];
    expect(rounds).toBe(400);
    expect(lines).toBeGreaterThan(rounds * 5);
    expect(values).toBeGreaterThan(2000);
    expect(errors).toBeGreaterThan(1000);
    expect(logs).toBeGreaterThan(200);
  }, 120_000);

  it("reports a transcript that differs, with the round, the line and the replay", async () => {
    // the third line of every transcript is changed
    const fake = wrapper("altered-fw", `"${fw}" "$@" | sed '3s/^=> /=> X/'`);
    const keep = join(work, "kept");
    const r = await tool(["--seed", "5", "--rounds", "40", "--firmware", fake, "--keep", keep]);
    expect(r.code).toBe(1);
    const m = /^fuzz-engines: FAILED: seed 5 round (\d+) \(wasm3, \d processors, \d+ pages, wasm3 stack \d+\)\n  transcripts differ at line 3\n  V8: +"=> [^X][^\n]*\n  wasm3: "=> X[^\n]*\n  script: (\S+)\n  replay: node tools\/fuzz-engines\.mjs --engine wasm3 --seed 5 --round \1\n/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const script = m![2]!;
    expect(script.startsWith(keep)).toBe(true);
    expect(readFileSync(script).length).toBeGreaterThan(0);
    // the replay of that round alone finds the same difference
    const again = await tool(["--seed", "5", "--round", m![1]!, "--firmware", fake, "--keep", keep]);
    expect(again.code).toBe(1);
    expect(again.stderr.split("\n").slice(0, 4)).toEqual(r.stderr.split("\n").slice(0, 4));
  }, 120_000);

  it("reports a firmware that fails, and a trap line on either side", async () => {
    const failing = wrapper("failing-fw", `"${fw}" "$@"; echo "sxs-fw: something broke" >&2; exit 3`);
    const r = await tool(["--seed", "9", "--rounds", "5", "--firmware", failing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fuzz-engines: FAILED: seed 9 round 0 /);
    expect(r.stderr).toMatch(/\n  wasm3: "!! sxs-fw failed: exit 3: sxs-fw: something broke"\n/);
    const trapping = wrapper("trapping-fw", `"${fw}" "$@"; echo '!! trap: stack overflow'`);
    const t = await tool(["--seed", "9", "--rounds", "5", "--firmware", trapping]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/\n  wasm3: "!! trap: stack overflow"\n/);
  }, 120_000);

  it("takes --help and refuses bad arguments", async () => {
    const h = await tool(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^usage: node tools\/fuzz-engines\.mjs /);
    expect((await tool(["--bogus"])).code).toBe(2);
    expect((await tool(["--engine", "v8"])).code).toBe(2);
    expect((await tool(["--seconds"])).code).toBe(2);
    const missing = await tool(["--firmware", join(work, "no-such-fw"), "--rounds", "1"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/the firmware \(.*no-such-fw\) is missing: build it with `npm run build:firmware`/);
  }, 60_000);
});

describe.skipIf(!qemuBuilt && !mustRun)("tools/fuzz-engines.mjs --engine qemu (V8 against 32-bit wasm3)", () => {
  it("finds the transcripts of the QEMU board identical to V8's", async () => {
    const r = await tool(["--engine", "qemu", "--rounds", "8", "--seed", "20261124"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = /^fuzz-engines: ok: seed 20261124, [\d.]+ s, 8 rounds, (\d+) transcript lines \(\d+ bytes\) identical under V8 and wasm3 on QEMU \((\d+) values, (\d+) errors, \d+ log lines\), no traps$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(40);
    expect(Number(m![2]) + Number(m![3])).toBeGreaterThan(40);
  }, 120_000);
});
