// The two image slots and the boot record of a board's flash (docs/link.md sections 12
// and 13), on a NorFlash with the partition table of host/board/flash.ts (the same as
// the C firmware's): slot A, slot B, the K/V log, and two 4 KiB boot-record sectors
// written alternately.
//
// This module owns the layout and the state machine: which slot boots, when a PENDING
// image is confirmed or rolled back, and what the record says afterwards. Starting an
// image (instantiating it, running its autorun to idle within the HELLO deadline) is
// the caller's: `boot` takes a `start` function, so the same rules serve the virtual
// board (host/board/link-server.ts) and the tests.

import { crc32 } from "../link/crc32.js";
import { ImageError as ImageFileError, IMAGE_HEADER_LEN, decodeImageHeader, verifyImage, type ImageHeader } from "../link/image-header.js";
import { BootReason, ErrorCode, RollbackReason, SLOT_NONE } from "../link/messages.js";
import { ABI_VERSION, ImageError, Limit, SxsImage, type ImageHost, type KvFlash } from "../image/image.js";
import { FlashPartition, NorFlash, PARTITIONS, SECTOR, type Partition } from "./flash.js";

// ---------------------------------------------------------------------------------------
// The boot record

export const BOOT_RECORD_LEN = 32;
export const BOOT_MAGIC = Uint8Array.of(0x53, 0x58, 0x53, 0x42); // "SXSB"
/** Boot-record `state`. */
export const SlotState = { CONFIRMED: 0, PENDING: 1 } as const;
/** Number of image slots. */
export const SLOT_COUNT = 2;
/** Bytes per image slot: the largest image file. */
export const SLOT_SIZE = PARTITIONS.slotA.size;
/** A new image must come up (autorun to idle) within this many ms (docs/link.md section 13). */
export const HELLO_DEADLINE_MS = 5000;

export interface BootRecord {
  /** Larger wins; each write uses the previous winner's counter + 1. */
  counter: number;
  /** The slot to boot (0, 1), or 0xFF: none. */
  active: number;
  /** SlotState: 0 CONFIRMED, 1 PENDING. */
  state: number;
  /** Boots tried while PENDING. */
  attempts: number;
  /** The slot to roll back to (0xFF: none). */
  previous: number;
  /** The image id (Wasm CRC-32) in the active slot. */
  activeCrc: number;
  /** The id of the last abandoned image (0: none). */
  failedCrc: number;
  /** RollbackReason of the last abandoned image (0: none). */
  rollbackReason: number;
}

export function encodeBootRecord(r: BootRecord): Uint8Array {
  const b = new Uint8Array(BOOT_RECORD_LEN);
  const dv = new DataView(b.buffer);
  b.set(BOOT_MAGIC, 0);
  dv.setUint32(4, r.counter >>> 0, true);
  dv.setUint8(8, r.active);
  dv.setUint8(9, r.state);
  dv.setUint8(10, Math.min(255, r.attempts));
  dv.setUint8(11, r.previous);
  dv.setUint32(12, r.activeCrc >>> 0, true);
  dv.setUint32(16, r.failedCrc >>> 0, true);
  dv.setUint8(20, r.rollbackReason);
  // 21..27 reserved (0)
  dv.setUint32(28, crc32(b, 0, 28), true);
  return b;
}

/** The record in `b` (32 bytes), or null when the magic or the CRC is wrong. */
export function decodeBootRecord(b: Uint8Array): BootRecord | null {
  if (b.length < BOOT_RECORD_LEN) return null;
  for (let i = 0; i < 4; i++) if (b[i] !== BOOT_MAGIC[i]) return null;
  const dv = new DataView(b.buffer, b.byteOffset, BOOT_RECORD_LEN);
  if (crc32(b, 0, 28) !== dv.getUint32(28, true)) return null;
  return {
    counter: dv.getUint32(4, true),
    active: dv.getUint8(8),
    state: dv.getUint8(9),
    attempts: dv.getUint8(10),
    previous: dv.getUint8(11),
    activeCrc: dv.getUint32(12, true),
    failedCrc: dv.getUint32(16, true),
    rollbackReason: dv.getUint8(20),
  };
}

// ---------------------------------------------------------------------------------------
// Checking images

/** Why an image is refused: `code` is the link ERROR code (IMAGE_*, FLASH_TOO_LARGE). */
export class ImageRejected extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** The rollback reason the same failure gives at boot. */
    readonly rollbackReason: number,
  ) {
    super(message);
    this.name = "ImageRejected";
  }
}

/** Text for people, by rollback reason. */
export function rollbackReasonText(r: number): string {
  switch (r) {
    case RollbackReason.TRAP:
      return "trap at start-up";
    case RollbackReason.DEADLINE:
      return "not up within the HELLO deadline";
    case RollbackReason.BAD_CRC:
      return "slot CRC wrong at boot";
    case RollbackReason.LOAD:
      return "the engine refused the module";
    case RollbackReason.INIT:
      return "sxs_init failed or wrong ABI";
    default:
      return `reason ${r}`;
  }
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/**
 * The checks of docs/link.md section 12 on an image file (header, ABI, length, CRC,
 * Wasm preamble) and that it fits a slot. Throws ImageRejected.
 */
export function checkImageFile(file: Uint8Array, abiVersion = ABI_VERSION): { header: ImageHeader; wasm: Uint8Array } {
  if (file.length > SLOT_SIZE) throw new ImageRejected(ErrorCode.FLASH_TOO_LARGE, `image of ${file.length} bytes does not fit a ${SLOT_SIZE}-byte slot`, RollbackReason.BAD_CRC);
  try {
    return verifyImage(file, abiVersion);
  } catch (e) {
    if (e instanceof ImageFileError) {
      throw new ImageRejected(e.code, e.message, e.code === ErrorCode.IMAGE_BAD_ABI ? RollbackReason.INIT : RollbackReason.BAD_CRC);
    }
    throw e;
  }
}

/** A K/V partition in memory holding a copy of `src` (a scratch instance must not write the real one). */
export function kvScratchCopy(flash: NorFlash): KvFlash {
  const p = PARTITIONS.kv;
  const mem = NorFlash.memory(p.size);
  mem.write(0, flash.read(p.offset, p.size));
  return new FlashPartition(mem, { name: "kv-scratch", offset: 0, size: p.size });
}

/** Compiles the Wasm of an image; ImageRejected (IMAGE_REJECTED, rollback reason LOAD) when the engine refuses it. */
export async function compileWasm(wasm: Uint8Array): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new ImageRejected(ErrorCode.IMAGE_REJECTED, `the engine refused the module: ${(e as Error).message}`, RollbackReason.LOAD);
  }
}

/** The rollback reason of a failure to instantiate an image (an ImageError from SxsImage.load). */
export function loadFailureReason(e: unknown): number {
  if (e instanceof ImageError) {
    if (e.code === "trap") return RollbackReason.TRAP;
    if (e.code === "abi" && /speaks ABI version/.test(e.message)) return RollbackReason.INIT;
    return RollbackReason.LOAD;
  }
  return RollbackReason.LOAD;
}

/**
 * Loads `module` in a scratch instance (imports linked, exports and sxs_abi_version
 * checked) and runs sxs_init in safe mode on a copy of the K/V partition: what
 * FLASH_COMMIT does before a new image may become active. Throws ImageRejected with code
 * IMAGE_REJECTED.
 */
export async function checkModule(module: WebAssembly.Module, kv: KvFlash | undefined): Promise<void> {
  const host: ImageHost = {
    result: () => {},
    log: () => {},
    event: () => {},
    now: () => 0,
    ...(kv ? { kvFlash: kv } : {}),
  };
  let image: SxsImage;
  try {
    image = await SxsImage.load(host, { module });
  } catch (e) {
    throw new ImageRejected(ErrorCode.IMAGE_REJECTED, `the image does not load: ${(e as Error).message}`, loadFailureReason(e));
  }
  let init: number;
  try {
    image.limit(Limit.SAFE_MODE, 1);
    init = image.init();
  } catch (e) {
    throw new ImageRejected(ErrorCode.IMAGE_REJECTED, `sxs_init trapped: ${(e as Error).message}`, RollbackReason.TRAP);
  }
  // the same words as the firmware's (core/sxs_fw_image.c): docs/abi.md's two failures
  if (init !== 0)
    throw new ImageRejected(
      ErrorCode.IMAGE_REJECTED,
      `sxs_init failed: ${init} (${init === -2 ? "the K/V log could not be loaded" : "out of memory"})`,
      RollbackReason.INIT,
    );
}

// ---------------------------------------------------------------------------------------
// The slots on a flash

export class Slots {
  readonly slotSize = SLOT_SIZE;
  private readonly boot: FlashPartition;

  constructor(readonly flash: NorFlash) {
    this.boot = new FlashPartition(flash, PARTITIONS.boot);
  }

  partition(slot: number): Partition {
    if (slot === 0) return PARTITIONS.slotA;
    if (slot === 1) return PARTITIONS.slotB;
    throw new RangeError(`no slot ${slot}`);
  }

  // ---- boot record ----

  /** Both copies as found (null where invalid). */
  readCopies(): [BootRecord | null, BootRecord | null] {
    return [decodeBootRecord(this.boot.read(0, BOOT_RECORD_LEN)), decodeBootRecord(this.boot.read(SECTOR, BOOT_RECORD_LEN))];
  }

  /** The valid copy with the larger counter, and the sector it is in; null on a blank or ruined area. */
  readRecord(): { record: BootRecord; sector: number } | null {
    const [a, b] = this.readCopies();
    if (a && (!b || a.counter >= b.counter)) return { record: a, sector: 0 };
    if (b) return { record: b, sector: 1 };
    return null;
  }

  /**
   * Writes a new record into the sector that does not hold the current winner (erase,
   * then program), with the winner's counter + 1. A write torn at any byte leaves the
   * old winner valid. Returns the record written.
   */
  writeRecord(r: Omit<BootRecord, "counter">): BootRecord {
    const cur = this.readRecord();
    const sector = cur ? 1 - cur.sector : 0;
    const rec: BootRecord = { ...r, counter: cur ? (cur.record.counter + 1) >>> 0 : 1 };
    this.boot.erase(sector * SECTOR, SECTOR);
    this.boot.write(sector * SECTOR, encodeBootRecord(rec));
    return rec;
  }

  // ---- images ----

  /**
   * The image file in `slot` as far as its header describes it (header + wasm_len bytes,
   * capped at the slot size); the first 32 bytes when the header is unreadable.
   */
  readImage(slot: number): Uint8Array {
    const p = this.partition(slot);
    const head = this.flash.read(p.offset, IMAGE_HEADER_LEN);
    let len = IMAGE_HEADER_LEN;
    try {
      const h = decodeImageHeader(head);
      len = Math.min(p.size, IMAGE_HEADER_LEN + h.wasmLen);
    } catch {
      return head;
    }
    return this.flash.read(p.offset, len);
  }

  /** The header and Wasm of the valid image in `slot`; ImageRejected when it does not pass the checks. */
  verifySlot(slot: number): { header: ImageHeader; wasm: Uint8Array } {
    return checkImageFile(this.readImage(slot));
  }

  /** The image id in `slot` if the slot holds a valid image, else undefined. */
  slotCrc(slot: number): number | undefined {
    try {
      return this.verifySlot(slot).header.wasmCrc;
    } catch {
      return undefined;
    }
  }

  /** Erases `slot` (as far as `bytes` reach; the whole slot by default). */
  eraseSlot(slot: number, bytes = SLOT_SIZE): void {
    const p = this.partition(slot);
    const n = Math.min(p.size, Math.ceil(bytes / SECTOR) * SECTOR);
    if (n > 0) this.flash.erase(p.offset, n);
  }

  /** Writes a whole image file into `slot` (erasing what it covers first). */
  writeImage(slot: number, file: Uint8Array): void {
    if (file.length > SLOT_SIZE) throw new ImageRejected(ErrorCode.FLASH_TOO_LARGE, `image of ${file.length} bytes does not fit a ${SLOT_SIZE}-byte slot`, RollbackReason.BAD_CRC);
    this.eraseSlot(slot, file.length);
    this.flash.write(this.partition(slot).offset, file);
  }

  /** The first boot of a blank flash: `file` into slot 0, record {active 0, CONFIRMED}. */
  install(file: Uint8Array, slot = 0): BootRecord {
    const { header } = checkImageFile(file);
    this.writeImage(slot, file);
    return this.writeRecord({ active: slot, state: SlotState.CONFIRMED, attempts: 0, previous: SLOT_NONE, activeCrc: header.wasmCrc, failedCrc: 0, rollbackReason: 0 });
  }

  /** After a successful FLASH_COMMIT: boot `slot` next, on trial (PENDING), with a way back. */
  markPending(slot: number, crc: number): BootRecord {
    const cur = this.readRecord()?.record;
    const previous = cur && cur.active !== slot ? cur.active : SLOT_NONE;
    return this.writeRecord({ active: slot, state: SlotState.PENDING, attempts: 0, previous, activeCrc: crc, failedCrc: 0, rollbackReason: 0 });
  }
}

// ---------------------------------------------------------------------------------------
// Booting

/** What a start attempt gives: the running board, or why it failed. */
export type StartResult<T> = { ok: true; board: T } | { ok: false; reason: number; message: string };

/**
 * Starts the verified image of `slot`: instantiate, sxs_init, autorun to idle. `trial`:
 * the image is PENDING, so it must come up within the HELLO deadline (else the result is
 * a failure with reason DEADLINE); a confirmed image is not held to it.
 */
export type StartFn<T> = (
  slot: number,
  image: { header: ImageHeader; wasm: Uint8Array; module: WebAssembly.Module },
  trial: boolean,
) => Promise<StartResult<T>>;

export interface Rollback {
  /** RollbackReason. */
  reason: number;
  /** The abandoned image's id. */
  failedCrc: number;
  /** The slot the board went back to (0xFF: none worked). */
  slot: number;
  /** For people: what failed. */
  message: string;
}

export interface BootOutcome<T> {
  /** The running board; undefined when no slot holds an image that starts. */
  board: T | undefined;
  /** The slot running (0xFF: none). */
  slot: number;
  header: ImageHeader | undefined;
  /** BootReason for HELLO: the caller's reason, or NEW_IMAGE / ROLLBACK when this boot confirmed or abandoned an image. */
  bootReason: number;
  /** The record after the boot (null: blank flash, no image installed). */
  record: BootRecord | null;
  /** Set when this boot rolled back. */
  rollback: Rollback | undefined;
  /** Everything that happened, for people (log lines). */
  notes: string[];
}

export interface BootOptions {
  /** Why the board boots (BootReason): POWER_ON, RESET, CRASH. */
  reason?: number;
  /** An image file to install into slot 0 when the flash has no boot record (first boot). */
  install?: Uint8Array;
}

/**
 * Runs the boot state machine of docs/link.md section 13 on `slots`:
 * - no valid record: install `opts.install` into slot 0 (if given), else run without image;
 * - PENDING: attempts += 1 (written first); attempts > 1 → ROLLBACK(2); verify CRC (3),
 *   compile (4), start (`start`: init 5, trap 1, deadline → reboot) → CONFIRM or ROLLBACK;
 * - CONFIRMED: verify and start; if that fails, fall back to the other slot when it holds
 *   a working image (recorded like a rollback), else run without image.
 */
export async function bootSlots<T>(slots: Slots, start: StartFn<T>, opts: BootOptions = {}): Promise<BootOutcome<T>> {
  const notes: string[] = [];
  let bootReason = opts.reason ?? BootReason.POWER_ON;
  let rollback: Rollback | undefined;

  /** Verify, compile and start `slot`; the reason on failure. */
  const tryStart = async (slot: number, expectCrc: number | undefined, trial: boolean): Promise<StartResult<T> & { header?: ImageHeader }> => {
    let header: ImageHeader;
    let wasm: Uint8Array;
    try {
      ({ header, wasm } = slots.verifySlot(slot));
    } catch (e) {
      if (e instanceof ImageRejected) return { ok: false, reason: e.rollbackReason, message: `slot ${slot}: ${e.message}` };
      return { ok: false, reason: RollbackReason.BAD_CRC, message: `slot ${slot}: ${(e as Error).message}` };
    }
    if (expectCrc !== undefined && header.wasmCrc !== expectCrc >>> 0)
      return { ok: false, reason: RollbackReason.BAD_CRC, message: `slot ${slot} holds image ${hex8(header.wasmCrc)}, the boot record says ${hex8(expectCrc)}` };
    let module: WebAssembly.Module;
    try {
      module = await compileWasm(wasm);
    } catch (e) {
      return { ok: false, reason: RollbackReason.LOAD, message: (e as Error).message };
    }
    const r = await start(slot, { header, wasm, module }, trial);
    return r.ok ? { ...r, header } : r;
  };

  /** Abandon the active image of `rec` for `reason`: the record goes back to `previous`, CONFIRMED. */
  const abandon = (rec: BootRecord, reason: number, message: string): void => {
    const back = rec.previous !== SLOT_NONE && rec.previous !== rec.active ? rec.previous : SLOT_NONE;
    const backCrc = back !== SLOT_NONE ? slots.slotCrc(back) : undefined;
    const slot = backCrc !== undefined ? back : SLOT_NONE;
    slots.writeRecord({ active: slot, state: SlotState.CONFIRMED, attempts: 0, previous: SLOT_NONE, activeCrc: backCrc ?? 0, failedCrc: rec.activeCrc, rollbackReason: reason });
    rollback = { reason, failedCrc: rec.activeCrc, slot, message };
    bootReason = BootReason.ROLLBACK;
    notes.push(`new image ${hex8(rec.activeCrc)} failed (${rollbackReasonText(reason)}): ${message}; ` + (slot === SLOT_NONE ? "no slot to roll back to" : `rolling back to slot ${slot}`));
  };

  const done = (board: T | undefined, slot: number, header: ImageHeader | undefined): BootOutcome<T> => ({
    board,
    slot,
    header,
    bootReason,
    record: slots.readRecord()?.record ?? null,
    rollback,
    notes,
  });

  // Each pass is one boot; a pass that changes the record (install, rollback, a deadline
  // "reboot") goes round again. Every path writes a record that makes progress, so a few
  // passes always end it.
  const tried = new Set<number>();
  for (let pass = 0; pass < 8; pass++) {
    const cur = slots.readRecord();
    if (!cur) {
      if (opts.install && pass === 0) {
        const rec = slots.install(opts.install, 0);
        notes.push(`blank flash: installed image ${hex8(rec.activeCrc)} into slot 0`);
        continue;
      }
      notes.push("no boot record: running without an image");
      return done(undefined, SLOT_NONE, undefined);
    }
    let rec = cur.record;
    if (rec.active !== 0 && rec.active !== 1) {
      if (rec.active !== SLOT_NONE) notes.push(`boot record names slot ${rec.active}: running without an image`);
      return done(undefined, SLOT_NONE, undefined);
    }

    if (rec.state === SlotState.PENDING) {
      rec = slots.writeRecord({ ...rec, attempts: rec.attempts + 1 });
      if (rec.attempts > 1) {
        abandon(rec, RollbackReason.DEADLINE, `attempt ${rec.attempts} at booting it: the last try never confirmed`);
        continue;
      }
      tried.add(rec.active);
      const r = await tryStart(rec.active, rec.activeCrc, true);
      if (r.ok) {
        slots.writeRecord({ ...rec, state: SlotState.CONFIRMED, attempts: 0 });
        if (!rollback) bootReason = BootReason.NEW_IMAGE;
        notes.push(`new image ${hex8(rec.activeCrc)} in slot ${rec.active} confirmed`);
        return done(r.board, rec.active, r.header);
      }
      if (r.reason === RollbackReason.DEADLINE) {
        // the watchdog fires: reboot; the next pass finds attempts = 1 and rolls back
        notes.push(`${r.message}: rebooting`);
        continue;
      }
      abandon(rec, r.reason, r.message);
      continue;
    }

    // CONFIRMED
    tried.add(rec.active);
    const r = await tryStart(rec.active, rec.activeCrc, false);
    if (r.ok) return done(r.board, rec.active, r.header);
    notes.push(`slot ${rec.active}: ${r.message}`);
    const other = 1 - rec.active;
    const otherCrc = slots.slotCrc(other);
    if (otherCrc !== undefined && !tried.has(other)) {
      abandon({ ...rec, previous: other }, r.reason, r.message);
      continue;
    }
    // nothing else to run: keep the record (the image may work after a power cycle) and run without one
    notes.push("no other slot holds a working image: running without an image");
    return done(undefined, SLOT_NONE, undefined);
  }
  notes.push("boot did not settle: running without an image");
  return done(undefined, SLOT_NONE, undefined);
}
