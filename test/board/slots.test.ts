// Image slots and the boot record (docs/link.md sections 12 and 13) on a memory NorFlash:
// record layout, install, switching slots, counter alternation, torn record writes at
// every byte, rollback rules, and the image checks with their ERROR codes.

import { describe, expect, it } from "vitest";
import { NorFlash, PARTITIONS, SECTOR } from "../../host/board/flash.js";
import { LinkServer } from "../../host/board/link-server.js";
import {
  BOOT_RECORD_LEN,
  ImageRejected,
  SLOT_SIZE,
  SlotState,
  Slots,
  bootSlots,
  checkImageFile,
  checkModule,
  compileWasm,
  decodeBootRecord,
  encodeBootRecord,
  type BootRecord,
  type StartFn,
} from "../../host/board/slots.js";
import { crc32 } from "../../host/link/crc32.js";
import { buildImage, encodeImageHeader } from "../../host/link/image-header.js";
import { BootReason, ErrorCode, RollbackReason, SLOT_NONE } from "../../host/link/messages.js";
import { ABI_VERSION } from "../../host/image/image.js";
import { fakeImage, fakeWasm, realImage, wasmBytes } from "./helpers.js";

const crcOf = (file: Uint8Array): number => new DataView(file.buffer, file.byteOffset).getUint32(16, true);

/** A start function that accepts every image (the slot logic alone). */
const okStart: StartFn<number> = async (slot) => ({ ok: true, board: slot });

/** A start function that fails images whose id is in `bad` with the given reason. */
function failing(bad: Map<number, number>): StartFn<number> {
  return async (slot, img) => {
    const r = bad.get(img.header.wasmCrc);
    return r === undefined ? { ok: true, board: slot } : { ok: false, reason: r, message: `fails with ${r}` };
  };
}

function rejected(f: () => unknown): ImageRejected {
  try {
    f();
  } catch (e) {
    if (e instanceof ImageRejected) return e;
    throw e;
  }
  throw new Error("not rejected");
}

describe("boot record", () => {
  it("round-trips 32 bytes with magic SXSB and a CRC over bytes 0..27", () => {
    const r: BootRecord = { counter: 7, active: 1, state: SlotState.PENDING, attempts: 2, previous: 0, activeCrc: 0xdeadbeef, failedCrc: 0x01020304, rollbackReason: 3 };
    const b = encodeBootRecord(r);
    expect(b.length).toBe(BOOT_RECORD_LEN);
    expect([...b.subarray(0, 4)]).toEqual([0x53, 0x58, 0x53, 0x42]);
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(4, true)).toBe(7);
    expect([b[8], b[9], b[10], b[11]]).toEqual([1, 1, 2, 0]);
    expect(dv.getUint32(12, true)).toBe(0xdeadbeef);
    expect(dv.getUint32(16, true)).toBe(0x01020304);
    expect(b[20]).toBe(3);
    expect([...b.subarray(21, 28)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(dv.getUint32(28, true)).toBe(crc32(b, 0, 28));
    expect(decodeBootRecord(b)).toEqual(r);
    for (let i = 0; i < 32; i++) {
      const c = b.slice();
      c[i] ^= 0x10;
      expect(decodeBootRecord(c), `byte ${i} flipped`).toBeNull();
    }
    expect(decodeBootRecord(new Uint8Array(32).fill(0xff))).toBeNull();
  });

  it("lives in two 4 KiB sectors after the K/V partition, written alternately with a growing counter", () => {
    expect(PARTITIONS.boot).toMatchObject({ offset: 1280 * 1024, size: 8 * 1024 });
    const slots = new Slots(NorFlash.memory());
    expect(slots.readRecord()).toBeNull();
    const base = { active: 0, state: SlotState.CONFIRMED, attempts: 0, previous: SLOT_NONE, activeCrc: 1, failedCrc: 0, rollbackReason: 0 };
    const sectors: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const rec = slots.writeRecord({ ...base, activeCrc: i });
      expect(rec.counter).toBe(i);
      const cur = slots.readRecord()!;
      expect(cur.record).toEqual(rec);
      sectors.push(cur.sector);
      // the other copy is the previous record
      const [a, b] = slots.readCopies();
      const other = cur.sector === 0 ? b : a;
      if (i > 1) expect(other?.counter).toBe(i - 1);
    }
    expect(sectors).toEqual([0, 1, 0, 1, 0, 1]);
    // the copy at offset 0 of each sector, as the C firmware reads it
    const raw = slots.flash.read(PARTITIONS.boot.offset + SECTOR, 32);
    expect(decodeBootRecord(raw)?.counter).toBe(6);
  });
});

describe("image checks (section 12) and their ERROR codes", () => {
  const good = realImage();

  it("accepts build/sxs.wasm with a header", () => {
    const { header, wasm } = checkImageFile(good);
    expect(header.abiVersion).toBe(ABI_VERSION);
    expect(header.wasmCrc).toBe(crc32(wasmBytes()));
    expect(wasm.length).toBe(wasmBytes().length);
  });

  it("refuses a bad CRC, a truncated file, a wrong ABI, not-Wasm, a too-large image", () => {
    const badCrc = good.slice();
    badCrc[good.length - 10] ^= 0xff;
    expect(rejected(() => checkImageFile(badCrc)).code).toBe(ErrorCode.IMAGE_BAD_CRC);

    expect(rejected(() => checkImageFile(good.subarray(0, good.length - 100))).code).toBe(ErrorCode.IMAGE_BAD_HEADER);
    expect(rejected(() => checkImageFile(good.subarray(0, 20))).code).toBe(ErrorCode.IMAGE_BAD_HEADER);
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    expect(rejected(() => checkImageFile(trailing)).code).toBe(ErrorCode.IMAGE_BAD_HEADER);

    const e = rejected(() => checkImageFile(buildImage(wasmBytes(), { abiVersion: ABI_VERSION + 1 })));
    expect(e.code).toBe(ErrorCode.IMAGE_BAD_ABI);
    expect(e.message).toMatch(/ABI version 3, this board runs ABI 2/);

    const text = new TextEncoder().encode("this is not a wasm module at all");
    expect(rejected(() => checkImageFile(buildImage(text, { abiVersion: ABI_VERSION }))).code).toBe(ErrorCode.IMAGE_NOT_WASM);

    const magic = good.slice();
    magic[0] = 0x41;
    expect(rejected(() => checkImageFile(magic)).code).toBe(ErrorCode.IMAGE_BAD_HEADER);
    const hdr = good.slice();
    hdr[24] ^= 1; // build_time, covered by the header CRC
    expect(rejected(() => checkImageFile(hdr)).code).toBe(ErrorCode.IMAGE_BAD_HEADER);

    const big = new Uint8Array(SLOT_SIZE + 1);
    big.set(encodeImageHeader({ abiVersion: ABI_VERSION, wasmLen: SLOT_SIZE + 1 - 32, wasmCrc: 0 }));
    expect(rejected(() => checkImageFile(big)).code).toBe(ErrorCode.FLASH_TOO_LARGE);
  });

  it("runs the engine checks FLASH_COMMIT runs: compile, exports and ABI, sxs_init", async () => {
    const kv = undefined;
    await expect(checkModule(await compileWasm(wasmBytes()), kv)).resolves.toBeUndefined();
    await expect(checkModule(await compileWasm(fakeWasm({ trapRun: true })), kv)).resolves.toBeUndefined();
    const refused = async (w: Uint8Array): Promise<ImageRejected> => {
      try {
        await checkModule(await compileWasm(w), kv);
      } catch (e) {
        if (e instanceof ImageRejected) return e;
        throw e;
      }
      throw new Error("accepted");
    };
    const abi = await refused(fakeWasm({ abi: 1 }));
    expect(abi.code).toBe(ErrorCode.IMAGE_REJECTED);
    expect(abi.rollbackReason).toBe(RollbackReason.INIT);
    const init = await refused(fakeWasm({ initResult: -1 }));
    expect(init.code).toBe(ErrorCode.IMAGE_REJECTED);
    expect(init.rollbackReason).toBe(RollbackReason.INIT);
    // a valid Wasm module that is no sxs image (no exports)
    const empty = await refused(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    expect(empty.code).toBe(ErrorCode.IMAGE_REJECTED);
    expect(empty.rollbackReason).toBe(RollbackReason.LOAD);
    // bytes after the preamble that do not compile
    const garbage = await compileWasm(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff)).catch((e: unknown) => e);
    expect(garbage).toBeInstanceOf(ImageRejected);
    expect((garbage as ImageRejected).rollbackReason).toBe(RollbackReason.LOAD);
  });
});

describe("booting the slots (section 13)", () => {
  const A = fakeImage({ tag: 1 });
  const B = fakeImage({ tag: 2 });
  const C = fakeImage({ tag: 3 });

  it("first boot of a blank flash installs the image into slot 0", async () => {
    const slots = new Slots(NorFlash.memory());
    const out = await bootSlots(slots, okStart, { install: A });
    expect(out.board).toBe(0);
    expect(out.slot).toBe(0);
    expect(out.bootReason).toBe(BootReason.POWER_ON);
    expect(out.record).toMatchObject({ active: 0, state: SlotState.CONFIRMED, previous: SLOT_NONE, activeCrc: crcOf(A) });
    expect(slots.readImage(0)).toEqual(A);
    // a second boot does not install again
    const again = await bootSlots(slots, okStart, { install: B });
    expect(again.header?.wasmCrc).toBe(crcOf(A));
  });

  it("a blank flash without an image to install runs without one", async () => {
    const out = await bootSlots(new Slots(NorFlash.memory()), okStart);
    expect(out.board).toBeUndefined();
    expect(out.slot).toBe(SLOT_NONE);
  });

  it("switches slots: PENDING, confirmed at the first boot, then alternating", async () => {
    const slots = new Slots(NorFlash.memory());
    await bootSlots(slots, okStart, { install: A });
    slots.writeImage(1, B);
    slots.markPending(1, crcOf(B));
    expect(slots.readRecord()!.record).toMatchObject({ active: 1, state: SlotState.PENDING, attempts: 0, previous: 0 });
    const out = await bootSlots(slots, okStart, { reason: BootReason.RESET });
    expect(out).toMatchObject({ board: 1, slot: 1, bootReason: BootReason.NEW_IMAGE });
    expect(out.record).toMatchObject({ active: 1, state: SlotState.CONFIRMED, attempts: 0, previous: 0, activeCrc: crcOf(B), rollbackReason: 0 });
    // a plain reboot keeps it
    const again = await bootSlots(slots, okStart, { reason: BootReason.RESET });
    expect(again).toMatchObject({ slot: 1, bootReason: BootReason.RESET });
    // and the next image goes to slot 0
    slots.writeImage(0, C);
    slots.markPending(0, crcOf(C));
    const third = await bootSlots(slots, okStart);
    expect(third).toMatchObject({ slot: 0, bootReason: BootReason.NEW_IMAGE });
    expect(third.record).toMatchObject({ previous: 1, activeCrc: crcOf(C) });
  });

  it("rolls back an image that fails at start-up, and says why", async () => {
    for (const reason of [RollbackReason.TRAP, RollbackReason.LOAD, RollbackReason.INIT]) {
      const slots = new Slots(NorFlash.memory());
      await bootSlots(slots, okStart, { install: A });
      slots.writeImage(1, B);
      slots.markPending(1, crcOf(B));
      const out = await bootSlots(slots, failing(new Map([[crcOf(B), reason]])));
      expect(out).toMatchObject({ board: 0, slot: 0, bootReason: BootReason.ROLLBACK });
      expect(out.rollback).toMatchObject({ reason, failedCrc: crcOf(B), slot: 0 });
      expect(out.record).toMatchObject({ active: 0, state: SlotState.CONFIRMED, failedCrc: crcOf(B), rollbackReason: reason, activeCrc: crcOf(A) });
      // reported until the next successful commit, also after plain reboots
      const later = await bootSlots(slots, okStart, { reason: BootReason.RESET });
      expect(later.record).toMatchObject({ rollbackReason: reason, failedCrc: crcOf(B) });
      expect(later.bootReason).toBe(BootReason.RESET);
      slots.writeImage(1, C);
      slots.markPending(1, crcOf(C));
      expect(slots.readRecord()!.record).toMatchObject({ rollbackReason: 0, failedCrc: 0 });
    }
  });

  it("an image that does not come up in time: watchdog reboot, then rollback (reason 2)", async () => {
    const slots = new Slots(NorFlash.memory());
    await bootSlots(slots, okStart, { install: A });
    slots.writeImage(1, B);
    slots.markPending(1, crcOf(B));
    let tries = 0;
    const out = await bootSlots(slots, async (slot, img) => {
      if (img.header.wasmCrc === crcOf(B)) {
        tries++;
        return { ok: false, reason: RollbackReason.DEADLINE, message: "not idle in time" };
      }
      return { ok: true, board: slot };
    });
    expect(tries).toBe(1);
    expect(out).toMatchObject({ slot: 0, bootReason: BootReason.ROLLBACK });
    expect(out.record).toMatchObject({ rollbackReason: RollbackReason.DEADLINE, failedCrc: crcOf(B) });
  });

  it("a PENDING image whose boot never confirmed (power lost) is rolled back at the next boot", async () => {
    const slots = new Slots(NorFlash.memory());
    await bootSlots(slots, okStart, { install: A });
    slots.writeImage(1, B);
    slots.markPending(1, crcOf(B));
    slots.writeRecord({ ...slots.readRecord()!.record, attempts: 1 }); // the first try was cut short
    const out = await bootSlots(slots, okStart);
    expect(out).toMatchObject({ slot: 0, bootReason: BootReason.ROLLBACK });
    expect(out.record).toMatchObject({ rollbackReason: RollbackReason.DEADLINE });
  });

  it("a slot whose bytes were damaged fails its CRC at boot (reason 3)", async () => {
    const slots = new Slots(NorFlash.memory());
    await bootSlots(slots, okStart, { install: A });
    slots.writeImage(1, B);
    slots.markPending(1, crcOf(B));
    const off = PARTITIONS.slotB.offset + 100;
    const byte = slots.flash.read(off, 1)[0]!;
    slots.flash.write(off, Uint8Array.of(byte & 0x0f)); // clears bits: still a legal NOR write
    const out = await bootSlots(slots, okStart);
    expect(out.slot).toBe(0);
    expect(out.record).toMatchObject({ rollbackReason: RollbackReason.BAD_CRC, failedCrc: crcOf(B) });
  });

  it("when no slot works the board runs without an image", async () => {
    const slots = new Slots(NorFlash.memory());
    await bootSlots(slots, okStart, { install: A });
    slots.writeImage(1, B);
    slots.markPending(1, crcOf(B));
    const out = await bootSlots(slots, failing(new Map([[crcOf(A), RollbackReason.TRAP], [crcOf(B), RollbackReason.TRAP]])));
    expect(out.board).toBeUndefined();
    expect(out.slot).toBe(SLOT_NONE);
  });

  it("a torn boot-record write at every byte still boots a valid slot", async () => {
    // the whole trial: commit marks B PENDING, then a boot writes attempts and confirms
    const setup = async (): Promise<NorFlash> => {
      const flash = NorFlash.memory();
      const slots = new Slots(flash);
      await bootSlots(slots, okStart, { install: A });
      slots.writeImage(1, B);
      return flash;
    };
    const trial = async (flash: NorFlash): Promise<void> => {
      const slots = new Slots(flash);
      slots.markPending(1, crcOf(B));
      await bootSlots(slots, okStart);
    };
    const probe = await setup();
    const before = probe.changedBytes;
    await trial(probe);
    const total = probe.changedBytes - before;
    expect(total).toBe(3 * (64 + 32)); // three records: erase (64) + 32 bytes each

    const seen = new Map<string, number>();
    for (let cut = 0; cut <= total; cut++) {
      const flash = await setup();
      flash.cutPowerAfter(cut);
      await trial(flash).catch(() => {}); // the power goes
      const after = flash.snapshot();
      const slots = new Slots(after);
      const out = await bootSlots(slots, okStart);
      expect(out.board === 0 || out.board === 1, `cut at ${cut}`).toBe(true);
      const rec = slots.readRecord()!.record;
      expect(rec.state).toBe(SlotState.CONFIRMED);
      expect(rec.activeCrc).toBe(out.board === 0 ? crcOf(A) : crcOf(B));
      expect(slots.verifySlot(out.slot).header.wasmCrc).toBe(rec.activeCrc);
      const key = `${out.slot}/${out.bootReason}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // each outcome happens: old image (cut before the PENDING record), new image
    // confirmed, and a rollback when the cut fell into the confirming write
    expect([...seen.keys()].sort()).toEqual([`0/${BootReason.POWER_ON}`, `0/${BootReason.ROLLBACK}`, `1/${BootReason.NEW_IMAGE}`, `1/${BootReason.POWER_ON}`].sort());
  });
});

describe("a link server booting real images", () => {
  it("rolls back by itself from an image that traps at start-up, and says so in the banner", async () => {
    const flash = NorFlash.memory();
    const slots = new Slots(flash);
    const good = realImage();
    slots.install(good);
    const trap = fakeImage({ trapRun: true });
    slots.writeImage(1, trap);
    slots.markPending(1, crcOf(trap));
    const out: string[] = [];
    const diag: string[] = [];
    const server = new LinkServer({ flash, diag: (l) => diag.push(l) });
    server.attach((b) => out.push(Buffer.from(b).toString("latin1")));
    await server.start();
    try {
      expect(server.slot).toBe(0);
      expect(server.bootReason).toBe(BootReason.ROLLBACK);
      const hex = (n: number) => n.toString(16).padStart(8, "0");
      const text = out.join("");
      expect(text).toContain(`sxs sxs-sim abi ${ABI_VERSION} slot 0 image ${hex(crcOf(good))}\r\n`);
      expect(text).toContain(`sxs: new image ${hex(crcOf(trap))} failed (trap at start-up); rolled back to slot 0\r\n`);
      expect(text.endsWith("> ")).toBe(true);
      expect(diag.join("\n")).toMatch(/trapped at start-up/);
      const info = server.describe();
      expect(info).toMatchObject({ bootReason: BootReason.ROLLBACK, activeSlot: 0, rollbackReason: RollbackReason.TRAP, failedCrc: crcOf(trap), imageCrc: crcOf(good) });
    } finally {
      server.close();
    }
  });

  it("rolls back an image that never reaches idle (HELLO deadline)", async () => {
    const flash = NorFlash.memory();
    const slots = new Slots(flash);
    slots.install(realImage());
    const busy = fakeImage({ busyRun: true });
    slots.writeImage(1, busy);
    slots.markPending(1, crcOf(busy));
    const server = new LinkServer({ flash, helloDeadlineMs: 300 });
    server.attach(() => {});
    await server.start();
    try {
      expect(server.describe()).toMatchObject({ activeSlot: 0, bootReason: BootReason.ROLLBACK, rollbackReason: RollbackReason.DEADLINE, failedCrc: crcOf(busy) });
    } finally {
      server.close();
    }
  });
});
