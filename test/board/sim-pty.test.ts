// `sxs sim` end to end over a real pseudo-terminal: spawn the CLI, read the path from the
// first line of stdout, open it with serialport's real bindings (lock: false), type forms
// in text mode, interrupt a runaway request with Ctrl-C, escape into framed mode (a
// host/link endpoint as the client), flash an image, LEAVE back to text mode, stop.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SerialPort } from "serialport";
import { firmwarePath } from "../../host/cli/engine.js";
import { crc32 } from "../../host/link/crc32.js";
import { buildImage } from "../../host/link/image-header.js";
import { BootReason } from "../../host/link/messages.js";
import { ABI_VERSION } from "../../host/image/image.js";
import { BIN, ROOT, childPids, ensureDist, fakeWasm, requireImage, runCli } from "../host/helpers.js";
import { LinkClient, sleep, td, te, until, wasmBytes } from "./helpers.js";
import { playTextSession } from "./text-session.js";
import type { Message, RawMessage } from "../../host/link/messages.js";
import { decodeBoardInfoEx } from "../../host/client/board-client.js";

interface SimProc {
  child: ChildProcessWithoutNullStreams;
  path: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

async function startSim(args: string[] = []): Promise<SimProc> {
  const child = spawn(process.execPath, [BIN, "sim", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exit = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const t0 = Date.now();
  while (!out.includes("\n")) {
    if (Date.now() - t0 > 15000) {
      child.kill("SIGKILL");
      throw new Error(`sxs sim printed no path: ${err}`);
    }
    await sleep(10);
  }
  return { child, path: out.slice(0, out.indexOf("\n")), stdout: () => out, stderr: () => err, exit };
}

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: 115200, lock: false, hupcl: false, autoOpen: false });
    p.open((e) => (e ? reject(e) : resolve(p)));
  });
}

function closePort(p: SerialPort): Promise<void> {
  return new Promise((resolve) => (p.isOpen ? p.close(() => resolve()) : resolve()));
}

beforeAll(async () => {
  requireImage();
  await ensureDist();
}, 120_000);

describe("sxs sim over a pty", () => {
  let sim: SimProc;
  let port: SerialPort;
  let seen = "";
  const onData = (d: Buffer): void => {
    seen += d.toString("latin1");
  };

  beforeAll(async () => {
    sim = await startSim(["--max-steps", "2147483647"]);
    port = await openPort(sim.path);
    port.on("data", onData);
  }, 30_000);

  afterAll(async () => {
    await closePort(port);
    if (sim.child.exitCode === null) sim.child.kill("SIGKILL");
  });

  /** Types `s` and resolves with everything the board wrote until `want` appears. */
  async function type(s: string | Uint8Array, want: string | RegExp, timeoutMs = 5000): Promise<string> {
    const mark = seen.length;
    port.write(Buffer.from(typeof s === "string" ? te.encode(s) : s));
    const hit = (): boolean => (typeof want === "string" ? seen.slice(mark).includes(want) : want.test(seen.slice(mark)));
    await until(hit, timeoutMs, `${JSON.stringify(String(want))} after typing ${JSON.stringify(String(s))}; got ${JSON.stringify(seen.slice(mark))}`);
    return seen.slice(mark);
  }

  it("prints the pty path as the first line of stdout", () => {
    expect(sim.path).toMatch(/^\/dev\/pts\/\d+$/);
    expect(sim.stderr()).toMatch(/serving \/dev\/pts\/\d+: sxs sxs-sim \S+ abi 2 slot 0 image [0-9a-f]{8}/);
  });

  it("serves text mode: type a form, get the result line (no echo from the tty itself)", async () => {
    expect(await type("\r", "> ")).toBe("\r\n> ");
    expect(await type("(core/kv/set a 5) (core/kv/get a)\r", "=> 5\r\n> ")).toBe("(core/kv/set a 5) (core/kv/get a)\r\n=> 5\r\n> ");
    expect(await type('(core/util/log "x" 1)\r', "> ")).toBe('(core/util/log "x" 1)\r\nlog: x 1\r\n=> true\r\n> ');
  });

  it("Ctrl-C interrupts a runaway request and the board answers the next one", async () => {
    await type(Array.from({ length: 10 }, (_, i) => `(core/kv/set s:${i} ${i})`).join(" ") + "\r", "=> true\r\n> ");
    let loop = "1";
    for (let i = 0; i < 9; i++) loop = `(core/kv/iterate "s:" 0 10 {${loop}})`;
    const mark = seen.length;
    port.write(loop + "\r");
    await sleep(400);
    expect(seen.slice(mark)).not.toContain("=>"); // still running
    expect(await type("\x03", '=> @"interrupted"\r\n> ')).toBe('^C\r\n=> @"interrupted"\r\n> ');
    expect(await type("42\r", "=> 42\r\n> ")).toBe("42\r\n=> 42\r\n> ");
  });

  it("escapes into framed mode, flashes an image, and LEAVEs back to text mode", async () => {
    const client = new LinkClient((b) => port.write(Buffer.from(b)));
    const feed = (d: Buffer): void => client.input(new Uint8Array(d));
    port.on("data", feed);
    try {
      const hello = await client.connect();
      expect(hello).toMatchObject({ proto: 1, activeSlot: 0, abiVersion: ABI_VERSION, imageCrc: crc32(wasmBytes()) });
      const r = await client.exec("(core/kv/get a)");
      expect(r.type === "RESULT" && td.decode(r.value)).toBe("5");

      // a new image (the same runtime with a custom section) into slot 1
      const name = te.encode("sxs-pty");
      const w = wasmBytes();
      const wasm = new Uint8Array(w.length + 2 + 1 + name.length);
      wasm.set(w);
      wasm.set([0, 1 + name.length, name.length, ...name], w.length);
      const img = buildImage(wasm, { abiVersion: ABI_VERSION });
      const id = crc32(wasm);
      const req = client.req();
      const begin = client.waitFor((m) => m.req === req, 5000, "FLASH_BEGIN's answer");
      client.send({ type: "FLASH_BEGIN", req, size: img.length, crc: crc32(img), slot: 0xff });
      expect(await begin).toMatchObject({ type: "OK", value: 1 });
      const commit = client.waitFor((m) => m.req === req, 15000, "FLASH_COMMIT's answer");
      const newHello = client.waitFor((m) => m.type === "HELLO" && m.info.session !== hello.session, 15000, "HELLO after the flash");
      for (let off = 0; off < img.length; off += 1020) client.send({ type: "FLASH_DATA", req, offset: off, data: img.subarray(off, Math.min(off + 1020, img.length)) });
      client.send({ type: "FLASH_COMMIT", req, flags: 0 });
      expect(await commit).toMatchObject({ type: "OK", value: id });
      const h2 = await newHello;
      expect(h2.type === "HELLO" && h2.info).toMatchObject({ bootReason: BootReason.NEW_IMAGE, activeSlot: 1, imageCrc: id });
      await until(() => client.ep.session === (h2.type === "HELLO" ? h2.info.session : -1), 2000, "the new session");
      const r2 = await client.exec("(core/kv/get a)");
      expect(r2.type === "RESULT" && td.decode(r2.value)).toBe("5");

      const ok = await client.call({ type: "LEAVE", req: client.req() });
      expect(ok.type).toBe("OK");
    } finally {
      port.off("data", feed);
      client.close();
    }
    await sleep(50);
    expect(await type("7\r", "=> 7\r\n> ")).toMatch(/7\r\n=> 7\r\n> $/);
  }, 30_000);

  it("stops at the end of stdin", async () => {
    sim.child.stdin.end();
    expect(await sim.exit).toBe(0);
    expect(sim.stderr()).toMatch(/stopped/);
  });
});

describe("sxs sim, other ways", () => {
  it("--help", async () => {
    const r = await runCli(["sim", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: sxs sim \[options\]/);
    expect(r.stdout).toContain("--flash FILE");
  });

  it("--json: the path first, then JSON lines; SIGTERM stops it; --flash keeps the board", async () => {
    const { tempDir } = await import("../host/helpers.js");
    const { join } = await import("node:path");
    const flash = join(tempDir("sxs-sim"), "flash.bin");
    const sim = await startSim(["--json", "--flash", flash]);
    expect(sim.path).toMatch(/^\/dev\/pts\/\d+$/);
    await until(() => sim.stdout().includes('"serving"'), 5000, "the serving line");
    const lines = sim.stdout().trim().split("\n").slice(1).map((l) => JSON.parse(l) as { kind: string; slot?: number });
    expect(lines.map((l) => l.kind)).toEqual(["boot", "mode", "serving"]);
    expect(lines[2]).toMatchObject({ port: sim.path, flash, slot: 0, abi: ABI_VERSION });
    sim.child.kill("SIGTERM");
    expect(await sim.exit).toBe(0);
    expect(existsSync(flash)).toBe(true);
    // the same flash again: the store is still there
    const again = await startSim(["--flash", flash]);
    const port = await openPort(again.path);
    let seen = "";
    port.on("data", (d: Buffer) => (seen += d.toString("latin1")));
    port.write("(core/kv/set p 1)\r");
    await until(() => seen.includes("=> true"), 5000, "the answer");
    await closePort(port);
    again.child.kill("SIGINT");
    expect(await again.exit).toBe(0);
  }, 30_000);

  it("--engine wasm3 relays the firmware's pty (or says clearly that the firmware is not built)", async () => {
    const fw = firmwarePath();
    if (!existsSync(fw) && process.env.CI !== "true") {
      const r = await runCli(["sim", "--engine", "wasm3"], { timeoutMs: 15000 });
      expect(r.code).toBe(3);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/--engine wasm3 needs the Linux firmware/);
      return;
    }
    const sim = await startSim(["--engine", "wasm3"]);
    expect(sim.path).toMatch(/^\/dev\//);
    const port = await openPort(sim.path);
    let seen = "";
    port.on("data", (d: Buffer) => (seen += d.toString("latin1")));
    port.write("(core/kv/set w 3) (core/kv/get w)\r");
    await until(() => seen.includes("=> 3"), 5000, "the firmware's answer in text mode");
    await closePort(port);
    expect(sim.stderr()).toMatch(/serving \/dev\/\S+: the Linux firmware \(wasm3\); flash temporary/);
    sim.child.kill("SIGTERM");
    expect(await sim.exit).toBe(0);
    expect(sim.stderr()).toMatch(/sxs sim: stopped\n$/);
  }, 30_000);

  it.skipIf(!existsSync(firmwarePath()))("--engine wasm3: a firmware that dies is reported, with exit 3", async () => {
    const sim = await startSim(["--engine", "wasm3"]);
    const fw = childPids(sim.child.pid!);
    expect(fw).toHaveLength(1); // the firmware, the sim's one child
    process.kill(fw[0]!, "SIGKILL");
    expect(await sim.exit).toBe(3);
    expect(sim.stderr()).toMatch(/the Linux firmware \(wasm3\) failed \(SIGKILL\)/);
  }, 30_000);
});

// The text-mode session of docs/link.md section 2 typed into every board, the same
// keystrokes and the same expected bytes: the V8 board's (host/board/link-server.ts
// with line-editor.ts) and the firmware's (core/sxs_fw.c with sxs_text.c, on Linux and
// on QEMU's RISC-V board) must answer alike. In CI a missing firmware fails.
const CI = process.env.CI === "true";
const qemuBuilt = existsSync(`${ROOT}/firmware/target/qemu-rv32/sxs-fw.elf`);
const TEXT_ENGINES = ["v8", ...(existsSync(firmwarePath()) || CI ? ["wasm3"] : []), ...(qemuBuilt || CI ? ["qemu"] : [])];

describe.each(TEXT_ENGINES)("text mode, byte for byte, on `sxs sim --engine %s`", (engine) => {
  let sim: SimProc;
  let port: SerialPort;
  let seen = "";

  beforeAll(async () => {
    sim = await startSim(["--engine", engine]);
    port = await openPort(sim.path);
    port.on("data", (d: Buffer) => (seen += d.toString("latin1")));
    // the banner and prompt of a board still booting must not land in the first answer
    await until(() => seen.endsWith("> "), 5000, "the banner").catch(() => {});
  }, 60_000);

  afterAll(async () => {
    await closePort(port);
    if (sim.child.exitCode === null) sim.child.kill("SIGTERM");
    await sim.exit;
  });

  it("echo, erase, line ends, continuation, blank lines, escapes, NUL, Ctrl-C, queued lines, output while typing", async () => {
    await playTextSession((b) => port.write(b), () => seen, until);
  }, 60_000);
});

// Framed mode message for message (docs/link.md sections 8-11): the same requests, one at
// a time, to every board; each answer (and the LOG and EVENT messages before it) must be
// what the V8 board answers. Answers are compared as text: type, error code, payload.
describe("framed mode, message for message, on every engine", () => {
  const te8 = (s: string): Uint8Array => te.encode(s);
  const execMsg = (req: number, text: string, proc: number): Message => ({ type: "EXEC", req, proc, textLength: te8(text).length, text: te8(text) });
  /** An image file for a transfer: the real header over `wasm`. */
  const imageOf = (wasm: Uint8Array, abi = ABI_VERSION): Uint8Array => buildImage(wasm, { abiVersion: abi });
  /** FLASH_BEGIN (for `img`, or `begin` instead), its data in 1000-byte pieces (from `from`, up to `upTo`), FLASH_COMMIT. */
  const transfer = (req: number, img: Uint8Array, o: { crc?: number; from?: number; upTo?: number } = {}): Message[] => {
    const out: Message[] = [{ type: "FLASH_BEGIN", req, size: img.length, crc: o.crc ?? crc32(img), slot: 0xff }];
    for (let off = o.from ?? 0; off < (o.upTo ?? img.length); off += 1000)
      out.push({ type: "FLASH_DATA", req, offset: off, data: img.subarray(off, Math.min(off + 1000, img.length)) });
    out.push({ type: "FLASH_COMMIT", req, flags: 1 });
    return out;
  };
  const notWasm = imageOf(new Uint8Array(3000).fill(0x41));
  const script: Array<{ name: string; m: (req: number) => Message | RawMessage | Message[]; answers?: number }> = [
    { name: "EXEC a value", m: (req) => execMsg(req, "(core/kv/set k 1)", 0) },
    { name: "EXEC an error value", m: (req) => execMsg(req, "(core/kv/get no!)", 0) },
    { name: "EXEC unparsable", m: (req) => execMsg(req, "(core/kv/get", 0) },
    { name: "EXEC empty", m: (req) => execMsg(req, "", 0) },
    { name: "EXEC on a processor the board lacks", m: (req) => execMsg(req, "1", 7) },
    { name: "EXEC that logs", m: (req) => execMsg(req, '(core/util/log "a\\nb" 2)', 0) },
    { name: "WATCH on", m: (req) => ({ type: "WATCH", req, channel: 1, on: true, topic: 5 }) },
    { name: "EXEC that publishes (watched)", m: (req) => execMsg(req, "(core/event/pub A 5 [x])", 0) },
    { name: "WATCH off", m: (req) => ({ type: "WATCH", req, channel: 1, on: false, topic: 5 }) },
    { name: "EXEC that publishes (not watched)", m: (req) => execMsg(req, "(core/event/pub A 5 [y])", 0) },
    { name: "WATCH a channel that does not exist", m: (req) => ({ type: "WATCH", req, channel: 9, on: true, topic: 5 }) },
    { name: "PING", m: (req) => ({ type: "PING", req, data: te8("ping \x00\xff") }) },
    { name: "INTERRUPT of nothing", m: () => ({ type: "INTERRUPT", req: 0 }) },
    { name: "a message type the board does not know", m: (req) => ({ type: 0x6e, req, payload: te8("?") }) },
    { name: "a board-to-host type sent to the board", m: (req) => ({ type: "PONG", req, data: te8("") }) },
    { name: "FLASH_DATA without a transfer", m: (req) => ({ type: "FLASH_DATA", req, offset: 0, data: te8("x") }) },
    { name: "FLASH_COMMIT without a transfer", m: (req) => ({ type: "FLASH_COMMIT", req, flags: 0 }) },
    { name: "FLASH_BEGIN larger than a slot", m: (req) => ({ type: "FLASH_BEGIN", req, size: 4 << 20, crc: 0, slot: 0xff }) },
    { name: "FLASH_BEGIN into the running slot", m: (req) => ({ type: "FLASH_BEGIN", req, size: 100, crc: 0, slot: 0 }) },
    { name: "FLASH_BEGIN into a slot that does not exist", m: (req) => ({ type: "FLASH_BEGIN", req, size: 100, crc: 0, slot: 5 }) },
    { name: "a transfer with data at the wrong offset", m: (req) => transfer(req, notWasm, { from: 1000 }), answers: 3 },
    { name: "a transfer that stops short", m: (req) => transfer(req, notWasm, { upTo: 2000 }), answers: 2 },
    { name: "a transfer whose CRC is wrong", m: (req) => transfer(req, notWasm, { crc: 1234 }), answers: 2 },
    { name: "a transfer of an image that is not Wasm", m: (req) => transfer(req, notWasm), answers: 2 },
    { name: "a transfer of an image for ABI 99", m: (req) => transfer(req, imageOf(wasmBytes(), 99)), answers: 2 },
    { name: "a transfer of an image whose sxs_init fails", m: (req) => transfer(req, imageOf(fakeWasm({ initResult: -1 }))), answers: 2 },
    { name: "EXEC after all that", m: (req) => execMsg(req, "(core/kv/get k)", 0) },
  ];

  /** The answers of one board, as text lines. */
  async function answers(engine: string): Promise<string[]> {
    const sim = await startSim(["--engine", engine]);
    const port = await openPort(sim.path);
    const client = new LinkClient((b) => port.write(Buffer.from(b)));
    port.on("data", (d: Buffer) => client.input(new Uint8Array(d)));
    const out: string[] = [];
    try {
      await client.connect();
      for (const step of script) {
        const req = client.req();
        const made = step.m(req);
        const msgs = Array.isArray(made) ? made : [made];
        const from = client.messages.length;
        for (const m of msgs) {
          if (typeof m.type === "number") client.driver.send(m as RawMessage);
          else client.send(m as Message);
        }
        // the answers with this request id (a message the board does not answer shows as
        // nothing after 1.5 s)
        const answered = (): number => client.messages.slice(from).filter((a) => a.req === req && ["OK", "ERROR", "RESULT", "PONG"].includes(a.type)).length;
        await until(() => answered() >= (step.answers ?? 1), 1500, step.name).catch(() => undefined);
        // then until the board is idle (INFO comes behind every LOG and EVENT sent before
        // it), so that what a request set off is counted with it on every board
        for (let k = 0; k < 50; k++) {
          const ir = client.req();
          const info = await client.call({ type: "GET_INFO", req: ir });
          const payload = client.infoPayloads[client.infoPayloads.length - 1]!;
          const ex = info.type === "INFO" ? decodeBoardInfoEx(info.info, payload) : undefined;
          client.messages.splice(client.messages.indexOf(info), 1);
          if (ex && ex.queued === 0 && (ex.liveTasks ?? 0) === 0) break;
          await sleep(10);
        }
        const got = client.messages.slice(from).map((a) => {
          switch (a.type) {
            case "RESULT":
              return `RESULT ${td.decode(a.value)}`;
            case "ERROR":
              return `ERROR ${a.code} ${td.decode(a.message)}`;
            case "LOG":
              return `LOG ${td.decode(a.text)}`;
            case "EVENT":
              return `EVENT ${a.channel}/${a.topic} ${td.decode(a.data)}`;
            case "PONG":
              return `PONG ${Buffer.from(a.data).toString("hex")}`;
            case "OK":
              return `OK ${a.value}`;
            default:
              return a.type;
          }
        });
        out.push(`${step.name}: ${got.join(" | ")}`);
      }
    } finally {
      client.close();
      await closePort(port);
      sim.child.kill("SIGTERM");
      await sim.exit;
    }
    return out;
  }

  it(`${TEXT_ENGINES.join(", ")}: the same answers`, async () => {
    const all: Record<string, string[]> = {};
    for (const engine of TEXT_ENGINES) all[engine] = await answers(engine);
    // SXS_SHOW_ANSWERS=1 prints every board's answers (to see a difference whole)
    if (process.env.SXS_SHOW_ANSWERS) console.log(JSON.stringify(all, null, 1));
    const v8 = all["v8"]!;
    expect(v8[0]).toBe("EXEC a value: RESULT true");
    expect(v8.filter((l) => l.endsWith(": "))).toEqual([]); // every step was answered
    expect(v8.find((l) => l.startsWith("a transfer whose CRC is wrong"))).toMatch(/: OK 1 \| ERROR 22 /);
    for (const engine of TEXT_ENGINES.slice(1)) expect(all[engine], engine).toEqual(v8);
  }, 120_000);
});
