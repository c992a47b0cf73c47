// tools/make-image.mjs: the image files it writes match the shared vectors byte for byte,
// carry the module's own ABI version, and pass the board's checks.

import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { checkImageFile } from "../../host/board/slots.js";
import { crc32 } from "../../host/link/crc32.js";
import { ABI_VERSION } from "../../host/image/image.js";
import { ROOT, tempDir, requireImage } from "../host/helpers.js";
import { fakeWasm, wasmBytes } from "./helpers.js";

const run = promisify(execFile);
const TOOL = join(ROOT, "tools", "make-image.mjs");

interface VectorImage {
  name: string;
  file_hex: string;
  valid: boolean;
  header?: { abi_version: number; wasm_len: number; wasm_crc: string; build_time: number };
}

describe("tools/make-image.mjs", () => {
  it("writes the valid images of test/vectors/image-headers.json byte for byte", async () => {
    const vectors = JSON.parse(readFileSync(join(ROOT, "test", "vectors", "image-headers.json"), "utf8")) as { images: VectorImage[] };
    const valid = vectors.images.filter((v) => v.valid);
    expect(valid.length).toBeGreaterThan(0);
    const dir = tempDir("sxs-img");
    for (const [i, v] of valid.entries()) {
      const file = Buffer.from(v.file_hex, "hex");
      const w = join(dir, `v${i}.wasm`);
      const out = join(dir, `v${i}.img`);
      writeFileSync(w, file.subarray(32));
      await run(process.execPath, [TOOL, w, out, "--abi", String(v.header!.abi_version), "--build-time", String(v.header!.build_time)]);
      expect(readFileSync(out).toString("hex"), v.name).toBe(v.file_hex);
    }
  });

  it("wraps build/sxs.wasm with its own ABI version; the board accepts it", async () => {
    requireImage();
    const dir = tempDir("sxs-img");
    const out = join(dir, "sxs.img");
    const r = await run(process.execPath, [TOOL, join(ROOT, "build", "sxs.wasm"), out], { env: { ...process.env, SOURCE_DATE_EPOCH: "1800000000" } });
    const id = crc32(wasmBytes()).toString(16).padStart(8, "0");
    expect(r.stdout).toContain(`image ${id}, ABI ${ABI_VERSION}`);
    const file = new Uint8Array(readFileSync(out));
    const { header, wasm } = checkImageFile(file);
    expect(header).toMatchObject({ abiVersion: ABI_VERSION, wasmLen: wasmBytes().length, wasmCrc: crc32(wasmBytes()), buildTime: 1800000000 });
    expect(Buffer.compare(Buffer.from(wasm), Buffer.from(wasmBytes()))).toBe(0);
  });

  it("reads the ABI version from the module; --abi overrides it", async () => {
    const dir = tempDir("sxs-img");
    const w = join(dir, "v7.wasm");
    writeFileSync(w, fakeWasm({ abi: 7 }));
    await run(process.execPath, [TOOL, w, join(dir, "a.img"), "--build-time", "0"]);
    expect(readFileSync(join(dir, "a.img")).readUInt32LE(8)).toBe(7);
    await run(process.execPath, [TOOL, w, join(dir, "b.img"), "--abi", "3"]);
    const b = readFileSync(join(dir, "b.img"));
    expect(b.readUInt32LE(8)).toBe(3);
  });

  it("--help, and clear failures", async () => {
    const h = await run(process.execPath, [TOOL, "--help"]);
    expect(h.stdout).toMatch(/^Usage: node tools\/make-image.mjs/);
    const dir = tempDir("sxs-img");
    const notWasm = join(dir, "x.wasm");
    writeFileSync(notWasm, "hello");
    const e = await run(process.execPath, [TOOL, notWasm, join(dir, "x.img")]).catch((err: { code: number; stderr: string }) => err);
    expect(e).toMatchObject({ code: 1 });
    expect((e as { stderr: string }).stderr).toMatch(/not a Wasm version-1 module/);
    const u = await run(process.execPath, [TOOL, "--nope"]).catch((err: { code: number }) => err);
    expect(u).toMatchObject({ code: 2 });
  });
});
