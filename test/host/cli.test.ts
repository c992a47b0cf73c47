// The sxs command line, run as a child process (node bin/sxs.mjs ...).

import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../host/cli/main.js";
import { BIN, ROOT, ensureDist, requireImage, runCli, tempDir, writeFakeImage } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  requireImage();
  await ensureDist();
  dir = tempDir("sxs-cli");
}, 120_000);

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("help and version", () => {
  it("top-level --help, -h and no arguments", async () => {
    for (const args of [["--help"], ["-h"], ["help"]]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: sxs COMMAND/);
      for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`);
    }
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^Usage: sxs COMMAND/);
  });

  it("--help and -h on every subcommand", async () => {
    for (const c of COMMANDS) {
      for (const h of ["--help", "-h"]) {
        const r = await runCli([c.name, h]);
        expect(r.code, `${c.name} ${h}`).toBe(0);
        expect(r.stdout).toContain(`Usage: sxs ${c.usage}`);
        expect(r.stdout).toContain("-h, --help");
        for (const o of c.options) expect(r.stdout).toContain(`--${o.name}`);
      }
    }
  });

  it("--version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sxs \d+\.\d+\.\d+/);
  });

  it("usage errors exit with 2", async () => {
    for (const args of [["frob"], ["run"], ["run", "a", "b"], ["exec"], ["exec", "--bogus", "1"], ["run", "--processors", "9", "x"], ["run", "--processors"], ["repl", "extra"], ["run", join(dir, "missing.slp")], ["run", "--json", "--transcript", "x"]]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).not.toBe("");
    }
  });
});

describe("exec", () => {
  it("prints one result; exit 0", async () => {
    const r = await runCli(["exec", "(core/kv/set a 1) (core/kv/get a)"]);
    expect(r).toMatchObject({ code: 0, stdout: "1\n", stderr: "" });
  });
  it("exit 1 on an error value", async () => {
    const r = await runCli(["exec", "(core/kv/get nope)"]);
    expect(r).toMatchObject({ code: 1, stdout: '@"core/kv/get: key not found"\n' });
  });
  it("--json", async () => {
    const r = await runCli(["exec", "--json", '"a\\"b"']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ result: '"a\\"b"' });
    const e = await runCli(["exec", "--json", "(core/kv/get nope)"]);
    expect(e.code).toBe(1);
    expect(JSON.parse(e.stdout)).toEqual({ result: '@"core/kv/get: key not found"' });
  });
  it("log lines go to stderr, after-result handler logs included", async () => {
    const r = await runCli(["exec", '(core/event/sub A 1 {(core/util/log "h" $data)}) (core/util/log "before") (core/event/pub A 1 2)']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("true\n");
    expect(r.stderr).toBe("log: before\nlog: h 2\n");
  });
  it("reads the request from stdin with -", async () => {
    const r = await runCli(["exec", "-"], { input: "(core/kv/set x 5)\n(core/kv/get x)\n" });
    expect(r).toMatchObject({ code: 0, stdout: "5\n" });
  });
  it("--processor and --processors", async () => {
    expect((await runCli(["exec", "--processors", "2", "-p", "1", "7"])).stdout).toBe("7\n");
    expect((await runCli(["exec", "-p", "1", "7"])).code).toBe(2);
  });
  it("exit 3 when the image is missing or traps", async () => {
    const missing = await runCli(["exec", "--image", join(dir, "none.wasm"), "1"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/board failure: cannot read the image/);
    const fake = writeFakeImage(join(dir, "fake.wasm"));
    const ok = await runCli(["exec", "--image", fake, "echo"]);
    expect(ok).toMatchObject({ code: 0, stdout: "echo\n" });
    const trap = await runCli(["exec", "--image", fake, "!trap"]);
    expect(trap.code).toBe(3);
    expect(trap.stderr).toMatch(/board failure: the image trapped/);
  });
  it("a task that lives on (a handler waiting on a long timer) does not hold exec: --wait, then a note", async () => {
    const live = '(core/event/sub A 1 {(core/expr/await nil B 1 1000000)}) (core/event/pub A 1 1)';
    const r = await runCli(["exec", "--wait", "200", live], { timeoutMs: 20_000 });
    expect(r).toMatchObject({ code: 0, stdout: "true\n", stderr: "sxs: 1 task still running after --wait 200 ms; they end with the board\n" });
    const j = await runCli(["exec", "--json", "--wait", "0", live], { timeoutMs: 20_000 });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stderr)).toEqual({ running: 1, waitMs: 0, goOn: false });
    // what ends within the wait is waited for, and nothing is said
    // (the handler's await times out 100 ms after the result: the handler ends with that error)
    const late = await runCli(["exec", "(core/event/sub A 1 {(core/expr/await nil B 1 100)}) (core/event/pub A 1 1)"]);
    expect(late).toMatchObject({ code: 0, stdout: "true\n", stderr: "log: error: A/1: core/expr/await: timeout\n" });
    const f = file("loop.slp", `${live}\n(core/util/log "set up")\n`);
    expect(await runCli(["run", "--wait", "100", f], { timeoutMs: 20_000 })).toMatchObject({
      code: 0,
      stdout: "set up\n=> true\n",
      stderr: "sxs: 1 task still running after --wait 100 ms; they end with the board\n",
    });
    expect(await runCli(["repl", "--wait", "100"], { input: `${live}\n`, timeoutMs: 20_000 })).toMatchObject({
      code: 0,
      stdout: "=> true\n",
      stderr: "sxs: 1 task still running after --wait 100 ms; they end with the board\n",
    });
    expect((await runCli(["run", "--transcript", "--wait", "5", f])).code).toBe(2);
  });
  it("colour only on a TTY: never in a pipe, even without NO_COLOR", async () => {
    const r = await runCli(["exec", "(core/kv/get nope)"], { env: { NO_COLOR: "" } });
    expect(r.stdout).not.toContain("\x1b[");
  });
});

describe("run", () => {
  it("prints log lines and the value; exit 0", async () => {
    const f = file("ok.slp", '(core/event/sub A 1 {(core/util/log "handled" $data)})\n(core/event/pub A 1 "x")\n(core/util/log "last")\n(core/kv/set done true)\n');
    const r = await runCli(["run", f]);
    expect(r).toMatchObject({ code: 0, stdout: "last\n=> true\nhandled x\n", stderr: "" });
  });
  it("exit 1 when the script ends in an error value", async () => {
    const f = file("err.slp", '(core/util/log "a")\n(core/kv/get nope)\n(core/util/log "never")\n');
    const r = await runCli(["run", f]);
    expect(r).toMatchObject({ code: 1, stdout: 'a\n=> @"core/kv/get: key not found"\n' });
  });
  it("--json: one object per line", async () => {
    const f = file("json.slp", '(core/util/log "hi" 1)\n[1 "2"]\n');
    const r = await runCli(["run", "--json", f]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual([{ log: "hi 1" }, { result: '[1 "2"]' }]);
  });
  it("--watch prints events", async () => {
    const f = file("watch.slp", "(core/event/pub B 3 [a])\n");
    const r = await runCli(["run", "--watch", "B:3", f]);
    expect(r).toMatchObject({ code: 0, stdout: "=> true\nevent B/3: [a]\n" });
  });
  it("--max-input", async () => {
    const f = file("big.slp", `"${"x".repeat(200)}"\n`);
    expect((await runCli(["run", "--max-input", "64", f])).stdout).toBe('=> @"parse: input too large at 64"\n');
    expect((await runCli(["run", "--max-input", "1000", f])).code).toBe(0);
  });
  it("a script reading stdin with -", async () => {
    const r = await runCli(["run", "-"], { input: "(core/kv/set a 2) (core/kv/get a)" });
    expect(r).toMatchObject({ code: 0, stdout: "=> 2\n" });
  });
});

describe("run --transcript", () => {
  it("prints exactly the SPEC.md section 8 format", async () => {
    const f = file(
      "t.slp",
      [
        '(core/event/sub $CHANNEL_A 1 {(core/util/log "h1:" $data)})',
        '(core/util/log "during")',
        '(core/event/pub $CHANNEL_A 1 "x")',
        '(core/util/log "two\\nlines")',
        '(core/expr/await (core/util/log "waiting") $CHANNEL_C 9 250)',
        "(core/kv/get nope)",
        "",
      ].join("\n"),
    );
    const r = await runCli(["run", "--transcript", f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "=> true",
        "log: during",
        "=> true",
        "=> true",
        "log: h1: x",
        "log: two",
        "lines",
        "=> true",
        "log: waiting",
        '=> @"core/expr/await: timeout"',
        '=> @"core/kv/get: key not found"',
        "",
      ].join("\n"),
    );
  });
  it("an unparsable file gives one line and runs nothing", async () => {
    const f = file("bad.slp", '(core/util/log "never")\n(core/kv/set a\n');
    const r = await runCli(["run", "--transcript", f]);
    expect(r).toMatchObject({ code: 0, stdout: '=> @"parse: unclosed ( at 24"\n' });
  });
  it("an empty file prints nothing", async () => {
    const r = await runCli(["run", "--transcript", file("empty.slp", "; nothing\n")]);
    expect(r).toMatchObject({ code: 0, stdout: "" });
  });
  it("writes the image's bytes as they are (no re-encoding)", async () => {
    const f = join(dir, "bytes.slp");
    writeFileSync(f, Buffer.from('(core/util/log "\\xff\\xfe ok")\n', "latin1"));
    const r = spawnSync(process.execPath, [BIN, "run", "--transcript", f], { cwd: ROOT });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, Buffer.concat([Buffer.from("log: "), Buffer.from([0xff, 0xfe]), Buffer.from(" ok\n=> true\n")]))).toBe(0);
  });
});

describe("repl with piped input", () => {
  it("reads forms, prints results, handles multi-line input, exits at EOF", async () => {
    const input = [
      "(core/kv/set a 1)",
      "(core/kv/get",
      "   a)",
      "",
      "; a comment only",
      '(core/kv/set s "two',
      'lines")',
      "(core/kv/get s)",
      "(core/kv/get nope)",
      "(core/kv/get a) (core/kv/get s)",
      "",
    ].join("\n");
    const r = await runCli(["repl"], { input });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(['=> true', "=> 1", "=> true", '=> "two\\nlines"', '=> @"core/kv/get: key not found"', '=> "two\\nlines"', ""].join("\n"));
  });
  it("$result chains across inputs", async () => {
    const r = await runCli(["repl"], { input: '(core/kv/set script "(core/kv/set x 9)")\n(core/kv/get script)\n(core/expr/eval $result)\n(core/kv/get x)\n' });
    expect(r.stdout).toBe('=> true\n=> "(core/kv/set x 9)"\n=> true\n=> 9\n');
  });
  it("shows logs and watched events as they arrive; directives", async () => {
    const input = [
      ".watch A 7",
      '(core/event/sub A 7 {(core/util/log "got" $data)})',
      "(core/event/pub A 7 [1 2])",
      ".unwatch A 7",
      "(core/event/pub A 7 3)",
      ".watch G 1",
      ".processor",
      ".stats",
      ".help",
      "",
    ].join("\n");
    const r = await runCli(["repl"], { input });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 8)).toEqual([
      "watching A/7",
      "=> true",
      "=> true",
      "event A/7: [1 2]",
      "log: got [1 2]",
      "stopped watching A/7",
      "=> true",
      "log: got 3",
    ]);
    expect(lines[8]).toMatch(/bad watch/);
    expect(lines[9]).toBe("processor 0 of 1");
    expect(r.stdout).toMatch(/K\/V entries\s+0/);
    expect(r.stdout).toContain(".watch CH TOPIC");
  });
  it("unfinished input at EOF is answered by the image", async () => {
    const r = await runCli(["repl"], { input: "(core/kv/get a\n" });
    expect(r).toMatchObject({ code: 0, stdout: '=> @"parse: unclosed ( at 0"\n' });
  });
  it(".exit stops reading", async () => {
    const r = await runCli(["repl"], { input: "1\n.exit\n2\n" });
    expect(r).toMatchObject({ code: 0, stdout: "=> 1\n" });
  });
});

/** Drives `script` (a pseudo-terminal) when it exists: the REPL as a user sees it. */
const hasScript = spawnSync("script", ["--version"]).status === 0;
describe.skipIf(!hasScript)("repl on a terminal (via script(1))", () => {
  it("Ctrl-C interrupts a running request and the REPL goes on; Ctrl-D exits; history saved", async () => {
    const history = join(dir, "history");
    const child = spawn("script", ["-qfec", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} repl`, "/dev/null"], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", SXS_HISTORY: history, TERM: "xterm" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const waitFor = async (pattern: RegExp, ms = 10_000): Promise<void> => {
      const end = Date.now() + ms;
      while (!pattern.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    try {
      await waitFor(/sxs> /);
      child.stdin.write("(core/expr/await nil A 1 100000000)\r");
      await new Promise((r) => setTimeout(r, 300));
      child.stdin.write("\x03");
      await waitFor(/=> @"interrupted"/);
      child.stdin.write("(core/kv/set a\r");
      await waitFor(/\.\.\.> /);
      child.stdin.write("5)\r");
      await waitFor(/=> true/);
      child.stdin.write("\x03");
      await waitFor(/To exit, press Ctrl-C again/);
      child.stdin.write("\x04");
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(history, "utf8")).toBe("(core/expr/await nil A 1 100000000)\n(core/kv/set a\n5)\n");
  }, 30_000);
});
