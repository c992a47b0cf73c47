// core/expr/await (assembly/eval/cmd_expr.ts, the scheduler's timers; SPEC.md sections
// 5 and 6) on the virtual clock, where time moves only when nothing can run.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VirtualBoard } from "../../host/board/virtual-board.js";
import { Stat } from "../../host/image/image.js";
import { closeBoards, newBoard, record, requireImage } from "./helpers.js";

beforeAll(requireImage);
afterEach(closeBoards);

/** Runs a request and gives its result and how far the virtual clock moved meanwhile. */
async function timed(b: VirtualBoard, text: string): Promise<[string, number]> {
  const t0 = b.now();
  const r = await b.exec(text);
  return [r, b.now() - t0];
}

describe("timeouts on the virtual clock", () => {
  it("the default timeout is 5000 ms, exactly", async () => {
    const b = await newBoard();
    expect(await timed(b, "(core/expr/await 1 A 1)")).toEqual(['@"core/expr/await: timeout"', 5000]);
    expect(await timed(b, "(core/expr/await 1 A 1)")).toEqual(['@"core/expr/await: timeout"', 5000]);
    expect(b.now()).toBe(10000);
  });

  it("explicit timeouts, 0 included", async () => {
    const b = await newBoard();
    for (const ms of [0, 1, 7, 1234, 100000]) {
      expect(await timed(b, `(core/expr/await 1 A 1 ${ms})`), `${ms}`).toEqual(['@"core/expr/await: timeout"', ms]);
    }
    // the timeout runs from when EXPR completes (EXPR here takes no time: the clock is virtual)
    const rec = record(b);
    expect(await timed(b, '(core/expr/await (core/util/log "expr runs") C 9 250)')).toEqual(['@"core/expr/await: timeout"', 250]);
    expect(rec.logs).toEqual(["expr runs"]);
    // the timeout is evaluated
    expect(await timed(b, "(core/kv/set ms 40) (core/expr/await 1 A 1 (core/kv/get ms))")).toEqual(['@"core/expr/await: timeout"', 40]);
  });

  it("timeouts of tasks waiting together fall due in time order", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/event/sub A 72 {(core/expr/await 1 F 72) (core/util/log never)})");
    await b.exec("(core/event/sub A 73 {(core/expr/await 1 F 73 5001)})");
    await b.exec("(core/event/sub A 74 {(core/expr/await 1 F 74 4999)})");
    const t0 = b.now();
    await b.exec("(core/expr/eval {(core/event/pub A 73 0) (core/event/pub A 72 0) (core/event/pub A 74 0)})");
    await b.drain();
    expect(rec.logs).toEqual([
      "error: A/74: core/expr/await: timeout",
      "error: A/72: core/expr/await: timeout",
      "error: A/73: core/expr/await: timeout",
    ]);
    expect(b.now() - t0).toBe(5001);
  });
});

describe("answers", () => {
  it("EXPR's own event counts; the first event on (CH, TOPIC) wins", async () => {
    const b = await newBoard();
    expect(await timed(b, '(core/expr/await (core/event/pub D 5 "own") D 5)')).toEqual(['"own"', 0]);
    expect(await timed(b, '(core/expr/await (core/event/pub D 5 "own") D 5 0)')).toEqual(['"own"', 0]);
    expect(await timed(b, '(core/expr/await {(core/event/pub D 6 "first") (core/event/pub D 6 "second")} D 6 100)')).toEqual(['"first"', 0]);
    // "second" was not kept for a later await
    expect(await timed(b, "(core/expr/await 1 D 6 10)")).toEqual(['@"core/expr/await: timeout"', 10]);
    expect(await b.exec('(core/expr/await {(core/event/pub D 7 "other topic") (core/event/pub E 8 "other channel") (core/event/pub D 8 "right")} D 8 100)')).toBe('"right"');
    expect(await b.exec("(core/expr/await (core/event/pub D 9 [1 2.50 \"x\" {y} 'z]) D 9 10)")).toBe('[1 2.5 "x" {y} \'z]');
    expect(await b.exec("(core/expr/await (core/event/pub $CHANNEL_F 65535 ok) $CHANNEL_F 65535 10)")).toBe("ok");
  });

  it("an answer from a handler; other subscribers of the topic get the event as well", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 40 {(core/util/log "serving" $data) (core/event/pub B 40 "answer")})');
    expect(await timed(b, '(core/expr/await (core/event/pub A 40 "q1") B 40 1000)')).toEqual(['"answer"', 0]);
    expect(await b.exec('(core/kv/set got (core/expr/await (core/event/pub A 40 "q2") B 40 10)) (core/kv/get got)')).toBe('"answer"');
    await b.exec("(core/event/sub B 41 {(core/kv/set also $data)})");
    expect(await b.exec('(core/expr/await (core/event/pub B 41 "both") B 41 100)')).toBe('"both"');
    await b.drain();
    expect(await b.exec("(core/kv/get also)")).toBe('"both"');
    expect(rec.logs).toEqual(["serving q1", "serving q2"]);
  });

  it("an answer from a request on another processor", async () => {
    const b = await newBoard({ processors: 2 });
    const t0 = b.now();
    const waiting = b.exec("(core/expr/await 1 B 9 3000)", { processor: 0 });
    const answer = b.exec('(core/event/pub B 9 "from p1")', { processor: 1 });
    expect(await Promise.all([waiting, answer])).toEqual(['"from p1"', "true"]);
    expect(b.now() - t0).toBe(0);
  });

  it("await runs in its caller's context", async () => {
    const b = await newBoard();
    expect(await b.exec("5 (core/expr/await (core/event/pub A 21 $result) A 21 10)")).toBe("5");
    expect(await b.exec('(core/expr/await {"inner" (core/event/pub A 22 $result)} A 22 10)')).toBe('"inner"');
    expect(await b.exec("(core/kv/set k1 1) (core/kv/iterate k 0 1 {(core/kv/set seen (core/expr/await (core/event/pub A 23 $key) A 23 10))}) (core/kv/get seen)")).toBe('"k1"');
  });

  it("an await nested in EXPR", async () => {
    const b = await newBoard();
    // the outer await listens on B 2 before its EXPR (the inner await) runs
    expect(
      await timed(b, '(core/expr/await (core/expr/await {(core/event/pub B 2 "outer") (core/event/pub A 1 "inner")} A 1 10) B 2 10)'),
    ).toEqual(['"outer"', 0]);
    expect(await b.exec('(core/expr/await (core/expr/await (core/event/pub A 1 "inner") A 1 10) A 1 10)')).toBe('"inner"');
    // the inner times out: its error is the outer's EXPR error, returned at once
    expect(await timed(b, "(core/expr/await (core/expr/await 1 A 1 30) B 2 10)")).toEqual(['@"core/expr/await: timeout"', 30]);
  });

  it("awaits inside handlers: other tasks run while one waits", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 60 {(core/util/log "w1 waiting") (core/util/log "w1 got" (core/expr/await 1 B 60 1000))})');
    await b.exec('(core/event/sub A 60 {(core/util/log "h2 answers") (core/event/pub B 60 "ping")})');
    await b.exec("(core/event/pub A 60 0)");
    await b.drain();
    expect(rec.logs).toEqual(["w1 waiting", "h2 answers", "w1 got ping"]);
    rec.clear();
    const t0 = b.now();
    await b.exec('(core/event/sub A 61 {(core/util/log "waiting") (core/expr/await 1 F 61 10)})');
    await b.exec("(core/event/pub A 61 0)");
    await b.drain();
    expect(rec.logs).toEqual(["waiting", "error: A/61: core/expr/await: timeout"]);
    expect(b.now() - t0).toBe(10);
  });

  it("an event published before listening started is not taken, even if still queued", async () => {
    const b = await newBoard();
    const rec = record(b);
    expect(await timed(b, '(core/util/log (core/event/pub C 4 "early") (core/expr/await 1 C 4 100))')).toEqual(['@"core/expr/await: timeout"', 100]);
    expect(rec.logs).toEqual([]);
    expect(await timed(b, '(core/event/pub C 3 "before") (core/expr/await 1 C 3 100)')).toEqual(['@"core/expr/await: timeout"', 100]);
  });
});

describe("errors", () => {
  it("an error in EXPR is returned at once, and releases the waiter", async () => {
    const b = await newBoard();
    const rec = record(b);
    expect(await timed(b, '(core/expr/await {(core/util/log "a") (core/kv/get nope) (core/util/log "b")} A 1)')).toEqual([
      '@"core/kv/get: key not found"',
      0,
    ]);
    expect(rec.logs).toEqual(["a"]);
    expect(await timed(b, '(core/expr/await @"bad" A 1)')).toEqual(['@"bad"', 0]);
    expect(await timed(b, "(core/expr/await $nope A 1)")).toEqual(['@"unbound variable: $nope"', 0]);
    for (let i = 0; i < 100; i++) {
      expect(await b.exec(`(core/expr/await (core/kv/get nope${i}) A ${i} 1000)`)).toBe(`@"core/kv/get: key not found"`);
    }
    expect(b.now()).toBe(0);
  });

  it("after 100 failed awaits, MAX_WAITERS (32) awaits can still listen at once", async () => {
    const b = await newBoard({ clock: "real" });
    const rec = record(b);
    for (let i = 0; i < 100; i++) await b.exec(`(core/expr/await @"e${i}" A 1)`);
    for (let i = 0; i < 32; i++) await b.exec(`(core/event/sub A 1 {(core/util/log "w${i} got" (core/expr/await 1 B 1 60000))})`);
    await b.exec("(core/event/pub A 1 0)");
    // let the 32 handlers reach their await
    for (let i = 0; i < 50 && b.stat(Stat.TASKS) < 32; i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.stat(Stat.TASKS)).toBe(32);
    expect(await b.exec("(core/expr/await 1 B 1 10)")).toBe('@"core/expr/await: too many waiters"');
    expect(await b.exec('(core/event/pub B 1 "go")')).toBe("true");
    for (let i = 0; i < 50 && rec.logs.length < 32; i++) await new Promise((r) => setTimeout(r, 10));
    expect(rec.logs).toEqual(Array.from({ length: 32 }, (_, i) => `w${i} got go`));
    expect(b.stat(Stat.TASKS)).toBe(0);
    expect(await b.exec("(core/expr/await (core/event/pub B 1 again) B 1 100)")).toBe("again");
  });

  it("CH, TOPIC and TIMEOUT_MS are checked before EXPR runs", async () => {
    const b = await newBoard();
    const rec = record(b);
    const cases: Array<[string, string]> = [
      ["G 1", "core/expr/await: invalid channel"],
      ["EXEC 0", "core/expr/await: invalid channel"],
      ["$CHANNEL_EXEC 0", "core/expr/await: invalid channel"],
      ['"A" 1', "core/expr/await: invalid channel"],
      ["a 1", "core/expr/await: invalid channel"],
      ["1 1", "core/expr/await: invalid channel"],
      ["A 65536", "core/expr/await: topic must be an integer 0..65535"],
      ["A -1", "core/expr/await: topic must be an integer 0..65535"],
      ["A 1.0", "core/expr/await: topic must be an integer 0..65535"],
      ['A "1"', "core/expr/await: topic must be an integer 0..65535"],
      ["A 1 -1", "core/expr/await: timeout must be a non-negative integer"],
      ["A 1 2.5", "core/expr/await: timeout must be a non-negative integer"],
      ['A 1 "10"', "core/expr/await: timeout must be a non-negative integer"],
      ["Z 70000 -1", "core/expr/await: invalid channel"],
      ["A 70000 -1", "core/expr/await: topic must be an integer 0..65535"],
      ["$nope 1", "unbound variable: $nope"],
      ["A $nope", "unbound variable: $nope"],
      ["A 1 $nope", "unbound variable: $nope"],
      ["A", "core/expr/await: expected 3 or 4 arguments"],
      ["A 1 2 3", "core/expr/await: expected 3 or 4 arguments"],
    ];
    for (const [args, msg] of cases) {
      expect(await timed(b, `(core/expr/await (core/util/log "expr ran") ${args})`), args).toEqual([`@"${msg}"`, 0]);
    }
    expect(await b.exec("(core/expr/await)")).toBe('@"core/expr/await: expected 3 or 4 arguments"');
    expect(rec.logs).toEqual([]);
    expect(b.stat(Stat.TASKS)).toBe(0);
  });
});
