// The firmware on the emulated RISC-V board (firmware/ports/qemu-rv32: the core and wasm3
// cross-compiled for rv32imac, run by QEMU in a plain ESP32's RAM, 1 page, 8 KiB wasm3
// stack). The transcripts and the end-to-end suite run against it in test/client/
// e2e-sim.test.ts; here: the ESP32 limits over the link, and what the board reports.
// Built where gcc-riscv64-unknown-elf is installed; in CI a missing build fails.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openBoard } from "../../host/client/board-client.js";
import { startQemuPty, qemuArgv, qemuFirmwarePath } from "../../host/cli/qemu-board.js";

const root = resolve(__dirname, "../..");
const image = join(root, "build/sxs.wasm");
const run = existsSync(qemuFirmwarePath()) || process.env.CI === "true";
if (!run) console.warn("test/firmware/qemu-board: the qemu-rv32 firmware is not built (firmware/ports/qemu-rv32/README.md); skipping");

const key = (i: number) => `key-${String(i).padStart(12, "0")}`;

describe.skipIf(!run)("the firmware on QEMU's riscv32 board", () => {
  it("the 1,000-entry / 64-subscription workload in one page: the store fills with error values, the board keeps serving", async () => {
    let report = "";
    const b = await startQemuPty(["--image", image, "--report"], { onStderr: (d) => (report += d) });
    const c = await openBoard(b.path, { timeoutMs: 10_000 });
    try {
      const sets: string[] = [];
      for (let i = 0; i < 1000; i++) sets.push(await c.exec(`(core/kv/set ${key(i)} "val-${String(i).padStart(12, "0")}")`));
      // as under wasm3 on Linux with the ESP32's limits (test/firmware/esp32-limits.test.ts)
      expect(sets.slice(0, 512).every((a) => a === "true")).toBe(true);
      expect(sets.slice(512).every((a) => a === '@"core/kv/set: store full"')).toBe(true);
      const subs: string[] = [];
      for (let i = 0; i < 64; i++) subs.push(await c.exec(`(core/event/sub $CHANNEL_B ${i} {(core/kv/set seen $data)})`));
      expect(subs.every((a) => a === "true" || a === '@"core/event/sub: store full"')).toBe(true);
      expect(await c.exec("(".repeat(5000))).toBe('@"parse: nesting too deep at 64"');
      expect(await c.exec(`(core/kv/get ${key(1)})`)).toBe('"val-000000000001"');
      const info = await c.info();
      expect(info.firmware).toMatch(/qemu-rv32/);
      expect(info.bootReason).toBe(0); // no crash, no reset on the way
      expect(info.kvEntries).toBe(512);
      expect(info.wasmMemory).toBe(65536); // one page: --max-pages 1, as the ESP32 port
    } finally {
      await c.close();
      await b.stop();
    }
    // the board's own figures: all of it within the RAM it was linked with
    const m = [...report.matchAll(/sxs-report ram (\d+) static (\d+) heap-span (\d+) stack-used (\d+)/g)].at(-1);
    expect(m, report).toBeDefined();
    const [ram, stat, heap, stack] = m!.slice(1).map(Number) as [number, number, number, number];
    expect(ram).toBe(299_008);
    expect(stat + heap + 32_768).toBeLessThanOrEqual(ram);
    expect(stack).toBeGreaterThan(0);
    expect(stack).toBeLessThan(32_768);
  }, 180_000);

  it("a wasm3 stack too small for the image: ERROR over the link, the image restarts, the board answers", async () => {
    const b = await startQemuPty(["--image", image, "--stack", "2048"]);
    const d = await openBoard(b.path, { timeoutMs: 10_000 });
    try {
      await expect(d.exec("(core/kv/set a 1)")).rejects.toThrow(/INTERNAL: image trapped: .*stack overflow/);
      expect((await d.info()).imageCrc).toBeGreaterThan(0);
    } finally {
      await d.close();
      await b.stop();
    }
  }, 60_000);

  // the same objects linked with an 8 KiB native stack (firmware/ports/qemu-rv32/Makefile):
  // wasm3's compile of the image needs about 13 KB of it
  it("a native stack overflow: the guard catches it, the crash loop ends without the image, the link serves", async () => {
    let said = "";
    const elf = join(dirname(qemuFirmwarePath()), "sxs-fw-stack8k.elf");
    const b = await startQemuPty(["--image", image], { elf, onStderr: (d) => (said += d) });
    let c = await openBoard(b.path, { timeoutMs: 10_000 });
    try {
      // five crashes in a row (the third and fourth boot in safe mode), then no image
      const overflows = said.match(/native stack overflow \(mcause 7, .*\): resetting/g) ?? [];
      expect(overflows.length, said).toBe(5);
      const info = await c.info();
      expect(info.bootReason).toBe(4); // crash
      expect(info.stateFlags & 1).toBe(1); // safe mode
      await expect(c.exec("(core/kv/set a 1)")).rejects.toThrow(/NO_IMAGE: no image is running/);
      // a reset the host asks for tries the image again: it crashes once more (and comes
      // back in text mode, as after any crash), and is held again
      await c.reset({ timeoutMs: 3_000 }).catch(() => undefined);
      await c.close();
      c = await openBoard(b.path, { timeoutMs: 10_000 });
      expect((said.match(/native stack overflow/g) ?? []).length).toBe(6);
      expect((await c.info()).bootReason).toBe(4);
      await expect(c.exec("1")).rejects.toThrow(/NO_IMAGE/);
    } finally {
      await c.close();
      await b.stop();
    }
  }, 60_000);

  it("a file that is not an image: the firmware says why, and the launcher reports it", async () => {
    await expect(startQemuPty(["--image", join(root, "package.json")])).rejects.toThrow(/exited before serving .*bad magic \(not an sxs image\)/);
  });

  // needs the Linux firmware too (built with cargo; in CI always)
  const linuxBuilt = existsSync(join(root, "firmware/target/release/sxs-fw")) || process.env.CI === "true";
  it.skipIf(!linuxBuilt)("a flash file of the Linux firmware is a flash file of the QEMU board (core/sxs_flash_layout.h)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sxs-qemu-flash-"));
    const sxs = (engine: string, text: string) =>
      spawnSync(process.execPath, [join(root, "bin/sxs.mjs"), "exec", "--engine", engine, "--flash", join(dir, "flash.bin"), text], { encoding: "utf8" });
    try {
      expect(sxs("wasm3", "(core/kv/set shared 42)").stdout).toBe("true\n");
      expect(sxs("qemu", "(core/kv/get shared)").stdout).toBe("42\n");
      expect(sxs("qemu", "(core/kv/set back 7)").stdout).toBe("true\n");
      expect(sxs("wasm3", "(core/kv/get back)").stdout).toBe("7\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("an argument with white space that is not a file path is still refused (the guest could not get it whole)", () => {
    expect(() => qemuArgv("fw.elf", ["--image", "/a/b.wasm"])).not.toThrow();
    expect(() => qemuArgv("fw.elf", ["--processors", "1 2"])).toThrow(/white space/);
  });

  it("file paths with white space reach the guest (whose command line is split at spaces)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sxs qemu paths "));
    const flash = join(dir, "my flash.bin");
    const img = join(dir, "an image.wasm");
    copyFileSync(image, img);
    const sxs = (text: string) =>
      spawnSync(process.execPath, [join(root, "bin/sxs.mjs"), "exec", "--engine", "qemu", "--image", img, "--flash", flash, text], { encoding: "utf8" });
    try {
      expect(sxs("(core/kv/set spaced 1)")).toMatchObject({ status: 0, stdout: "true\n" });
      expect(statSync(flash).size).toBeGreaterThan(0); // created where the link pointed
      expect(sxs("(core/kv/get spaced)")).toMatchObject({ status: 0, stdout: "1\n" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
