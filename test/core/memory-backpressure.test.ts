// What the image does when memory runs short while it has work (docs/abi.md sxs_input and
// sxs_submit, docs/language.md "Events and scheduling"): the caller is told to come back
// after running (-1) rather than refused, -3 only when nothing running could give memory
// back, and events wait for memory rather than their handlers failing.
import { beforeAll, describe, expect, it } from "vitest";
import { Limit, Stat } from "../../host/image/image.js";
import { RawImage, bytes, latin1, newBoard, record, requireImage } from "./helpers";

beforeAll(requireImage);

const key = (i: number) => `key-${String(i).padStart(12, "0")}`;

/** Runs until idle; the answers so far as (req, text) pairs. */
function drain(img: RawImage): void {
  for (let i = 0; i < 10000 && img.x.sxs_run(1 << 20) === 1; i++);
  expect(img.x.sxs_run(1)).toBe(0);
}

/** A 1-page image whose store is full of 16-byte keys and values. */
async function fullOnePage(limits: Record<number, number> = {}): Promise<{ img: RawImage; n: number; req: () => number }> {
  const img = await RawImage.create({ [Limit.MAX_PAGES]: 1, ...limits });
  let next = 1;
  const req = () => next++;
  let n = 0;
  for (;;) {
    const r = req();
    expect(img.x.sxs_submit(r, 0, img.stage(bytes(`(core/kv/set ${key(n)} "val-${String(n).padStart(12, "0")}")`)))).toBe(0);
    drain(img);
    const answer = latin1(img.results.at(-1)![1]);
    if (answer !== "true") {
      expect(answer).toBe('@"core/kv/set: store full"');
      break;
    }
    n++;
  }
  return { img, n, req };
}

describe("memory backpressure", () => {
  it("a full store keeps STORE_RESERVE (8 KiB) in one piece, the key index's growth included", async () => {
    const { img, n } = await fullOnePage();
    expect(n).toBeGreaterThan(300);
    expect(img.x.sxs_stat(Stat.KV_ENTRIES)).toBe(n);
    expect(img.x.sxs_stat(9)).toBeGreaterThanOrEqual(8192); // the largest free block
    // so a 5,000-byte request is still taken in, parsed and answered
    expect(img.x.sxs_submit(9000, 0, img.stage(bytes("(".repeat(5000))))).toBe(0);
    drain(img);
    expect(latin1(img.results.at(-1)![1])).toBe('@"parse: nesting too deep at 64"');
  });

  it("no memory to stage a request: -1 (retry after sxs_run) while there is work, -3 when there is none", async () => {
    const { img, req } = await fullOnePage({ [Limit.MAX_INPUT]: 60000 });
    // idle: nothing will give memory back
    expect(img.x.sxs_input(50000)).toBe(0);
    expect(img.x.sxs_submit(req(), 0, 50000)).toBe(-3);
    // queue requests until the image asks for a run (they hold memory)
    const queued: number[] = [];
    for (;;) {
      const r = req();
      const s = img.x.sxs_submit(r, 0, img.stage(bytes(`(core/kv/get ${key(queued.length % 10)}) "${"p".repeat(200)}"`)));
      if (s === -1) break;
      expect(s).toBe(0);
      queued.push(r);
    }
    expect(queued.length).toBeGreaterThan(0);
    // now a staging failure is -1 too, and the staged length must still match for -4
    expect(img.x.sxs_input(50000)).toBe(0);
    expect(img.x.sxs_submit(req(), 0, 50000)).toBe(-1);
    expect(img.x.sxs_submit(req(), 0, 49999)).toBe(-4);
    drain(img);
    const answered = new Set(img.results.map(([r]) => r));
    expect(queued.every((r) => answered.has(r))).toBe(true);
  });

  it("-1 leaves the text staged: sxs_submit again after sxs_run takes it without staging it again", async () => {
    const { img, req } = await fullOnePage();
    let staged = 0;
    let refused = 0;
    for (let i = 0; i < 200 && !refused; i++) {
      staged = img.stage(bytes(`(core/kv/get ${key(i % 10)}) "${"q".repeat(200)}"`));
      refused = img.x.sxs_submit(req(), 0, staged) === -1 ? i : 0;
    }
    expect(refused).toBeGreaterThan(0);
    const again = req();
    expect(img.x.sxs_submit(again, 0, staged)).toBe(-1); // still no room, still staged
    drain(img);
    expect(img.x.sxs_submit(again, 0, staged)).toBe(0);
    expect(img.x.sxs_submit(req(), 0, staged)).toBe(-4); // consumed by the success
    drain(img);
    expect(latin1(img.results.find(([r]) => r === again)![1])).toBe(`"${"q".repeat(200)}"`);
  });

  it("on the virtual board, requests that wait for memory behind an await are taken in once its timeout passes", async () => {
    // the processor is held by an await (virtual clock); the burst cannot all be queued
    // on a full one-page store, so the board keeps the rest until time makes room
    const b = await newBoard({ maxPages: 1, flash: false });
    let n = 0;
    while ((await b.exec(`(core/kv/set ${key(n)} "val-${String(n).padStart(12, "0")}")`)) === "true") n++;
    const held = b.exec("(core/expr/await 1 A 1 2000)");
    const retries = b.queueFullRetries;
    const big = (i: number) => `(core/kv/get ${key(i)}) "${"w".repeat(1000)}"`;
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => b.exec(big(i))));
    expect(await held).toBe('@"core/expr/await: timeout"');
    expect(answers).toEqual(Array.from({ length: 12 }, () => `"${"w".repeat(1000)}"`));
    expect(b.queueFullRetries).toBeGreaterThan(retries);
  });

  it("EXEC code published to the publisher's own processor goes in while memory allows, then out of memory; what went in runs", async () => {
    // nothing can consume those entries while the publisher runs, so waiting for memory
    // would never end: the publisher is not kept waiting, it uses what is left
    const b = await newBoard({ maxPages: 1, flash: false });
    let n = 0;
    while ((await b.exec(`(core/kv/set ${key(n)} "val-${String(n).padStart(12, "0")}")`)) === "true") n++;
    const rec = record(b);
    const loop = (body: string) => `(core/kv/iterate "key-00000000000" 0 10 {${body}})`;
    expect(await b.exec(loop(loop(loop('(core/event/pub EXEC 0 {(core/util/log "ran")})'))))).toBe('@"out of memory"');
    await b.exec("1");
    expect(rec.logs.length).toBeGreaterThan(20);
    expect(new Set(rec.logs)).toEqual(new Set(["ran"]));
    expect(b.stat(Stat.QUEUED)).toBe(0);
    expect(await b.exec(`(core/kv/get ${key(1)})`)).toBe('"val-000000000001"');
  });

  it("10,000 events in one page: the publisher waits for memory, no handler fails, the last one published is seen last", async () => {
    const img = await RawImage.create({ [Limit.MAX_PAGES]: 1 });
    const run = (text: string) => {
      expect(img.x.sxs_submit(img.results.length + 1000, 0, img.stage(bytes(text)))).toBe(0);
      drain(img);
      return latin1(img.results.at(-1)![1]);
    };
    for (let i = 0; i < 10; i++) expect(run(`(core/kv/set s:${i} ${i})`)).toBe("true");
    expect(run("(core/event/sub F 9 {(core/kv/set lastseen $data)})")).toBe("true");
    const pubs = '(core/kv/iterate "s:" 0 10 {(core/kv/iterate "s:" 0 10 {(core/kv/iterate "s:" 0 10 {(core/kv/iterate "s:" 0 10 {(core/event/pub F 9 $key)})})})})';
    expect(run(pubs)).toBe("true");
    expect(img.logs.map(latin1)).toEqual([]);
    expect(run("(core/kv/get lastseen)")).toBe('"s:9"');
  });

  it("what a large request leaves behind does not shrink the store (idle buffers are kept up to KEEP_IDLE, 1 KiB, each)", async () => {
    // Store writes count the buffers kept between requests as in use: the staging buffer
    // used to keep a request's size up to 64 KiB, each parse scratch array up to 4 KiB and
    // the result's print text until the next result. A 1-page store of 300-byte values
    // then held 114 values fresh, 70 after one 16 KB request, 32 after a refused 30 KB one.
    const fill = async (before: [string, string] | null, name: (i: number) => string): Promise<number> => {
      const b = await newBoard({ maxPages: 1, flash: false });
      if (before !== null) expect(await b.exec(before[0])).toBe(before[1]);
      let n = 0;
      let r: string;
      while ((r = await b.exec(`(core/kv/set ${name(n)} "${"v".repeat(300)}")`)) === "true") n++;
      expect(r).toBe('@"core/kv/set: store full"');
      // the reserve is still there: a request runs, a read answers
      expect(await b.exec(`(core/kv/get ${name(n - 1)})`)).toBe(`"${"v".repeat(300)}"`);
      return n;
    };
    for (const name of [key, (i: number) => `k${i}`]) {
      const fresh = await fill(null, name);
      expect(fresh).toBeGreaterThan(100);
      expect(await fill([`(core/util/log "${"x".repeat(16000)}") 1`, "1"], name)).toBe(fresh); // staging
      // input too large: refused, but staged
      expect(await fill([`"${"x".repeat(30000)}"`, '@"parse: input too large at 16384"'], name)).toBe(fresh);
      // parse scratch: 16 KB of units, and a parse that grows it until memory runs out
      const quoted = (n: number) => `'(${"(a b) ".repeat(n)})`;
      expect(await fill([`${quoted(500)} 1`, "1"], name)).toBe(fresh);
      expect(await fill([quoted(2000), '@"out of memory"'], name)).toBe(fresh);
      const text = `"${"x".repeat(3000)}"`;
      expect(await fill([text, text], name)).toBe(fresh); // a 3 KB result's print text
    }
  });

  it("a small $result left by a large request does not keep the request's text alive", async () => {
    // $result outlives its request (SPEC.md section 4), per processor, and a value is a
    // view into the buffer it was parsed into: the `1` after 16 KB of text on processor 1
    // used to hold all 16 KB until processor 1 ran again, and a 1-page store filled from
    // processor 0 meanwhile held 66 of its 111 values. Now $result's own small block may
    // cost the last value (as after any small request on processor 1), no more.
    const value = `"${"v".repeat(300)}"`;
    const fill = async (before: string | null): Promise<number> => {
      const b = await newBoard({ maxPages: 1, flash: false, processors: 2 });
      if (before !== null) expect(await b.exec(before, { processor: 1 })).toBe("1");
      let n = 0;
      let r: string;
      while ((r = await b.exec(`(core/kv/set ${key(n)} ${value})`)) === "true") n++;
      expect(r).toBe('@"core/kv/set: store full"');
      if (before !== null) expect(await b.exec("$result", { processor: 1 })).toBe("1");
      return n;
    };
    const fresh = await fill(null);
    expect(fresh).toBeGreaterThan(100);
    expect(await fill(`(core/util/log "x") 1`)).toBeGreaterThanOrEqual(fresh - 1);
    expect(await fill(`(core/util/log "${"x".repeat(16000)}") 1`)).toBeGreaterThanOrEqual(fresh - 1);
    expect(await fill(`'(${"(a b) ".repeat(500)}) 1`)).toBeGreaterThanOrEqual(fresh - 1); // 16 KB of units
    // a $result that is most of its buffer is kept as it is (copying it would not help)
    const b = await newBoard({ maxPages: 1, flash: false });
    const big = `"${"y".repeat(3000)}"`;
    expect(await b.exec(`(core/kv/set k 1) ${big}`)).toBe(big);
    expect(await b.exec("$result")).toBe(big);
  });
});
