// The K/V log (assembly/kv/log.ts): the store survives reboots, boot autorun and safe
// mode, compaction, the on-flash format, and power-loss trials (tools/power-loss.mjs).
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const dist = join(root, "dist/host");

type Board = {
  exec(text: string): Promise<string>;
  on(e: "log", f: (t: string) => void): Board;
  drain(): Promise<void>;
  close(): void;
};
type Flash = {
  read(off: number, len: number): Uint8Array;
  snapshot(): Flash;
};
let VirtualBoard: { create(o: object): Promise<Board> };
let NorFlash: { memory(size?: number): Flash };
let PARTITIONS: { kv: { offset: number; size: number } };
let powerLoss: { trial(seed: number): Promise<{ ok: boolean; detail?: string }>; faultTrial(seed: number): Promise<{ ok: boolean; detail?: string }> };

beforeAll(async () => {
  // dist/ is built by npm run build, and kept fresh by test/global-setup.ts
  ({ VirtualBoard } = await import(join(dist, "board/virtual-board.js")));
  ({ NorFlash, PARTITIONS } = await import(join(dist, "board/flash.js")));
  powerLoss = await import(join(root, "tools/power-loss.mjs"));
}, 120_000);

async function boot(flash: Flash, extra: object = {}): Promise<{ board: Board; logs: string[] }> {
  const logs: string[] = [];
  const board = await VirtualBoard.create({ flash, clock: "virtual", ...extra });
  board.on("log", (t) => logs.push(t));
  await board.drain();
  return { board, logs };
}

describe("the K/V log", () => {
  it("keeps the store across a reboot, types intact, deletions included", async () => {
    const flash = NorFlash.memory();
    const a = await boot(flash);
    for (const f of ['(core/kv/set n 42)', '(core/kv/set s "text\\x00\\x7f")', "(core/kv/set l [1 2.5 sym {(core/util/log $key)}])", "(core/kv/set gone 1)", "(core/kv/del gone)", "(core/kv/snx once 1)", '(core/kv/cas n 42 43)']) {
      expect(await a.board.exec(f)).toBe("true");
    }
    a.board.close();
    const b = await boot(flash.snapshot());
    expect(await b.board.exec("(core/kv/get n)")).toBe("43");
    expect(await b.board.exec("(core/kv/get s)")).toBe('"text\\x00\\x7f"');
    expect(await b.board.exec("(core/kv/get l)")).toBe("[1 2.5 sym {(core/util/log $key)}]");
    expect(await b.board.exec("(core/kv/exists gone)")).toBe("false");
    expect(await b.board.exec("(core/kv/snx once 2)")).toBe("false");
    b.board.close();
  });

  it("runs the boot key at start-up, and not in safe mode", async () => {
    const flash = NorFlash.memory();
    const a = await boot(flash);
    expect(await a.board.exec('(core/kv/set boot {(core/util/log "booted") (core/kv/set ran true)})')).toBe("true");
    a.board.close();
    const b = await boot(flash.snapshot());
    expect(b.logs).toEqual(["booted"]);
    expect(await b.board.exec("(core/kv/get ran)")).toBe("true");
    b.board.close();
    const c = await boot(flash.snapshot(), { safeMode: true });
    expect(c.logs).toEqual([]);
    c.board.close();
    // a boot string runs too; a boot value that is not code is left alone
    const dFlash = flash.snapshot();
    const d = await boot(dFlash, { safeMode: true });
    expect(await d.board.exec('(core/kv/set boot "(core/util/log \\"from a string\\")")')).toBe("true");
    d.board.close();
    const eFlash = dFlash.snapshot();
    const e = await boot(eFlash);
    expect(e.logs).toEqual(["from a string"]);
    expect(await e.board.exec("(core/kv/set boot 42)")).toBe("true");
    e.board.close();
    const f = await boot(eFlash.snapshot());
    expect(f.logs).toEqual([]);
    f.board.close();
  });

  it("compacts when an area fills: thousands of overwrites of one key fit", async () => {
    const flash = NorFlash.memory();
    const a = await boot(flash);
    const big = "x".repeat(900);
    for (let i = 0; i < 2000; i++) expect(await a.board.exec(`(core/kv/set k "${i}-${big}")`)).toBe("true");
    a.board.close();
    const b = await boot(flash.snapshot());
    expect(await b.board.exec("(core/kv/get k)")).toBe(`"1999-${big}"`);
    b.board.close();
  });

  it("answers store full when the live data no longer fits a log area, and keeps serving", async () => {
    const flash = NorFlash.memory();
    const a = await boot(flash, { maxPages: 1024 });
    const big = "y".repeat(1000);
    let i = 0;
    let answer = "";
    for (; i < 400; i++) {
      answer = await a.board.exec(`(core/kv/set k${i} "${big}")`);
      if (answer !== "true") break;
    }
    expect(answer).toBe('@"core/kv/set: store full"');
    // an area is half the partition: the live data is what limits it
    expect(i).toBeGreaterThan(100);
    expect(i).toBeLessThan(PARTITIONS.kv.size / 2 / 1000 + 1);
    expect(await a.board.exec("(core/kv/get k0)")).toBe(`"${big}"`);
    expect(await a.board.exec("(core/kv/del k0)")).toBe("true");
    expect(await a.board.exec(`(core/kv/set again "${big}")`)).toBe("true");
    a.board.close();
    const b = await boot(flash.snapshot(), { maxPages: 1024 });
    expect(await b.board.exec("(core/kv/exists k0)")).toBe("false");
    expect(await b.board.exec("(core/kv/exists again)")).toBe("true");
    b.board.close();
  });

  it("writes the documented format: area header, then CRC-checked records", async () => {
    const flash = NorFlash.memory();
    const a = await boot(flash);
    expect(await a.board.exec("(core/kv/set ab 7)")).toBe("true");
    a.board.close();
    const kv = PARTITIONS.kv.offset;
    const area = PARTITIONS.kv.size / 2;
    // a blank partition starts in area 0 with generation 1
    const hdr = flash.read(kv, 16);
    const dv = new DataView(hdr.buffer, hdr.byteOffset);
    expect(Buffer.from(hdr.subarray(0, 4)).toString("latin1")).toBe("SXKV");
    expect(dv.getUint32(4, true)).toBe(1);
    expect(dv.getUint32(8, true)).toBe(0xffffffff);
    expect(dv.getUint32(12, true)).toBe(crc32(hdr.subarray(0, 12)));
    // one SET record: length, op 1, key length 2, 0, "ab", the value's buffer, CRC
    const rec = flash.read(kv + 16, 64);
    const rv = new DataView(rec.buffer, rec.byteOffset);
    const n = rv.getUint32(0, true);
    const value = [1, 0, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 1, 7, 0, 0, 0]; // INT32 7 in a 21-byte buffer
    expect(n).toBe(8 + 2 + value.length + 4);
    expect([...rec.subarray(4, 10)]).toEqual([1, 2, 0, 0, 0x61, 0x62]);
    expect([...rec.subarray(10, 10 + value.length)]).toEqual(value);
    expect(rv.getUint32(n - 4, true)).toBe(crc32(rec.subarray(0, n - 4)));
    // padding and the rest stay erased
    expect([...rec.subarray(n, 64)].every((b) => b === 0xff)).toBe(true);
    expect([...flash.read(kv + area, 16)].every((b) => b === 0xff)).toBe(true);
  });
});

describe("power-loss trials (tools/power-loss.mjs; npm run power-loss runs them for ten minutes)", () => {
  it("keeps exactly the acknowledged writes across 150 random power cuts and transient faults", async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 150; seed++) {
      const r = seed % 4 === 0 ? await powerLoss.faultTrial(seed) : await powerLoss.trial(seed);
      if (!r.ok) failures.push(`seed ${seed}: ${r.detail}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

/** CRC-32 (IEEE), written here independently of the image. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
