// The virtual board running the real image (build/sxs.wasm).

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BoardError, VirtualBoard, type VirtualBoardOptions } from "../../host/board/virtual-board.js";
import { Stat } from "../../host/image/image.js";
import { requireImage } from "./helpers.js";

beforeAll(requireImage);

const boards: VirtualBoard[] = [];
async function board(opts: VirtualBoardOptions = {}): Promise<VirtualBoard> {
  const b = await VirtualBoard.create(opts);
  boards.push(b);
  return b;
}
afterEach(() => {
  for (const b of boards.splice(0)) b.close();
});

/** Records results, logs and events in the order the board delivers them. */
function record(b: VirtualBoard): string[] {
  const seen: string[] = [];
  b.on("result", (_req, text) => seen.push(`=> ${text}`));
  b.on("log", (text) => seen.push(`log: ${text}`));
  b.on("event", (ch, topic, payload) => seen.push(`event ${ch}/${topic}: ${payload}`));
  return seen;
}

describe("exec", () => {
  it("round-trips values through the K/V store", async () => {
    const b = await board();
    expect(await b.exec("(core/kv/set counter 42)")).toBe("true");
    expect(await b.exec("(core/kv/get counter)")).toBe("42");
    expect(await b.exec('(core/kv/set name "Alice") (core/kv/get name)')).toBe('"Alice"');
    expect(await b.exec("(core/kv/get missing)")).toBe('@"core/kv/get: key not found"');
    expect(await b.exec("")).toBe("nil");
    expect(b.stat(Stat.KV_ENTRIES)).toBe(2);
  });

  it("takes bytes and passes UTF-8 through", async () => {
    const b = await board();
    expect(await b.exec(new TextEncoder().encode('"héllo ✓"'))).toBe('"héllo ✓"');
    expect(await b.exec('(core/kv/set "ключ" [1 "два" 3.0]) (core/kv/get "ключ")')).toBe('[1 "два" 3.0]');
  });

  it("keeps a processor's $result across requests", async () => {
    const b = await board();
    await b.exec('(core/kv/set script "(core/kv/set status \\"complete\\")")');
    await b.exec("(core/kv/get script)");
    expect(await b.exec("(core/expr/eval $result)")).toBe("true");
    expect(await b.exec("(core/kv/get status)")).toBe('"complete"');
  });

  it("runs requests on other processors", async () => {
    const b = await board({ processors: 3 });
    expect(await b.exec("(core/kv/set p 2)", { processor: 2 })).toBe("true");
    expect(await b.exec("(core/kv/get p)", { processor: 1 })).toBe("2");
    const err = await b.exec("1", { processor: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe("no-processor");
    expect(await b.exec("7")).toBe("7");
  });

  it("answers input longer than MAX_INPUT with the parse error", async () => {
    const b = await board({ maxInput: 64 });
    expect(await b.exec(`"${"x".repeat(100)}"`)).toBe('@"parse: input too large at 64"');
    expect(await b.exec("(core/kv/set a 1)")).toBe("true");
  });

  it("refuses limits out of range", async () => {
    await expect(VirtualBoard.create({ processors: 9 })).rejects.toMatchObject({ code: "limit" });
    await expect(VirtualBoard.create({ queue: 0 })).rejects.toMatchObject({ code: "limit" });
  });
});

describe("split", () => {
  it("cuts text into forms by byte ranges", async () => {
    const b = await board();
    expect(b.split('(a "é") ; c\n [x]  42')).toEqual({ forms: ['(a "é")', "[x]", "42"] });
    expect(b.split("   ; nothing")).toEqual({ forms: [] });
  });
  it("gives the image's parse error", async () => {
    const b = await board();
    expect(b.split("(core/kv/set a")).toEqual({ error: '@"parse: unclosed ( at 0"' });
    expect(b.split('"abc')).toEqual({ error: '@"parse: unclosed string at 0"' });
    expect(b.split("(a ]")).toEqual({ error: '@"parse: unexpected ] at 3"' });
  });
});

describe("logs and events", () => {
  it("delivers the result, then handler logs, in emission order", async () => {
    const b = await board({ clock: "virtual" });
    const seen = record(b);
    await b.exec('(core/event/sub $CHANNEL_A 100 {(core/util/log "Handler 1:" $data)})');
    await b.exec('(core/event/sub $CHANNEL_A 100 {(core/util/log "Handler 2:" $data)})');
    seen.length = 0;
    await b.exec('(core/event/pub $CHANNEL_A 100 "hello world")');
    await b.drain();
    expect(seen).toEqual(["=> true", "log: Handler 1: hello world", "log: Handler 2: hello world"]);
  });

  it("drainTo(n): idle with n tasks left waiting (background) counts; drain() waits for them too", async () => {
    const b = await board();
    const seen = record(b);
    // a background task: a handler waiting 1000 s for an event
    await b.exec("(core/event/sub A 1 {(core/expr/await nil B 1 1000000)}) (core/event/pub A 1 1)");
    await b.drainTo(1);
    expect(b.stat(Stat.TASKS)).toBe(1);
    // new work whose handler logs: drainTo(1) waits for that log, not for the background task
    seen.length = 0;
    await b.exec('(core/event/sub C 2 {(core/util/log "h" $data)}) (core/event/pub C 2 5)');
    await b.drainTo(1);
    expect(seen).toEqual(["=> true", "log: h 5"]);
    // drain() needs every task gone: it is still waiting 100 ms later
    let drained = false;
    void b.drain().then(() => (drained = true), () => {});
    await new Promise((r) => setTimeout(r, 100));
    expect(drained).toBe(false);
    await b.exec("(core/event/pub B 1 0)"); // wakes the background task, which then ends
    await b.drain();
    expect(b.stat(Stat.TASKS)).toBe(0);
  });

  it("logs emitted while a request runs come before its result", async () => {
    const b = await board();
    const seen = record(b);
    await b.exec('(core/util/log "one") (core/util/log "two" 2 [x "y"]) 3');
    expect(seen).toEqual(["log: one", 'log: two 2 [x "y"]', "=> 3"]);
  });

  it("shows watched events (one topic, or every topic) and stops on unwatch", async () => {
    const b = await board({ clock: "virtual" });
    const seen = record(b);
    b.watch("B", 7);
    b.watch("C", "*");
    await b.exec('(core/event/pub B 7 "seven") (core/event/pub B 8 "eight") (core/event/pub C 123 [1 2])');
    await b.drain();
    expect(seen).toEqual(["=> true", 'event B/7: "seven"', "event C/123: [1 2]"]);
    seen.length = 0;
    b.watch("B", 7, false);
    await b.exec('(core/event/pub B 7 "again")');
    await b.drain();
    expect(seen).toEqual(["=> true"]);
    expect(() => b.watch("G", 1)).toThrow(BoardError);
    expect(() => b.watch(1, 70000)).toThrow(BoardError);
  });

  it("logs handler errors", async () => {
    const b = await board({ clock: "virtual" });
    const seen = record(b);
    await b.exec("(core/event/sub D 5 {(core/kv/get nope)})");
    await b.exec("(core/event/pub D 5 1)");
    await b.drain();
    expect(seen).toEqual(["=> true", "=> true", 'log: error: D/5: core/kv/get: key not found']);
  });
});

describe("clocks and timers", () => {
  it("virtual clock: an await timeout resolves at once, at the virtual time", async () => {
    const b = await board({ clock: "virtual" });
    const seen = record(b);
    const t0 = performance.now();
    const r = await b.exec('(core/expr/await (core/util/log "nobody answers") $CHANNEL_C 9 250)');
    expect(r).toBe('@"core/expr/await: timeout"');
    expect(seen).toEqual(["log: nobody answers", '=> @"core/expr/await: timeout"']);
    expect(b.now()).toBe(250);
    const r2 = await b.exec("(core/expr/await nil C 9 100000000)");
    expect(r2).toBe('@"core/expr/await: timeout"');
    expect(b.now()).toBe(100000250);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("real clock: an await timeout takes its time", async () => {
    const b = await board();
    const t0 = performance.now();
    expect(await b.exec("(core/expr/await nil C 9 60)")).toBe('@"core/expr/await: timeout"');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it("an await answered by a handler", async () => {
    const b = await board({ clock: "virtual" });
    await b.exec("(core/event/sub $CHANNEL_A 1 {(core/event/pub $CHANNEL_B 100 (core/kv/get answer))})");
    await b.exec('(core/kv/set answer "computed-value-42")');
    expect(await b.exec('(core/expr/await (core/event/pub $CHANNEL_A 1 "request") $CHANNEL_B 100)')).toBe('"computed-value-42"');
    expect(b.now()).toBe(0);
  });

  it("drain() runs handler timers on the virtual clock", async () => {
    const b = await board({ clock: "virtual" });
    const seen = record(b);
    await b.exec('(core/event/sub A 1 {(core/util/log "got" (core/expr/await nil B 2 1000))})');
    await b.exec("(core/event/pub A 1 x)");
    await b.drain();
    expect(seen.slice(-1)).toEqual(['log: error: A/1: core/expr/await: timeout']);
    expect(b.now()).toBe(1000);
  });
});

describe("interrupt", () => {
  /** A request that would run for a very long time: nested walks over ten keys. */
  function runaway(depth: number): string {
    let body = "(core/kv/get k0)";
    for (let i = 0; i < depth; i++) body = `(core/kv/iterate k 0 10 {${body}})`;
    return body;
  }

  it("stops a runaway request with @\"interrupted\" and keeps serving", async () => {
    const b = await board({ maxSteps: 2 ** 31 - 1 });
    await b.exec(Array.from({ length: 10 }, (_, i) => `(core/kv/set k${i} ${i})`).join(" "));
    await b.exec(`(core/kv/set loop {${runaway(9)}})`);
    const { req, result } = b.submit("(core/expr/eval (core/kv/get loop))");
    let settled = false;
    void result.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect(b.stat(Stat.STEPS)).toBeGreaterThan(1000);
    expect(b.interrupt()).toBe(true); // the oldest outstanding request: this one
    expect(await result).toBe('@"interrupted"');
    expect(b.interrupt(req)).toBe(false);
    expect(await b.exec("(core/kv/get k3)")).toBe("3");
  });

  it("interrupts a request suspended in await, and one still queued", async () => {
    const b = await board({ clock: "real" });
    const waiting = b.submit("(core/expr/await nil A 1 100000000)");
    const queued = b.submit("(core/kv/set never 1)");
    await new Promise((r) => setTimeout(r, 20));
    expect(b.interrupt(queued.req)).toBe(true);
    expect(b.interrupt(waiting.req)).toBe(true);
    expect(await waiting.result).toBe('@"interrupted"');
    expect(await queued.result).toBe('@"interrupted"');
    expect(await b.exec("(core/kv/exists never)")).toBe("false");
  });

  it("MAX_STEPS stops a long request on its own", async () => {
    const b = await board({ maxSteps: 5000 });
    await b.exec(Array.from({ length: 10 }, (_, i) => `(core/kv/set k${i} ${i})`).join(" "));
    expect(await b.exec(runaway(6))).toBe('@"step limit exceeded"');
    expect(await b.exec("1")).toBe("1");
  });
});

describe("queue full", () => {
  it("retries submissions the image refuses, in order", async () => {
    const b = await board({ queue: 2 });
    const n = 50;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => b.exec(`(core/kv/set k${i} ${i}) ${i}`)));
    expect(results).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(b.queueFullRetries).toBeGreaterThan(0);
    expect(b.stat(Stat.KV_ENTRIES)).toBe(n);
  });

  it("an interrupt of a request still waiting for room reaches it", async () => {
    const b = await board({ queue: 1 });
    const subs = Array.from({ length: 5 }, (_, i) => b.submit(`${i}`));
    expect(b.interrupt(subs[4]!.req)).toBe(true);
    const results = await Promise.all(subs.map((s) => s.result));
    expect(results).toEqual(["0", "1", "2", "3", '@"interrupted"']);
  });
});

describe("bad input never crashes the board", () => {
  it("random bytes, unclosed input, huge numbers, deep nesting", async () => {
    const b = await board();
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 1 + (i % 64) }, rnd);
      const r = await b.exec(bytes);
      expect(typeof r).toBe("string");
    }
    expect(await b.exec("(((")).toBe('@"parse: unclosed ( at 2"');
    expect(await b.exec("99999999999999999999")).toBe('@"parse: integer out of range at 0"');
    expect(await b.exec("(".repeat(65) + ")".repeat(65))).toBe('@"parse: nesting too deep at 64"');
    // a body that evaluates itself again through the store: evaluation depth, not text depth
    await b.exec("(core/kv/set f {(core/expr/eval (core/kv/get f))})");
    expect(await b.exec("(core/expr/eval (core/kv/get f))")).toBe('@"nesting too deep"');
    expect(await b.exec(`(core/kv/set ${"k".repeat(256)} 1)`)).toBe('@"core/kv/set: invalid key length"');
    expect(await b.exec(`(core/kv/set big "${"v".repeat(2000)}")`)).toBe('@"core/kv/set: value too large"');
    expect(await b.exec("(core/kv/set ok 1) (core/kv/get ok)")).toBe("1");
    expect(b.alive).toBe(true);
  });
});

describe("memory exhaustion", () => {
  it("a full store answers store full and keeps serving; a request with no room to stage is refused cleanly", async () => {
    const b = await board({ maxPages: 2 });
    let last = "true";
    let n = 0;
    while (last === "true" && n < 10000) last = await b.exec(`(core/kv/set key${n++} "${"v".repeat(100)}")`);
    expect(last).toBe('@"core/kv/set: store full"');
    expect(await b.exec("(core/kv/exists key1)")).toBe("true");
    // No memory for a 15 KB staging buffer: docs/abi.md says sxs_input gives 0 and the
    // request is answered with the error (or sxs_submit says -3, out of memory).
    const answer = await b.exec(`"${"x".repeat(15000)}"`).catch((e: unknown) => e);
    if (answer instanceof BoardError) expect(answer.code).toBe("out-of-memory");
    else expect(answer).toMatch(/^@".*memory.*"$/);
    expect(await b.exec("(core/kv/del key1) (core/kv/exists key1)")).toBe("false");
    expect(b.alive).toBe(true);
  });
});
