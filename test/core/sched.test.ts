// The scheduler (assembly/sched/*, SPEC.md sections 4 and 6): processors, step slices,
// MAX_STEPS, interrupts, nesting bombs and memory that stays bounded.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VirtualBoard } from "../../host/board/virtual-board.js";
import { Stat } from "../../host/image/image.js";
import { closeBoards, newBoard, prng, record, requireImage } from "./helpers.js";

beforeAll(requireImage);
afterEach(closeBoards);

/** Sets `n` keys PREFIX000.. (values = their index). */
async function keys(b: VirtualBoard, prefix: string, n: number): Promise<void> {
  let forms = "";
  for (let i = 0; i < n; i++) {
    forms += `(core/kv/set ${prefix}${String(i).padStart(3, "0")} ${i})`;
    if (forms.length > 15000) {
      expect(await b.exec(forms)).toBe("true");
      forms = "";
    }
  }
  if (forms) expect(await b.exec(forms)).toBe("true");
}

/** Results in the order the board delivers them, by request id. */
function completions(b: VirtualBoard): number[] {
  const order: number[] = [];
  b.on("result", (req) => order.push(req));
  return order;
}

describe("processors", () => {
  it("each processor runs its requests one at a time, in order", async () => {
    const b = await newBoard({ processors: 3 });
    const rec = record(b);
    const subs = [];
    for (let i = 0; i < 30; i++) {
      const p = i % 3;
      subs.push(b.submit(`(core/util/log "p${p} r${i}") (core/kv/set last${p} ${i}) $result`, { processor: p }));
    }
    const results = await Promise.all(subs.map((s) => s.result));
    expect(results).toEqual(Array(30).fill("true"));
    for (const p of [0, 1, 2]) {
      const mine = rec.logs.filter((l) => l.startsWith(`p${p} `));
      expect(mine).toEqual(Array.from({ length: 10 }, (_, j) => `p${p} r${3 * j + p}`));
      expect(await b.exec(`(core/kv/get last${p})`)).toBe(String(27 + p));
    }
    // contexts are per processor: $result chains within one processor only
    await b.exec("111", { processor: 0 });
    await b.exec("222", { processor: 1 });
    expect(await b.exec("$result", { processor: 0 })).toBe("111");
    expect(await b.exec("$result", { processor: 1 })).toBe("222");
    expect(await b.exec("$result", { processor: 2 })).toBe("true");
  });

  it("a long request on processor 0 does not hold up processor 1", async () => {
    const b = await newBoard({ processors: 3 });
    await keys(b, "k", 200);
    const order = completions(b);
    const long = b.submit('(core/kv/iterate "k" 0 200 {(core/kv/iterate "k" 0 200 {1})}) (core/util/log "long done")', { processor: 0 });
    const behindLong = b.submit('"behind long"', { processor: 0 });
    const short1 = b.submit('"short on 1"', { processor: 1 });
    const short2 = b.submit('(core/kv/get k007)', { processor: 2 });
    expect(await Promise.all([long.result, behindLong.result, short1.result, short2.result])).toEqual(["true", '"behind long"', '"short on 1"', "7"]);
    expect(order).toEqual([short1.req, short2.req, long.req, behindLong.req]);
    // and the long one really was long: 200*200 body runs
    expect(b.stat(Stat.STEPS)).toBeGreaterThan(40_000);
  });
});

describe("step slices", () => {
  const runBoth = async (stepSlice: number | undefined): Promise<string[]> => {
    const b = await newBoard(stepSlice === undefined ? {} : { stepSlice });
    await keys(b, "k", 10);
    const rec = record(b);
    await b.exec('(core/event/sub A 1 {(core/kv/iterate "k" 0 10 {(core/util/log "h" $key)})})');
    rec.clear();
    expect(await b.exec('(core/event/pub A 1 0) (core/kv/iterate "k" 0 10 {(core/util/log "r" $key)})')).toBe("true");
    await b.drain();
    return rec.logs;
  };

  it("with the default slice a short request runs to its end before the handler it woke", async () => {
    const logs = await runBoth(undefined);
    expect(logs).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `r k00${i}`),
      ...Array.from({ length: 10 }, (_, i) => `h k00${i}`),
    ]);
  });

  it("with a small slice the request yields: the handler's lines and the request's interleave", async () => {
    for (const slice of [1, 5, 20]) {
      const logs = await runBoth(slice);
      const r = logs.filter((l) => l.startsWith("r "));
      const h = logs.filter((l) => l.startsWith("h "));
      expect(r).toEqual(Array.from({ length: 10 }, (_, i) => `r k00${i}`));
      expect(h).toEqual(Array.from({ length: 10 }, (_, i) => `h k00${i}`));
      // interleaved: the handler starts before the request ends, and the request goes on
      expect(logs.indexOf("h k000"), `slice ${slice}: ${logs.join(",")}`).toBeLessThan(logs.indexOf("r k009"));
      expect(logs.indexOf("r k000")).toBeLessThan(logs.indexOf("h k009"));
      if (slice === 1) {
        // the same steps per line in both: round-robin after every step makes them alternate
        expect(logs).toEqual(Array.from({ length: 10 }, (_, i) => [`r k00${i}`, `h k00${i}`]).flat());
      }
    }
  });
});

describe("MAX_STEPS", () => {
  it("counts one step per object evaluated, per task", async () => {
    const b = await newBoard({ maxSteps: 2 });
    const rec = record(b);
    expect(await b.exec("(core/util/log 1)")).toBe("true"); // the call and its argument
    expect(await b.exec("(core/util/log 1 2)")).toBe('@"step limit exceeded"');
    expect(await b.exec("1 2")).toBe("2");
    expect(await b.exec("1 2 3")).toBe('@"step limit exceeded"');
    expect(await b.exec("")).toBe("nil");
    // every request starts again from zero
    expect(await b.exec("(core/util/log 2)")).toBe("true");
    expect(rec.logs).toEqual(["1", "2"]);
  });

  it("bounds requests, handlers and EXEC requests alike", async () => {
    const b = await newBoard({ maxSteps: 100 });
    const rec = record(b);
    await keys(b, "s", 10);
    const big = '(core/kv/iterate "s" 0 10 {(core/kv/iterate "s" 0 10 {1})})';
    expect(await b.exec(big)).toBe('@"step limit exceeded"');
    expect(await b.exec('(core/kv/iterate "s" 0 10 {1})')).toBe("true");
    await b.exec(`(core/event/sub A 1 {${big}})`);
    await b.exec("(core/event/pub A 1 0)");
    await b.exec(`(core/event/pub EXEC 0 {${big}})`);
    await b.drain();
    expect(rec.logs).toEqual(["error: A/1: step limit exceeded", "error: EXEC/0: step limit exceeded"]);
    expect(b.stat(Stat.TASKS)).toBe(0);
  });

  it("the default 1,000,000: nested iterates over 800 keys", async () => {
    const b = await newBoard();
    await keys(b, "k", 800);
    expect(b.stat(Stat.KV_ENTRIES)).toBe(800);
    const s0 = b.stat(Stat.STEPS);
    // 800*800 runs of a one-form body: about 645,000 steps
    expect(await b.exec('(core/kv/iterate "" 0 1000 {(core/kv/iterate "" 0 1000 {1})})')).toBe("true");
    const used = b.stat(Stat.STEPS) - s0;
    expect(used).toBeGreaterThan(640_000);
    expect(used).toBeLessThan(1_000_000);
    // two forms per run: 1,280,000 steps
    const s1 = b.stat(Stat.STEPS);
    expect(await b.exec('(core/kv/iterate "" 0 1000 {(core/kv/iterate "" 0 1000 {1 2})})')).toBe('@"step limit exceeded"');
    const counted = b.stat(Stat.STEPS) - s1;
    expect(counted).toBeGreaterThanOrEqual(1_000_000);
    expect(counted).toBeLessThanOrEqual(1_000_001); // (the refused step may be counted)
    expect(await b.exec("(core/kv/get k799)")).toBe("799");
  }, 20_000);
});

describe("interrupts", () => {
  it("a running request stops with @\"interrupted\"", async () => {
    const b = await newBoard({ maxSteps: 0x7fffffff });
    await keys(b, "k", 100);
    const rec = record(b);
    const s = b.submit('(core/util/log "started") (core/kv/iterate "k" 0 100 {(core/kv/iterate "k" 0 100 {(core/kv/iterate "k" 0 100 {(core/kv/iterate "k" 0 100 {1})})})}) (core/util/log "never")');
    b.on("log", (t) => {
      if (t === "started") expect(b.interrupt(s.req)).toBe(true);
    });
    expect(await s.result).toBe('@"interrupted"');
    expect(rec.logs).toEqual(["started"]);
    expect(b.stat(Stat.STEPS)).toBeLessThan(100_000_000);
    expect(b.stat(Stat.TASKS)).toBe(0);
    expect(await b.exec("(core/kv/get k042)")).toBe("42");
    expect(b.interrupt(s.req)).toBe(false);
  });

  it("an awaiting request stops at once with @\"interrupted\"", async () => {
    const b = await newBoard({ clock: "real" });
    const t0 = Date.now();
    const s = b.submit("(core/expr/await 1 A 1 60000)");
    setTimeout(() => b.interrupt(s.req), 50);
    expect(await s.result).toBe('@"interrupted"');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(b.stat(Stat.TASKS)).toBe(0);
    // the waiter is gone: an event on (A, 1) finds nobody, and a new await works
    expect(await b.exec("(core/expr/await (core/event/pub A 1 here) A 1 1000)")).toBe("here");
  });

  it("a queued request is answered @\"interrupted\" without running", async () => {
    const b = await newBoard({ maxSteps: 0x7fffffff });
    await keys(b, "k", 60);
    const rec = record(b);
    const order = completions(b);
    const long = b.submit('(core/kv/iterate "k" 0 60 {(core/kv/iterate "k" 0 60 {(core/kv/iterate "k" 0 60 {1})})}) "long done"');
    const queued = b.submit('(core/util/log "queued ran") (core/kv/set queued-ran yes)');
    const after = b.submit('"after"');
    expect(b.interrupt(queued.req)).toBe(true);
    expect(await queued.result).toBe('@"interrupted"');
    expect(await long.result).toBe('"long done"');
    expect(await after.result).toBe('"after"');
    expect(order).toEqual([queued.req, long.req, after.req]);
    expect(rec.logs).toEqual([]);
    expect(await b.exec("(core/kv/exists queued-ran)")).toBe("false");
  });
});

describe("nesting bombs: `nesting too deep`, never a trap", () => {
  it("eval recursion through the store", async () => {
    const b = await newBoard();
    const rec = record(b);
    expect(await b.exec("(core/kv/set rec {(core/expr/eval (core/kv/get rec))}) (core/expr/eval (core/kv/get rec))")).toBe('@"nesting too deep"');
    expect(await b.exec('(core/kv/set recs "(core/expr/eval (core/kv/get recs))") (core/expr/eval (core/kv/get recs))')).toBe('@"nesting too deep"');
    // logs at levels 2..64 (63 lines); the log call at level 65 fails
    expect(await b.exec('(core/kv/set logrec {(core/util/log "level") (core/expr/eval (core/kv/get logrec))}) (core/expr/eval (core/kv/get logrec))')).toBe('@"nesting too deep"');
    expect(rec.logs).toEqual(Array(63).fill("level"));
    // in a handler and in an EXEC request: logged
    rec.clear();
    await b.exec("(core/event/sub A 1 {(core/expr/eval (core/kv/get rec))}) (core/event/pub A 1 0) (core/event/pub EXEC 0 (core/kv/get rec))");
    await b.drain();
    expect(rec.logs).toEqual(["error: A/1: nesting too deep", "error: EXEC/0: nesting too deep"]);
    expect(b.alive).toBe(true);
  });

  it("64 nested calls run; a call at level 65 fails", async () => {
    const b = await newBoard();
    const nest = (n: number) => "(core/expr/eval ".repeat(n) + "1" + ")".repeat(n);
    expect(await b.exec(nest(64))).toBe("1");
    // a string's forms run one level below the eval that runs it
    expect(await b.exec(`(core/expr/eval "${nest(63)}")`)).toBe("1");
    expect(await b.exec(`(core/expr/eval "${nest(64)}")`)).toBe('@"nesting too deep"');
    expect(await b.exec(`(core/expr/eval (core/expr/eval "${nest(62)}"))`)).toBe("1");
    expect(await b.exec(`(core/expr/eval (core/expr/eval "${nest(63)}"))`)).toBe('@"nesting too deep"');
    expect(await b.exec(nest(65))).toBe(`@"parse: nesting too deep at ${"(core/expr/eval ".length * 64}"`);
  });

  it("deep data lists: 64 levels are data like any other, 65 do not parse", async () => {
    const b = await newBoard();
    const rec = record(b);
    const d64 = "[".repeat(62) + "[1 {x} 'y]" + "]".repeat(62); // {x} at level 64
    expect(await b.exec(d64)).toBe(d64);
    // text inside a call is one level deeper; $result carries the 64-level list into the store
    expect(await b.exec("(core/kv/set deep $result) (core/kv/get deep)")).toBe(d64);
    expect(await b.exec("(core/kv/cas deep (core/kv/get deep) (core/kv/get deep))")).toBe("true");
    await b.exec("(core/event/sub A 2 {(core/util/log $data)})");
    await b.exec("(core/event/pub A 2 (core/kv/get deep))");
    await b.drain();
    expect(rec.logs).toEqual([d64]);
    expect(await b.exec("[" + d64 + "]")).toBe('@"parse: nesting too deep at 66"');
    const q = "'".repeat(200) + "x";
    expect(await b.exec(`(core/kv/set q ${"'".repeat(201)}x) (core/kv/get q)`)).toBe(q);
  });

  it("a request made of thousands of forms, or of very wide lists, is fine", async () => {
    const b = await newBoard({ maxInput: 1 << 20 });
    expect(await b.exec("1 ".repeat(100_000) + "2")).toBe("2");
    const wide = "[" + Array.from({ length: 50_000 }, (_, i) => i).join(" ") + "]";
    expect(await b.exec(wide)).toBe(wide);
    expect(b.alive).toBe(true);
  });
});

describe("memory stays bounded", () => {
  it("after 5,000 mixed requests heap in use returns to within a small margin of its value after the first 100", async () => {
    const b = await newBoard({ processors: 2, maxInput: 1 << 16 });
    const rec = record(b);
    await b.exec('(core/event/sub A 1 {(core/kv/set h:$data $data) (core/kv/del h:$data) (core/util/log "h" $data)})');
    await b.exec("(core/event/sub B 2 {(core/event/pub C 3 $data)})");
    await b.exec("(core/event/sub C 3 {(core/kv/get nothing)})");
    await b.exec("(core/event/sub D 4 {(core/expr/await 1 E 4 5)})");
    const r = prng(5000);
    const forms = [
      (i: number) => `(core/kv/set k${i % 50} [${i} "v${i}" ${i}.5 {x}]) (core/kv/get k${i % 50}) (core/kv/del k${i % 50})`,
      (i: number) => `(core/event/pub A 1 ${i})`,
      (i: number) => `(core/event/pub B 2 "${"x".repeat(i % 200)}")`,
      (i: number) => `(core/expr/await (core/event/pub E 5 ${i}) E 5 0)`,
      (i: number) => `(core/expr/await 1 F 5 ${i % 3})`,
      (i: number) => `(core/expr/eval "(core/kv/snx t${i % 7} ${i}) (core/kv/cas t${i % 7} ${i} [${i}]) (core/kv/del t${i % 7})")`,
      (i: number) => `(core/kv/set it1 1) (core/kv/set it2 2) (core/kv/iterate "it" 0 ${i % 3} {(core/kv/get $key)}) (core/kv/del it1) (core/kv/del it2)`,
      () => `(core/kv/get missing)`,
      () => `(unknown command) (core/util/log never)`,
      (i: number) => `(core/event/pub D 4 ${i}) (core/event/pub EXEC ${i % 2} "(core/util/log \\"exec\\") (core/kv/get nope)")`,
      (i: number) => `"unclosed ${i}`,
      (i: number) => `[${"[".repeat(i % 64)}${"]".repeat(i % 64)}] '${i} @"e${i}"`,
      (i: number) => `(core/kv/set big${i % 3} "${"y".repeat(900)}") (core/kv/del big${i % 3})`,
      (i: number) => `(core/kv/iterate "" 0 5 {(core/kv/iterate "" 0 5 {${i}})})`,
    ];
    const batch = async (from: number, to: number) => {
      const subs = [];
      for (let i = from; i < to; i++) subs.push(b.submit(r.pick(forms)(i), { processor: i % 2 }).result);
      await Promise.all(subs);
      await b.drain();
    };
    await batch(0, 100);
    const base = b.stat(Stat.HEAP_USED);
    const seen: number[] = [];
    for (let i = 100; i < 5000; i += 100) {
      await batch(i, i + 100);
      seen.push(b.stat(Stat.HEAP_USED));
    }
    expect(b.stat(Stat.TASKS)).toBe(0);
    expect(b.stat(Stat.QUEUED)).toBe(0);
    expect(b.stat(Stat.KV_ENTRIES)).toBe(0);
    expect(b.stat(Stat.SUBSCRIPTIONS)).toBe(4);
    const end = b.stat(Stat.HEAP_USED);
    // no leak: a byte per request would be ~5 KB by now; every checkpoint stays close too
    expect(Math.abs(end - base), `heap in use ${base} after 100 requests, ${end} after 5000`).toBeLessThan(512);
    expect(Math.max(...seen) - base, `checkpoints: ${seen.join(" ")}`).toBeLessThan(4096);
    expect(rec.logs.filter((l) => l === "exec").length).toBeGreaterThan(100);
  }, 30_000);
});
