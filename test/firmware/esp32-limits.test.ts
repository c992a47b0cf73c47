// The image under wasm3 with the limits the ESP32 port chooses (firmware/ports/esp32/
// main/main.c: wasm3 stack and linear-memory pages, without and with PSRAM), run by the
// Linux firmware, which is the same C around the same wasm3. The corpus and the
// 1,000-entry / 64-subscription workload run within them; going past them gives error
// values or an ERROR over the link, and the firmware keeps serving.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { openBoard } from "../../host/client/board-client.js";

const root = resolve(__dirname, "../..");
const fw = join(root, "firmware/target/release/sxs-fw");
const image = join(root, "build/sxs.wasm");
const run = existsSync(fw) || process.env.CI === "true";

/** A `#define NAME value` of the ESP32 port's main.c (so the test follows the port). */
function esp32Define(name: string): number {
  const src = readFileSync(join(root, "firmware/ports/esp32/main/main.c"), "utf8");
  const m = new RegExp(`#define ${name} (\\d+)`).exec(src);
  if (!m) throw new Error(`${name} not found in main.c`);
  return Number(m[1]);
}
const PROFILES = {
  plain: { stack: esp32Define("CONFIG_SXS_WASM3_STACK"), pages: esp32Define("CONFIG_SXS_MAX_PAGES") },
  psram: { stack: esp32Define("CONFIG_SXS_WASM3_STACK_PSRAM"), pages: esp32Define("CONFIG_SXS_MAX_PAGES_PSRAM") },
};
const limitArgs = (p: { stack: number; pages: number }) => ["--stack", String(p.stack), "--max-pages", String(p.pages)];

const transcripts = [join(root, "test/transcripts"), resolve(root, "../shared/conformance")]
  .filter((d) => existsSync(d))
  .flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".slp")).sort().map((f) => join(d, f)));

/** 1,000 entries of 16-byte keys and values, 64 subscriptions, an event, a read back. */
function workload(): string[] {
  const l: string[] = [];
  for (let i = 0; i < 1000; i++) l.push(`(core/kv/set key-${String(i).padStart(12, "0")} "val-${String(i).padStart(12, "0")}")`);
  for (let i = 0; i < 64; i++) l.push(`(core/event/sub $CHANNEL_B ${i} {(core/kv/set seen $data)})`);
  return l;
}

/** The firmware's text loop over stdin: one answer line per request. */
function textLoop(lines: string[], extra: string[]): { status: number | null; answers: string[]; stderr: string } {
  const r = spawnSync(fw, ["--image", image, ...extra], { input: lines.join("\n") + "\n", maxBuffer: 64 << 20 });
  return {
    status: r.status,
    answers: r.stdout.toString().split("\n").filter((l) => l.startsWith("=> ")).map((l) => l.slice(3)),
    stderr: r.stderr.toString(),
  };
}

describe.skipIf(!run)("the image under wasm3 within the ESP32 port's limits", () => {
  it("the port's limits are the documented ones", () => {
    expect(PROFILES).toEqual({ plain: { stack: 8192, pages: 1 }, psram: { stack: 32768, pages: 24 } });
  });

  for (const f of transcripts) {
    it(`${f.split("/").slice(-2).join("/")}: the V8 transcript with both profiles`, () => {
      const want = readFileSync(f.replace(/\.slp$/, ".out"), "latin1");
      for (const [name, p] of Object.entries(PROFILES)) {
        const r = spawnSync(fw, ["--image", image, ...limitArgs(p), "--transcript", f], { maxBuffer: 64 << 20 });
        expect(r.stderr.toString(), name).toBe("");
        expect(r.status, name).toBe(0);
        // exactly the same, in one page too: limits.slp's 10,000 events do not fit there
        // at once, so publishers wait for the queue to drain and events for handlers to
        // give memory back (docs/language.md), and none is lost
        expect(r.stdout.toString("latin1"), name).toBe(want);
      }
    }, 60_000);
  }

  it("the 1,000-entry / 64-subscription workload fits with PSRAM (and in 2 pages)", () => {
    for (const extra of [limitArgs(PROFILES.psram), limitArgs({ stack: PROFILES.plain.stack, pages: 2 })]) {
      const r = textLoop([...workload(), "(core/kv/get key-000000000999)"], extra);
      expect(r.status).toBe(0);
      expect(r.answers.slice(0, 1064).every((a) => a === "true")).toBe(true);
      expect(r.answers[1064]).toBe('"val-000000000999"');
    }
  });

  it("without PSRAM (one page) the store fills with a clear error and the board keeps serving", () => {
    // deleting one key makes room for one more (it goes into the holes the key left)
    const r = textLoop([...workload(), "(core/kv/get key-000000000000)", "(core/kv/del key-000000000000)", '(core/kv/set after "ok")'], limitArgs(PROFILES.plain));
    expect(r.status).toBe(0);
    expect(r.answers).toHaveLength(1067);
    const sets = r.answers.slice(0, 1000);
    expect(sets[0]).toBe("true");
    expect(sets.filter((a) => a === '@"core/kv/set: store full"').length).toBeGreaterThan(0);
    expect(sets.every((a) => a === "true" || a === '@"core/kv/set: store full"')).toBe(true);
    expect(r.answers.slice(1000, 1064).every((a) => a === "true" || a === '@"core/event/sub: store full"')).toBe(true);
    expect(r.answers.slice(1064)).toEqual(['"val-000000000000"', "true", "true"]);
  });

  it("over the link: memory and a too-small wasm3 stack give errors, not a dead firmware", async () => {
    const start = async (extra: string[]) => {
      const child = spawn(fw, ["--pty", "--image", image, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
      const path = await new Promise<string>((r) => createInterface({ input: child.stdout! }).once("line", r));
      const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      return { path, child, exited };
    };
    // the plain profile: the store fills, deep nesting is refused, all as values
    const a = await start(limitArgs(PROFILES.plain));
    const c = await openBoard(a.path, { timeoutMs: 5000 });
    try {
      const answers = await Promise.all(workload().slice(0, 600).map((l) => c.exec(l)));
      expect(answers).toContain('@"core/kv/set: store full"');
      expect(await c.exec("(".repeat(5000))).toBe('@"parse: nesting too deep at 64"');
      expect(await c.exec("(core/kv/get key-000000000001)")).toBe('"val-000000000001"');
    } finally {
      await c.close();
      a.child.kill("SIGTERM");
      expect(await a.exited).toBe(0);
    }
    // a wasm3 stack below what the image needs (2 KiB): the trap comes back as an ERROR
    // and a LOG, the image restarts, and the firmware answers the next request
    const b = await start(["--stack", "2048", "--max-pages", "1"]);
    const d = await openBoard(b.path, { timeoutMs: 5000 });
    const logs: string[] = [];
    d.on("log", (t) => logs.push(t));
    try {
      await expect(d.exec("(core/kv/set a 1)")).rejects.toThrow(/INTERNAL: image trapped: .*stack overflow/);
      await expect(d.exec("(core/kv/get a)")).rejects.toThrow(/stack overflow/);
      expect((await d.info()).imageCrc).toBeGreaterThan(0); // INFO answers: the firmware is alive
      expect(logs.some((l) => /^sxs: image trapped: .*stack overflow; restarting/.test(l))).toBe(true);
    } finally {
      await d.close();
      b.child.kill("SIGTERM");
      expect(await b.exited).toBe(0);
    }
  }, 60_000);
});
