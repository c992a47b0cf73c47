// The Linux firmware (firmware/): its C unit tests, and the same transcripts under wasm3
// as under V8. The firmware is built by npm run build when cargo is installed; in CI
// (CI=true) a missing firmware is a failure, elsewhere these tests are skipped with a note.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const fw = join(root, "firmware/target/release/sxs-fw");
const fwTest = join(root, "firmware/target/release/sxs-fw-test");
const image = join(root, "build/sxs.wasm");
const built = existsSync(fw) && existsSync(fwTest);
const mustRun = process.env.CI === "true";

if (!built && !mustRun) {
  console.warn("test/firmware: firmware not built (needs cargo: npm run build:firmware); skipping the wasm3 tests");
}

describe.skipIf(!built && !mustRun)("firmware (wasm3)", () => {
  it("is built", () => {
    expect(existsSync(fw), `${fw} is missing: npm run build:firmware`).toBe(true);
  });

  it("passes its C unit tests", () => {
    const r = spawnSync(fwTest, [], { encoding: "utf8", cwd: root });
    expect(r.stdout).toMatch(/\b\d+ passed, 0 failed\b/);
    expect(r.status).toBe(0);
  });

  it("accepts the image at boot (m3_CompileModule and the opcode check)", () => {
    const r = spawnSync(fw, ["--image", image, "--check"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  const dirs = [join(root, "test/transcripts"), resolve(root, "../shared/conformance")].filter((d) => existsSync(d));
  for (const dir of dirs) {
    const files = readdirSync(dir).filter((f) => f.endsWith(".slp")).sort();
    for (const f of files) {
      it(`gives the V8 transcript for ${join(dir.split("/").slice(-2).join("/"), f)}`, { timeout: 60_000 }, () => {
        const slp = join(dir, f);
        const expected = readFileSync(slp.replace(/\.slp$/, ".out"));
        const r = spawnSync(fw, ["--image", image, "--transcript", slp], { maxBuffer: 64 << 20 });
        expect(r.stderr.toString()).toBe("");
        expect(r.stdout.toString()).toBe(expected.toString());
        expect(r.status).toBe(0);
      });
    }
  }

  it("reports a bad image clearly instead of crashing", () => {
    const r = spawnSync(fw, ["--image", join(root, "package.json"), "--check"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.signal).toBeNull();
  });

  it("--pty with an image it cannot use exits with the reason before printing a path, and the tool says it", () => {
    for (const [img, why] of [
      [join(root, "no-such-image.wasm"), /no-such-image\.wasm: No such file or directory/],
      [join(root, "package.json"), /bad magic \(not an sxs image\)/],
    ] as const) {
      const fwRun = spawnSync(fw, ["--pty", "--image", img], { encoding: "utf8", timeout: 10_000 });
      expect(fwRun.status).toBe(1);
      expect(fwRun.stdout).toBe(""); // no path: nothing to connect to
      expect(fwRun.stderr).toMatch(why);
      const cli = spawnSync(process.execPath, [join(root, "bin/sxs.mjs"), "exec", "--engine", "wasm3", "--image", img, "1"], { encoding: "utf8", timeout: 20_000 });
      expect(cli.status).toBe(3);
      expect(cli.stderr).toMatch(/exited before serving \(exit 1\)/);
      expect(cli.stderr).toMatch(why);
    }
  });
});
