// The experiment of issue 3: a real pseudo-terminal pair made by socat, both ends opened
// with serialport's real bindings (lock: false), frames passed both ways. Skipped when
// socat is not installed (apt-get install socat).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { SerialPort } from "serialport";
import { realTimers } from "../../host/link/emulator.js";
import { buildImage } from "../../host/link/image-header.js";
import { crc32 } from "../../host/link/crc32.js";
import { execMessage, type Message } from "../../host/link/messages.js";
import { ToyBoard, ToyHost } from "./harness.js";

const haveSocat = spawnSync("socat", ["-V"]).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `done` every `stepMs` until it holds or `limitMs` of wall time pass (generous: a loaded CI machine is slow, a broken link never gets there). */
async function until(done: () => boolean, limitMs: number, stepMs = 5, each?: () => void): Promise<void> {
  const end = performance.now() + limitMs;
  while (!done() && performance.now() < end) {
    each?.();
    await sleep(stepMs);
  }
}

async function ptyPair(): Promise<{ proc: ChildProcess; paths: string[] }> {
  const proc = spawn("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], { stdio: ["ignore", "ignore", "pipe"] });
  const paths: string[] = [];
  let err = "";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socat gave no ptys: ${err}`)), 5000);
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      for (const m of err.matchAll(/PTY is (\S+)/g)) if (!paths.includes(m[1]!)) paths.push(m[1]!);
      if (paths.length === 2) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { proc, paths };
}

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: 921600, lock: false, autoOpen: false });
    p.open((e) => (e ? reject(e) : resolve(p)));
  });
}

function close(p: SerialPort): Promise<void> {
  return new Promise((resolve) => (p.isOpen ? p.close(() => resolve()) : resolve()));
}

describe.skipIf(!haveSocat)("over a real pty pair (socat + serialport bindings)", () => {
  let proc: ChildProcess;
  let a: SerialPort;
  let b: SerialPort;

  beforeAll(async () => {
    const pair = await ptyPair();
    proc = pair.proc;
    a = await open(pair.paths[0]!);
    b = await open(pair.paths[1]!);
    console.log(`ptys: ${pair.paths.join(" <-> ")}`);
  });

  afterAll(async () => {
    await close(a);
    await close(b);
    proc?.kill();
  });

  it("passes all 256 byte values both ways", async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const got = { a: [] as number[], b: [] as number[] };
    const da = (d: Buffer) => got.a.push(...d);
    const db = (d: Buffer) => got.b.push(...d);
    a.on("data", da);
    b.on("data", db);
    a.write(Buffer.from(all));
    b.write(Buffer.from(all));
    await until(() => got.a.length >= 256 && got.b.length >= 256, 10_000);
    a.off("data", da);
    b.off("data", db);
    expect(got.b).toEqual([...all]);
    expect(got.a).toEqual([...all]);
  });

  it("runs a framed session: HELLO, 500 requests, a 16 KiB request, a 32 KiB image transfer", async () => {
    const host = new ToyHost(realTimers, { bytesPerMs: 92.16 });
    const board = new ToyBoard(realTimers, { window: { bytesPerMs: 92.16, txBuffer: 8192 } });
    host.attach((d) => a.write(Buffer.from(d)));
    board.attach((d) => b.write(Buffer.from(d)));
    const ha = (d: Buffer) => host.driver.input(new Uint8Array(d));
    const hb = (d: Buffer) => board.input(new Uint8Array(d));
    a.on("data", ha);
    b.on("data", hb);
    try {
      const t0 = performance.now();
      await until(() => host.sessions.length > 0, 10_000, 50, () => host.enter());
      expect(host.sessions.length).toBe(1);
      const tHello = performance.now() - t0;

      const n = 500;
      const t1 = performance.now();
      for (let r = 1; r <= n; r++) host.send(execMessage(r, 0, `cmd-${r}`));
      host.send(execMessage(n + 1, 0, new Uint8Array(16384).fill(0x78)));
      await until(() => host.results.size >= n + 1, 30_000);
      const tExec = performance.now() - t1;
      for (let r = 1; r <= n; r++) expect(host.results.get(r)).toEqual([`ok cmd-${r}`]);
      expect(host.results.get(n + 1)![0]!.length).toBe(16387);

      const image = buildImage(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...new Uint8Array(32760).map((_, i) => (i * 13) & 0xff)]), { abiVersion: 1 });
      let ok: Message | undefined;
      host.onMessage = (m) => {
        if (m.req === 900 && (m.type === "OK" || m.type === "ERROR") && !(m.type === "OK" && m.value === 1)) ok = m;
      };
      const t2 = performance.now();
      host.send({ type: "FLASH_BEGIN", req: 900, size: image.length, crc: crc32(image), slot: 0xff });
      for (let off = 0; off < image.length; off += 1020)
        host.send({ type: "FLASH_DATA", req: 900, offset: off, data: image.subarray(off, Math.min(off + 1020, image.length)) });
      host.send({ type: "FLASH_COMMIT", req: 900, flags: 0 });
      await until(() => ok !== undefined, 30_000);
      const tFlash = performance.now() - t2;
      expect(ok).toMatchObject({ type: "OK", value: crc32(image) });
      console.log(
        `pty: HELLO after ${tHello.toFixed(0)} ms; ${n} requests + 16 KiB request in ${tExec.toFixed(0)} ms; ` +
          `${image.length}-byte image in ${tFlash.toFixed(0)} ms (paced at 921600 baud: wire time ${(image.length / 92.16).toFixed(0)} ms); ` +
          `retransmissions host ${host.ep.tx.stats.retransmitted}, board ${board.ep.tx.stats.retransmitted}; ` +
          `dropped frames host ${host.ep.deframer.droppedFrames}, board ${board.ep.deframer.droppedFrames}`,
      );
    } finally {
      a.off("data", ha);
      b.off("data", hb);
      host.driver.close();
      board.driver.close();
    }
  }, 90_000);
});
