// The C link (firmware/core/sxs_link.c, sxs_fw.c) against host/link's TypeScript
// endpoint over a real pty: firmware/test/e2e_link.mjs. Skipped outside CI when the
// firmware is not built (it needs cargo); in CI a missing firmware fails.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const fw = join(root, "firmware/target/release/sxs-fw");
const built = existsSync(fw);

describe.skipIf(!built && process.env.CI !== "true")("the C link over a pty", () => {
  it("passes every end-to-end check against the TypeScript endpoint", async () => {
    expect(existsSync(fw), `${fw} is missing: npm run build:firmware`).toBe(true);
    const { runE2E } = await import(join(root, "firmware/test/e2e_link.mjs"));
    const run: { passed: number; failed: number; results: Array<{ name: string; ok: boolean; error?: string }> } = await runE2E({ fw, log: () => {} });
    expect(run.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error ?? ""}`)).toEqual([]);
    expect(run.passed).toBeGreaterThan(10);
  }, 120_000);
});
