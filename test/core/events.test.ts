// Pub/sub (assembly/events/*, assembly/eval/cmd_event.ts; SPEC.md sections 5 and 6):
// delivery order, handler contexts, handler errors, MAX_SUBS, the EXEC channel, host
// watches and queue backpressure.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BoardError } from "../../host/board/virtual-board.js";
import { Stat } from "../../host/image/image.js";
import { closeBoards, newBoard, record, requireImage } from "./helpers.js";

beforeAll(requireImage);
afterEach(closeBoards);

describe("delivery order", () => {
  it("every subscriber of (CH, TOPIC) runs once, in subscription order", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 1 {(core/util/log "h1" $data)})');
    await b.exec('(core/event/sub B 1 {(core/util/log "other channel" $data)})');
    await b.exec('(core/event/sub A 1 {(core/util/log "h2" $data)})');
    await b.exec('(core/event/sub A 2 {(core/util/log "other topic" $data)})');
    await b.exec('(core/event/sub A 1 {(core/util/log "h3" $data)})');
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(5);
    rec.clear();
    expect(await b.exec('(core/event/pub A 1 "p")')).toBe("true");
    await b.drain();
    expect(rec.seen).toEqual(["=> true", "log: h1 p", "log: h2 p", "log: h3 p"]);
    rec.clear();
    await b.exec("(core/event/pub A 3 nobody)");
    await b.drain();
    expect(rec.seen).toEqual(["=> true"]);
  });

  it("events published during a request are delivered after it, in publish order", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 2 {(core/util/log "A" $data)})');
    await b.exec('(core/event/sub B 2 {(core/util/log "B" $data)})');
    rec.clear();
    const r = await b.exec(
      '(core/expr/eval {(core/event/pub A 2 1) (core/util/log "mid") (core/event/pub B 2 2) (core/event/pub A 2 3)}) (core/util/log "second form") (core/event/pub B 2 4)',
    );
    expect(r).toBe("true");
    await b.drain();
    // finishing a form is not a yield: the request runs on, its events wait for it
    expect(rec.seen).toEqual(["log: mid", "log: second form", "=> true", "log: A 1", "log: B 2", "log: A 3", "log: B 4"]);
  });

  it("the payload is evaluated when published", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/kv/set v "old")');
    await b.exec('(core/event/sub D 4 {(core/util/log "payload:" $data "store now:" (core/kv/get v))})');
    await b.exec('(core/util/log "form:" (core/event/pub D 4 (core/kv/get v)) (core/kv/set v "new"))');
    await b.drain();
    expect(rec.logs).toEqual(["form: true true", "payload: old store now: new"]);
  });

  it("a handler that publishes: its events come after the handlers already given an event", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 10 {(core/util/log "h1" $data) (core/event/pub B 10 "from h1")})');
    await b.exec('(core/event/sub A 10 {(core/util/log "h2" $data)})');
    await b.exec('(core/event/sub B 10 {(core/util/log "h3" $data)})');
    await b.exec('(core/event/pub A 10 "x")');
    await b.drain();
    expect(rec.logs).toEqual(["h1 x", "h2 x", "h3 from h1"]);
  });

  it("a handler that subscribes: the new consumer gets only later events", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 20 {(core/util/log "original" $data) (core/event/sub A 20 {(core/util/log "added" $data)})})');
    for (const n of [1, 2, 3]) {
      await b.exec(`(core/event/pub A 20 ${n})`);
      await b.drain();
    }
    expect(rec.logs).toEqual(["original 1", "original 2", "added 2", "original 3", "added 3", "added 3"]);
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(4);
  });

  it("a handler that re-publishes to itself runs until an error stops it", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/kv/set n 0)");
    await b.exec(
      '(core/event/sub A 30 {(core/util/log "tick" $data) (core/kv/cas n 0 1) (core/kv/cas n 1 2) (core/kv/get gate) (core/kv/del gate) (core/event/pub A 30 "again")})',
    );
    await b.exec("(core/kv/set gate open) (core/event/pub A 30 first)");
    await b.drain();
    expect(rec.logs).toEqual(["tick first", "tick again", "error: A/30: core/kv/get: key not found"]);
  });
});

describe("handler contexts", () => {
  it("$data, $channel (a symbol) and $topic (an integer) for every channel", async () => {
    const b = await newBoard();
    const rec = record(b);
    for (const ch of "ABCDEF") {
      await b.exec(`(core/event/sub $CHANNEL_${ch} 65535 {(core/kv/set ch $channel) (core/kv/set tp $topic) (core/kv/set dt $data) (core/util/log $channel $topic $data)})`);
      await b.exec(`(core/event/pub ${ch} 65535 [${ch} "x"])`);
      await b.drain();
      expect(await b.exec(`(core/kv/cas ch ${ch} ok) (core/kv/get ch)`)).toBe("ok"); // the symbol, not a string
      expect(await b.exec("(core/kv/cas tp 65535 ok) (core/kv/get tp)")).toBe("ok"); // the integer
      expect(await b.exec("(core/kv/get dt)")).toBe(`[${ch} "x"]`);
    }
    expect(rec.logs).toEqual([..."ABCDEF"].map((c) => `${c} 65535 [${c} "x"]`));
  });

  it("payloads of every kind arrive intact; strings are logged raw", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec("(core/event/sub C 0 {(core/util/log $data) (core/kv/set last $data)})");
    const payloads: Array<[string, string, string]> = [
      // [payload expr, logged, stored]
      ["42", "42", "42"],
      ["-2147483649", "-2147483649", "-2147483649"],
      ["2.50", "2.5", "2.5"],
      ["-0.0", "-0.0", "-0.0"],
      ['"a\\tb"', "a\tb", '"a\\tb"'],
      ["sym", "sym", "sym"],
      ["'(x y)", "(x y)", "(x y)"],
      ["{(core/util/log 1)}", "{(core/util/log 1)}", "{(core/util/log 1)}"],
      ["[1 \"two\" 3.0 [@e]]", '[1 "two" 3.0 [@e]]', '[1 "two" 3.0 [@e]]'],
      ["''q", "'q", "'q"],
      ["(core/kv/exists nope)", "false", "false"],
    ];
    for (const [expr, logged, stored] of payloads) {
      rec.clear();
      expect(await b.exec(`(core/event/pub C 0 ${expr})`)).toBe("true");
      await b.drain();
      expect(rec.logs, expr).toEqual([logged]);
      expect(await b.exec("(core/kv/get last)"), expr).toBe(stored);
    }
  });

  it("a handler starts in a fresh context: no $key, $result nil, the publisher's variables unseen", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub B 9 {(core/util/log "at start:" $result) 5 (core/util/log "after a form:" $result)})');
    await b.exec('"not seen by the handler"');
    await b.exec("(core/event/pub B 9 0)");
    await b.exec("(core/event/sub B 8 {(core/util/log $key)})");
    await b.exec("(core/kv/set k 1) (core/kv/iterate k 0 1 {(core/event/pub B 8 $key)})");
    await b.drain();
    expect(rec.logs).toEqual(["at start: nil", "after a form: 5", "error: B/8: unbound variable: $key"]);
    // and the handler's $result does not leak into the processor's context
    expect(await b.exec("$result")).toBe("true");
  });
});

describe("handler errors", () => {
  it("are logged as `error: CH/TOPIC: MESSAGE`; the subscription stays; other handlers still run", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec('(core/event/sub A 7 {(core/util/log "A7 before") @"boom" (core/util/log "never")})');
    await b.exec('(core/event/sub A 7 {(core/util/log "A7 second")})');
    await b.exec('(core/event/sub C 8 {@"say \\"quoted\\"\\nnext line"})');
    await b.exec("(core/event/sub C 9 {(core/kv/get nothing-here)})");
    await b.exec('(core/event/sub D 65535 {@[1 "a"]})');
    await b.exec("(core/event/sub E 0 {(core/event/pub G 1 1)})");
    await b.exec("(core/event/sub F 1 {(unknown-command)})");
    rec.clear();
    await b.exec("(core/event/pub A 7 0)");
    await b.exec("(core/event/pub A 7 0)");
    await b.exec("(core/event/pub C 8 0)");
    await b.exec("(core/event/pub C 9 0)");
    await b.exec("(core/event/pub D 65535 0)");
    await b.exec("(core/event/pub E 0 0)");
    await b.exec("(core/event/pub F 1 0)");
    await b.drain();
    expect(rec.logs).toEqual([
      "A7 before", "error: A/7: boom", "A7 second",
      "A7 before", "error: A/7: boom", "A7 second",
      'error: C/8: say "quoted"\nnext line',
      "error: C/9: core/kv/get: key not found",
      'error: D/65535: [1 "a"]',
      "error: E/0: core/event/pub: invalid channel",
      "error: F/1: unknown command: unknown-command",
    ]);
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(7);
    expect(b.stat(Stat.TASKS)).toBe(0);
  });
});

describe("MAX_SUBS", () => {
  it("64 subscriptions are held; the 65th is refused and nothing is registered by failed subs", async () => {
    const b = await newBoard();
    const rec = record(b);
    expect(await b.exec("(core/event/sub A 1 (x))")).toBe('@"core/event/sub: expected a body"');
    expect(await b.exec("(core/event/sub EXEC 1 {})")).toBe('@"core/event/sub: invalid channel"');
    expect(await b.exec("(core/event/sub A 65536 {})")).toBe('@"core/event/sub: topic must be an integer 0..65535"');
    expect(await b.exec("(core/event/sub A 1)")).toBe('@"core/event/sub: expected 3 arguments"');
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(0);
    for (let i = 0; i < 64; i++) expect(await b.exec(`(core/event/sub A ${i % 4} {(core/util/log "s${i}")})`)).toBe("true");
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(64);
    expect(await b.exec("(core/event/sub A 1 {})")).toBe('@"core/event/sub: too many subscriptions"');
    expect(await b.exec("(core/event/sub B 9 {(core/util/log 1)})")).toBe('@"core/event/sub: too many subscriptions"');
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(64);
    // all 64 still work, each once, in order
    rec.clear();
    await b.exec("(core/event/pub A 3 0)");
    await b.drain();
    expect(rec.logs).toEqual(Array.from({ length: 16 }, (_, j) => `s${4 * j + 3}`));
  });
});

describe("the EXEC channel", () => {
  it("string, body and call-list payloads become requests; results are dropped; errors are logged", async () => {
    const b = await newBoard();
    const rec = record(b);
    const results: string[] = [];
    b.on("result", (_req, text) => results.push(text));
    expect(await b.exec('(core/event/pub $CHANNEL_EXEC 0 "(core/util/log \\"exec string\\") 42")')).toBe("true");
    expect(await b.exec('(core/event/pub EXEC 0 {(core/util/log "exec body") (core/util/log "second form")})')).toBe("true");
    expect(await b.exec("(core/event/pub EXEC 0 '(core/util/log \"exec call list\"))")).toBe("true");
    expect(await b.exec('(core/event/pub EXEC 0 "(core/kv/set from-exec 1) 42")')).toBe("true");
    await b.drain();
    expect(rec.logs).toEqual(["exec string", "exec body", "second form", "exec call list"]);
    expect(results).toEqual(["true", "true", "true", "true"]); // only the host's requests answer
    expect(await b.exec("(core/kv/get from-exec)")).toBe("1");
    // an EXEC request runs in its processor's context: $result chains like a host request's
    await b.exec('(core/event/pub EXEC 0 "(core/kv/set x 1) 42")');
    await b.drain();
    expect(await b.exec("$result")).toBe("42");
    rec.clear();
    await b.exec('(core/event/pub EXEC 0 "(core/kv/get nothing-here)")');
    await b.exec('(core/event/pub EXEC 0 "(oops")');
    await b.exec('(core/event/pub EXEC 0 {(core/util/log "a") @"exec failed" (core/util/log "b")})');
    await b.exec("(core/event/pub EXEC 0 '(nope 1))");
    await b.drain();
    expect(rec.logs).toEqual([
      "error: EXEC/0: core/kv/get: key not found",
      "error: EXEC/0: parse: unclosed ( at 0",
      "a",
      "error: EXEC/0: exec failed",
      "error: EXEC/0: unknown command: nope",
    ]);
    // the payload must be code
    for (const p of ["42", "4.5", "[core/util/log x]", "'sym", "(core/kv/exists x)", "[]"]) {
      expect(await b.exec(`(core/event/pub EXEC 0 ${p})`), p).toBe('@"core/event/pub: EXEC payload must be code"');
    }
  });

  it("a request queued by EXEC runs after the current one, in publish order", async () => {
    const b = await newBoard();
    const rec = record(b);
    await b.exec(
      '(core/expr/eval {(core/event/pub EXEC 0 "(core/util/log \\"one\\")") (core/util/log "the form runs first") (core/event/pub EXEC 0 "(core/util/log \\"two\\")")})',
    );
    await b.exec('(core/event/pub EXEC 0 {(core/event/pub EXEC 0 {(core/util/log "nested request")}) (core/util/log "outer request")})');
    await b.drain();
    expect(rec.logs).toEqual(["the form runs first", "one", "two", "outer request", "nested request"]);
  });

  it("the topic names a processor (processors: 2)", async () => {
    const b = await newBoard({ processors: 2 });
    const rec = record(b);
    expect(await b.exec('(core/event/pub EXEC 1 "(core/kv/set on1 yes) 7")')).toBe("true");
    await b.drain();
    expect(await b.exec("(core/kv/get on1)")).toBe("yes");
    // processor 1's context got the EXEC request's $result; processor 0's did not
    expect(await b.exec("$result", { processor: 1 })).toBe("7");
    expect(await b.exec("$result", { processor: 0 })).toBe("yes");
    await b.exec('(core/event/pub EXEC 1 "(core/kv/get nope)")');
    await b.exec('(core/event/pub EXEC 0 "(core/kv/get nope)")', { processor: 1 });
    await b.drain();
    expect(rec.logs).toEqual(["error: EXEC/1: core/kv/get: key not found", "error: EXEC/0: core/kv/get: key not found"]);
    const bad: Array<[string, string]> = [
      ["2", "no processor 2"],
      ["7", "no processor 7"],
      ["8", "no processor 8"],
      ["65535", "no processor 65535"],
      ["65536", "topic must be an integer 0..65535"],
      ["-1", "topic must be an integer 0..65535"],
      ["1.0", "topic must be an integer 0..65535"],
    ];
    for (const [t, msg] of bad) expect(await b.exec(`(core/event/pub EXEC ${t} "1")`), t).toBe(`@"core/event/pub: ${msg}"`);
    // the processor is checked before the payload is evaluated
    rec.clear();
    expect(await b.exec('(core/event/pub EXEC 2 (core/util/log "evaluated"))')).toBe('@"core/event/pub: no processor 2"');
    expect(rec.logs).toEqual([]);
  });
});

describe("host watches", () => {
  it("watch() delivers the events of a channel and topic with printed payloads", async () => {
    const b = await newBoard();
    const events: string[] = [];
    b.on("event", (ch, topic, payload) => events.push(`${ch}/${topic} ${payload}`));
    b.watch("A", 1);
    b.watch("B", "*");
    b.watch(3, 7); // C
    await b.exec('(core/event/pub A 1 "x\\n") (core/event/pub A 2 no) (core/event/pub B 0 [1 2.0]) (core/event/pub B 65535 \'q)');
    await b.exec("(core/event/pub C 7 {a}) (core/event/pub C 8 no) (core/event/pub D 1 no) (core/event/pub EXEC 0 \"1\")");
    await b.drain();
    expect(events).toEqual(['A/1 "x\\n"', "B/0 [1 2.0]", "B/65535 q", "C/7 {a}"]);
    // with a subscriber too: both get it
    const rec = record(b);
    await b.exec("(core/event/sub A 1 {(core/util/log handler $data)})");
    events.length = 0;
    await b.exec("(core/event/pub A 1 5)");
    await b.drain();
    expect(events).toEqual(["A/1 5"]);
    expect(rec.logs).toEqual(["handler 5"]);
    // stopping a watch
    b.watch("A", 1, false);
    b.watch("B", "*", false);
    events.length = 0;
    await b.exec("(core/event/pub A 1 6) (core/event/pub B 3 6) (core/event/pub C 7 6)");
    await b.drain();
    expect(events).toEqual(["C/7 6"]);
    expect(() => b.watch("G", 1)).toThrow(BoardError);
    expect(() => b.watch("A", 65536)).toThrow(BoardError);
  });
});

describe("queue backpressure", () => {
  it("queue: 4 — a request publishing 100 events completes; all 100 handler runs happen, in order", async () => {
    const b = await newBoard({ queue: 4 });
    const rec = record(b);
    await b.exec('(core/event/sub A 1 {(core/util/log "h" $data)})');
    let body = "";
    for (let i = 0; i < 100; i++) body += `(core/event/pub A 1 ${i})`;
    rec.clear();
    expect(await b.exec(`(core/expr/eval {${body}}) (core/util/log "done")`)).toBe("true");
    await b.drain();
    // The publisher waits at the 5th event: the 4 queued ones go to their handler tasks,
    // which run before it resumes, and so on; its last 4 events are handled after it.
    const want = [...Array.from({ length: 96 }, (_, i) => `log: h ${i}`), "log: done", "=> true", ...[96, 97, 98, 99].map((i) => `log: h ${i}`)];
    expect(rec.seen).toEqual(want);
    expect(b.stat(Stat.QUEUED)).toBe(0);
    expect(b.stat(Stat.TASKS)).toBe(0);
  });

  it("queue: 4 with a loop of publishes from iterate, and from a handler", async () => {
    const b = await newBoard({ queue: 4, maxInput: 1 << 16 });
    const rec = record(b);
    let sets = "";
    for (let i = 0; i < 50; i++) sets += `(core/kv/set k${String(i).padStart(2, "0")} ${i})`;
    await b.exec(sets);
    await b.exec("(core/event/sub B 2 {(core/kv/set last $data) (core/util/log $data)})");
    await b.exec('(core/event/sub C 3 {(core/kv/iterate "k" 0 50 {(core/event/pub B 2 $key)})})');
    rec.clear();
    expect(await b.exec("(core/event/pub C 3 go)")).toBe("true");
    await b.drain();
    expect(rec.logs).toEqual(Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, "0")}`));
    expect(await b.exec("(core/kv/get last)")).toBe('"k49"');
  });
});
