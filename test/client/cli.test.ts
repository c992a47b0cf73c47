// The serial subcommands of the CLI (node bin/sxs.mjs ... --port PTY) against the fake
// board, which sits on the master side of a pseudo-terminal in this process.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../host/link/image-header.js";
import { crc32 } from "../../host/link/crc32.js";
import { openBoard } from "../../host/client/board-client.js";
import { BIN, ROOT, runCli, tempDir } from "../host/helpers.js";
import { buildDist } from "./dist.js";
import { FakeBoard } from "./fake-board.js";
import { openPty, type Pty } from "./pty.js";

let pty: Pty;
let board: FakeBoard;
let dir: string;

beforeAll(async () => {
  await buildDist();
  dir = tempDir("sxs-client-cli");
  pty = openPty();
  board = new FakeBoard();
  board.attach((b) => pty.write(b));
  pty.onData((b) => board.input(b));
}, 120_000);

afterAll(() => {
  board?.close();
  pty?.close();
});

const port = () => ["--port", pty.path];

function wasm(n: number): Uint8Array {
  return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...new Uint8Array(n).map((_, i) => (i * 7) & 0xff)]);
}

describe("exec, info, reset, interrupt, repl over --port", () => {
  it("exec: the result on stdout, log lines on stderr, exit codes", async () => {
    expect(await runCli(["exec", ...port(), "hello"])).toMatchObject({ code: 0, stdout: "ok hello\n", stderr: "" });
    expect(await runCli(["exec", ...port(), "log:a line"])).toMatchObject({ code: 0, stdout: "true\n", stderr: "log: a line\n" });
    const j = await runCli(["exec", "--json", ...port(), "x"]);
    expect(JSON.parse(j.stdout)).toEqual({ result: "ok x" });
    await new Promise((r) => setTimeout(r, 100));
    expect(board.mode).toBe("text"); // LEAVE at the end
    expect((await runCli(["exec", ...port(), "-p", "1", "p1"])).stdout).toBe("ok p1\n");
    expect((await runCli(["exec", ...port(), "-p", "3", "p3"])).code).toBe(2);
  });

  it("usage errors: virtual-board options with --port, link options without it, missing --port", async () => {
    for (const args of [["exec", ...port(), "--processors", "2", "1"], ["exec", "--baud", "9600", "1"], ["info"], ["flash", ...port()], ["monitor", ...port(), "--channel", "Z"]]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });

  it("a missing port and a board that does not answer: exit 3 with a clear message", async () => {
    const r = await runCli(["info", "--port", "/dev/sxs-no-such-port"]);
    expect(r).toMatchObject({ code: 3, stderr: "sxs: no serial port at /dev/sxs-no-such-port (`sxs ports` lists the ports this system sees)\n" });
    const silent = openPty();
    try {
      const s = await runCli(["exec", "--port", silent.path, "--timeout", "600", "1"]);
      expect(s.code).toBe(3);
      expect(s.stderr).toMatch(/^sxs: no answer from a board on \/dev\/pts\/\d+/);
    } finally {
      silent.close();
    }
  });

  it("info, --json", async () => {
    const r = await runCli(["info", ...port()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^firmware\s+fake-board 1$/m);
    expect(r.stdout).toMatch(/^image\s+1111aaaa$/m);
    const j = JSON.parse((await runCli(["info", "--json", ...port()])).stdout);
    expect(j).toMatchObject({ image: "1111aaaa", processors: 2, firmware: "fake-board 1" });
  });

  it("reset waits for the board to come back", async () => {
    const r = await runCli(["reset", ...port()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^board reset; back after \d+ ms: image 1111aaaa in slot \d\n$/);
  });

  it("Ctrl-C on exec interrupts the request; `sxs interrupt` stops one left behind", async () => {
    const child = spawn(process.execPath, [BIN, "exec", ...port(), "sleep:100000"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    for (let i = 0; i < 100 && board.running.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(board.running.size).toBe(1);
    child.kill("SIGINT");
    expect(await code).toBe(1);
    expect(out).toBe('@"interrupted"\n');

    // a request whose tool went away without an answer
    const c = await openBoard(pty.path, { timeoutMs: 2000 });
    c.submit("sleep:100000").result.catch(() => {});
    for (let i = 0; i < 100 && board.running.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await c.dispose();
    const r = await runCli(["interrupt", ...port()]);
    expect(r).toMatchObject({ code: 0, stdout: "interrupted 1 request\n" });
    expect(board.running.size).toBe(0);
    expect((await runCli(["exec", ...port(), "after"])).stdout).toBe("ok after\n");
  });

  it("repl with piped input: a local image tells when an input is unfinished", async () => {
    const r = await runCli(["repl", ...port()], { input: "(a\n  b)\n.watch A 3\nevent:A:3:x\n.stats\n" });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 5)).toEqual(["=> ok (a", "  b)", "watching A/3", "event A/3: x", "=> true"]);
    expect(r.stdout).toMatch(/firmware\s+fake-board 1/);
  });
});

describe("monitor", () => {
  it("streams events and log lines with timestamps until Ctrl-C; --json lines", async () => {
    for (const json of [false, true]) {
      const args = [BIN, "monitor", ...port(), ...(json ? ["--json"] : [])];
      const enters = board.enters;
      const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
      const code = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      for (let i = 0; i < 100 && (board.enters === enters || board.watches.size < 6); i++) await new Promise((r) => setTimeout(r, 50));
      expect(board.watches.size).toBe(6);
      board.raise("B", 12, "[1 2]");
      board.log("board says hi");
      board.raise("F", 65535, '"last"');
      // up to 10 s: on a loaded 2-core machine the three frames can take a while
      for (let i = 0; i < 500 && out.split("\n").length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGINT");
      expect(await code).toBe(0);
      const lines = out.trim().split("\n");
      if (json) {
        const objs = lines.map((l) => JSON.parse(l));
        expect(objs.map((o) => o.event ?? o.log)).toEqual([{ channel: "B", topic: 12, payload: "[1 2]" }, "board says hi", { channel: "F", topic: 65535, payload: '"last"' }]);
        for (const o of objs) expect(Date.parse(o.time)).toBeGreaterThan(0);
      } else {
        expect(err).toMatch(/watching every channel, every topic and log lines/);
        expect(lines).toHaveLength(3);
        expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d\d\d event B\/12: \[1 2\]$/);
        expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d\d\d log: board says hi$/);
        expect(lines[2]).toMatch(/^\d\d:\d\d:\d\d\.\d\d\d event F\/65535: "last"$/);
      }
    }
  });

  it("--channel and --topic narrow the watch", async () => {
    const enters = board.enters;
    const child = spawn(process.execPath, [BIN, "monitor", ...port(), "--channel", "c", "--topic", "7", "--no-log"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    for (let i = 0; i < 100 && (board.enters === enters || board.watches.size !== 1); i++) await new Promise((r) => setTimeout(r, 50));
    expect([...board.watches]).toEqual(["3:7"]);
    board.raise("C", 7, "yes");
    board.log("hidden");
    for (let i = 0; i < 100 && !out.includes("yes"); i++) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    expect(await code).toBe(0);
    expect(out).toMatch(/event C\/7: yes\n$/);
    expect(out).not.toContain("hidden");
  });
});

describe("flash", () => {
  it("plain progress lines off a TTY, the new hash and the rate; a bare .wasm is wrapped", async () => {
    const w = wasm(30_000);
    const file = join(dir, "new.img");
    writeFileSync(file, buildImage(w, { abiVersion: 2 }));
    const r = await runCli(["flash", ...port(), "--baud", "921600", file]);
    expect(r.code, r.stderr).toBe(0);
    const hash = crc32(w).toString(16).padStart(8, "0");
    expect(r.stdout).toMatch(/^sent 29\.3 KiB in \d+\.\d\d s: [\d.]+ KiB\/s \(\d+ % of the 90\.0 KiB\/s a 921600-baud line carries\)\n/);
    expect(r.stdout).toContain(`board is back running image ${hash} in slot 1`);
    const progress = r.stderr.split("\n").filter((l) => l.startsWith("flash: "));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(/^flash: 30040\/30040 bytes \(100%\)/);
    expect(r.stderr).not.toContain("\r");

    const bare = join(dir, "bare.wasm");
    const w2 = wasm(5000).map((b, i) => (i > 8 ? b ^ 0x55 : b));
    writeFileSync(bare, w2);
    const j = await runCli(["flash", ...port(), "--json", bare]);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ image: crc32(w2).toString(16).padStart(8, "0"), previous: hash, slot: 0, bytes: 5040, rebooted: true });
  });

  it("a refused image: exit 3 with the reason; the board keeps its image", async () => {
    const before = board.imageCrc;
    const bad = join(dir, "bad-abi.img");
    writeFileSync(bad, buildImage(wasm(1000), { abiVersion: 7 }));
    const local = await runCli(["flash", ...port(), bad]);
    expect(local.code).toBe(3);
    expect(local.stderr).toMatch(/image refused before sending: IMAGE_BAD_ABI: ABI version 7, this board runs ABI 2/);
    const remote = await runCli(["flash", ...port(), "--no-check", bad]);
    expect(remote.code).toBe(3);
    expect(remote.stderr).toMatch(/the board refused the image: IMAGE_BAD_ABI/);
    expect(remote.stderr).toMatch(/the board keeps running image/);
    expect(board.imageCrc).toBe(before);
    const missing = await runCli(["flash", ...port(), join(dir, "nope.img")]);
    expect(missing.code).toBe(2);
  });
});

describe("ports", () => {
  it("exits 0; says so in one line where the system cannot enumerate", async () => {
    const r = await runCli(["ports"]);
    expect(r.code).toBe(0);
    if (r.stderr) expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const j = await runCli(["ports", "--json"]);
    expect(j.code).toBe(0);
    expect(Array.isArray(JSON.parse(j.stdout).ports)).toBe(true);
  });
});
