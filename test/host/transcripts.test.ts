// Every transcript corpus file through `node bin/sxs.mjs run --transcript`, compared byte
// for byte with its .out: the project's own corpus in test/transcripts/, and the shared
// conformance suite in ../shared/conformance/ when it exists beside the checkout (in CI).

import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, ensureDist, requireImage } from "./helpers.js";

const run = promisify(execFile);

function corpus(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".slp"))
    .sort()
    .map((f) => join(dir, f));
}

async function transcript(slp: string): Promise<Buffer> {
  const { stdout } = await run(process.execPath, [BIN, "run", "--transcript", slp], {
    cwd: ROOT,
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return stdout;
}

function check(slp: string): () => Promise<void> {
  return async () => {
    const outFile = slp.replace(/\.slp$/, ".out");
    expect(existsSync(outFile), `${basename(outFile)} is missing`).toBe(true);
    const got = await transcript(slp);
    // Compare as text for a readable diff, then as bytes.
    expect(got.toString("utf8")).toBe(readFileSync(outFile, "utf8"));
    expect(Buffer.compare(got, readFileSync(outFile))).toBe(0);
  };
}

beforeAll(async () => {
  requireImage();
  await ensureDist();
}, 120_000);

const OWN = join(ROOT, "test", "transcripts");
const own = corpus(OWN);
describe.skipIf(own.length === 0)(`project transcripts (test/transcripts: ${own.length} files)`, () => {
  for (const f of own) it(basename(f), check(f), 30_000);
});
if (own.length === 0) {
  describe("project transcripts", () => {
    it.skip(`skipped: no *.slp in ${OWN} yet`, () => {});
  });
}

const SHARED = resolve(ROOT, "..", "shared", "conformance");
const shared = corpus(SHARED);
describe.skipIf(shared.length === 0)(`conformance (${SHARED}: ${shared.length} files)`, () => {
  for (const f of shared) it(basename(f), check(f), 30_000);
});
if (shared.length === 0) {
  describe("conformance", () => {
    it.skip(`skipped: ${SHARED} is absent (it exists beside the checkout in CI only)`, () => {});
  });
}
