// NOR flash for the virtual board, in memory or in a file, with the partition table the
// Linux firmware uses (firmware/ports/posix/board_posix.h): the same file works for both.
// NOR semantics are enforced: erase sets whole 4 KiB sectors to 0xFF and a write may
// only clear bits, so host code that would corrupt a real flash fails here too.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";

export const SECTOR = 4096;
/** What one sector erase costs in a power-loss trial's budget, in byte-writes. */
const ERASE_COST = 64;

/** One partition: where it starts in the flash and how many bytes it has. */
export interface Partition {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

const KIB = 1024;

/**
 * The partition table: two image slots, the K/V log and the boot record (docs/link.md,
 * image slots), as in the Linux firmware (firmware/ports/posix/board_posix.h).
 */
export const PARTITIONS = {
  slotA: { name: "slotA", offset: 0, size: 512 * KIB },
  slotB: { name: "slotB", offset: 512 * KIB, size: 512 * KIB },
  kv: { name: "kv", offset: 1024 * KIB, size: 256 * KIB },
  boot: { name: "boot", offset: 1280 * KIB, size: 8 * KIB },
} as const satisfies Record<string, Partition>;

export const FLASH_BYTES = 1288 * KIB;

export class FlashError extends Error {}

/** A NOR flash device: a byte array or a file of `size` bytes. */
export class NorFlash {
  /** Bytes that may still be programmed or erased before a simulated power cut (Infinity: none armed). */
  private budget = Infinity;
  /** Bytes programmed, plus ERASE_COST per sector erased, so far (the unit of cutPowerAfter). */
  changedBytes = 0;
  private lost = false;

  private constructor(
    private readonly bytes: Uint8Array | null,
    private readonly fd: number | null,
    readonly size: number,
  ) {}

  /** A blank flash in memory. */
  static memory(size = FLASH_BYTES): NorFlash {
    return new NorFlash(new Uint8Array(size).fill(0xff), null, size);
  }

  /** A flash kept in `path` (created erased if missing, extended with erased bytes if short). */
  static file(path: string, size = FLASH_BYTES): NorFlash {
    const fd = openSync(path, "a+");
    closeSync(fd);
    const rw = openSync(path, "r+");
    const have = fstatSync(rw).size;
    if (have < size) {
      const pad = new Uint8Array(size - have).fill(0xff);
      writeSync(rw, pad, 0, pad.length, have);
      fsyncSync(rw);
    }
    return new NorFlash(null, rw, size);
  }

  private check(off: number, len: number): void {
    if (this.lost) throw new FlashError("flash: power lost");
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > this.size) {
      throw new FlashError(`flash access out of range: ${off}+${len} of ${this.size}`);
    }
  }

  /**
   * Power-loss trials: after `bytes` more bytes are programmed (an erase costs ERASE_COST
   * per sector), the operation
   * in progress stops part-way (its first bytes applied, the rest not) and every later
   * access fails, as if the power went. `snapshot()` then gives the flash a rebooted
   * board would find.
   */
  cutPowerAfter(bytes: number): void {
    this.budget = bytes;
  }

  /** Transient faults: write call number `index` from now (0 = the next) fails after programming `keep` of its bytes; later writes work. */
  failWrite(index: number, keep: number): void {
    this.faultIn = index;
    this.faultKeep = keep;
  }
  private faultIn = -1;
  private faultKeep = 0;

  /** A memory copy of this flash's contents, with no cut armed. */
  snapshot(): NorFlash {
    const copy = NorFlash.memory(this.size);
    copy.bytes!.set(this.bytes ?? this.readAll());
    return copy;
  }

  private readAll(): Uint8Array {
    const out = new Uint8Array(this.size);
    readSync(this.fd!, out, 0, this.size, 0);
    return out;
  }

  /** How many of `len` bytes may be changed before the armed cut; marks the power lost when it falls. */
  private spend(len: number): number {
    this.changedBytes += len;
    if (this.budget >= len) {
      this.budget -= len;
      return len;
    }
    const n = Math.max(0, Math.floor(this.budget));
    this.budget = 0;
    this.lost = true;
    return n;
  }

  read(off: number, len: number): Uint8Array {
    this.check(off, len);
    if (this.bytes) return this.bytes.slice(off, off + len);
    const out = new Uint8Array(len);
    readSync(this.fd!, out, 0, len, off);
    return out;
  }

  /** Programs `data` at `off`; refuses (changing nothing) a write that would set a bit. */
  write(off: number, data: Uint8Array): void {
    this.check(off, data.length);
    // in memory the check reads the flash in place; a file is read once
    const current = this.bytes ? this.bytes.subarray(off, off + data.length) : this.read(off, data.length);
    for (let i = 0; i < data.length; i++) {
      if ((current[i]! & data[i]!) !== data[i]) {
        throw new FlashError(`flash write at ${off + i} would set bits (0x${current[i]!.toString(16)} -> 0x${data[i]!.toString(16)}): erase first`);
      }
    }
    let n = this.spend(data.length);
    const fault = this.faultIn === 0;
    if (this.faultIn >= 0) this.faultIn--;
    if (fault) n = Math.min(n, this.faultKeep);
    if (this.bytes) this.bytes.set(data.subarray(0, n), off);
    else {
      writeSync(this.fd!, data, 0, n, off);
      fsyncSync(this.fd!); // durable before the image is told it is written
    }
    if (fault) throw new FlashError("flash: write failed (injected fault)");
    if (n < data.length) throw new FlashError("flash: power lost during a write");
  }

  /** Erases whole sectors [off, off+len) to 0xFF. */
  erase(off: number, len: number): void {
    this.check(off, len);
    if (off % SECTOR !== 0 || len % SECTOR !== 0) throw new FlashError(`flash erase of ${off}+${len} is not sector aligned`);
    // a power cut counts an erase as ERASE_COST per sector; the sector being erased when
    // it falls is left half erased (an interrupted erase leaves a sector undefined)
    const sectors = len / SECTOR;
    const done = Math.floor(this.spend(sectors * ERASE_COST) / ERASE_COST);
    const n = done < sectors ? done * SECTOR + SECTOR / 2 : len;
    const ff = new Uint8Array(n).fill(0xff);
    if (this.bytes) this.bytes.set(ff, off);
    else {
      writeSync(this.fd!, ff, 0, n, off);
      fsyncSync(this.fd!);
    }
    if (n < len) throw new FlashError("flash: power lost during an erase");
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}

/** A window of a flash: offsets relative to the partition, bounds enforced. */
export class FlashPartition {
  constructor(
    readonly flash: NorFlash,
    readonly partition: Partition,
  ) {}

  get size(): number {
    return this.partition.size;
  }

  private check(off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > this.partition.size) {
      throw new FlashError(`${this.partition.name}: access ${off}+${len} outside its ${this.partition.size} bytes`);
    }
  }

  read(off: number, len: number): Uint8Array {
    this.check(off, len);
    return this.flash.read(this.partition.offset + off, len);
  }

  write(off: number, data: Uint8Array): void {
    this.check(off, data.length);
    this.flash.write(this.partition.offset + off, data);
  }

  erase(off: number, len: number): void {
    this.check(off, len);
    this.flash.erase(this.partition.offset + off, len);
  }
}
