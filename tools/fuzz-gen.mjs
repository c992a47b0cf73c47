// The request generator shared by the fuzzers (tools/fuzz.mjs, tools/fuzz-engines.mjs):
// a seeded PRNG and forms built from the SLP grammar and the twelve commands, with keys
// and values near the limits, nested lists, quotes and errors, events, awaits, evals of
// stored code, memory hogs and nesting bombs. A round of a given seed always generates the
// same requests, so any failure is replayed from its seed and round.

// ---------------------------------------------------------------------------------------
// PRNG (mulberry32) and helpers

export function prng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  next.chance = (p) => next() < p;
  return next;
}

export const latin1 = (s) => Buffer.from(s, "latin1");

// ---------------------------------------------------------------------------------------
// The generator

const CHANNELS = ["A", "B", "C", "D", "E", "F", "$CHANNEL_A", "$CHANNEL_C", "$CHANNEL_F"];
const TOPICS = ["0", "1", "2", "3"];
const SINK = "9"; // a topic nobody subscribes to

export class Gen {
  constructor(r, processors) {
    this.r = r;
    this.processors = processors;
  }

  key() {
    const r = this.r;
    if (r.chance(0.7)) return r.chance(0.8) ? `k${r.int(10)}` : `"s:${r.int(5)}"`;
    switch (r.int(12)) {
      case 0: return '""';
      case 1: return "k".repeat(255);
      case 2: return "k".repeat(256);
      case 3: return "$key";
      case 4: return `"s:${r.int(5)}"`;
      case 5: return `(core/kv/get ptr${r.int(2)})`;
      case 6: return r.pick(["5", "[k]", "1.5"]);
      case 7: return `"\\x${r.int(256).toString(16).padStart(2, "0")}${r.int(3)}"`;
      default: return `k${r.int(10)}`;
    }
  }

  str() {
    const r = this.r;
    if (r.chance(0.05)) return '"' + "x".repeat(1018 + r.int(8)) + '"';
    if (r.chance(0.05)) return '"' + "\\x01".repeat(250 + r.int(10)) + '"';
    let s = '"';
    const n = r.int(12);
    for (let i = 0; i < n; i++) {
      const c = r.int(256);
      if (r.chance(0.3)) s += "\\x" + c.toString(16).padStart(2, "0");
      else if (c === 0x22 || c === 0x5c) s += "\\" + String.fromCharCode(c);
      else s += String.fromCharCode(c);
    }
    return s + (r.chance(0.5) ? r.pick(["\\n", "\\t", "\\0", "\\\\", '\\"']) : "") + '"';
  }

  atom() {
    const r = this.r;
    switch (r.int(10)) {
      case 0: return String(r.int(2000) - 1000);
      case 1: return r.pick(["2147483647", "2147483648", "-2147483649", "9223372036854775807", "-9223372036854775808", r.chance(0.1) ? "99999999999999999999" : "0"]);
      case 2: return r.pick(["1.5", "-0.0", "0.1", "1e21", "1e-7", "5e-324", "1.7976931348623157e308", r.chance(0.1) ? "1e999" : "2.5", ".5", "1."]);
      case 3: return this.str();
      case 4:
        if (r.chance(0.7)) return r.pick(["sym", "true", "false", "nil", "user:1", "-", "$result", "$CHANNEL_A"]);
        return r.pick(["$data", "$topic", "$channel", "$key", "$nope", "$CHANNEL_EXEC"]);
      case 5: return "'" + this.atom();
      case 6: return r.chance(0.3) ? r.pick(['@"e"', "@x", "'@x"]) : r.pick(["[@x]", "'(a @b)"]);
      default: return String(r.int(10));
    }
  }

  data(depth) {
    const r = this.r;
    if (depth > 3 || r.chance(0.4)) return this.atom();
    if (r.chance(0.01)) {
      const n = 56 + r.int(10); // around the 64-level limit
      return "[".repeat(n) + "]".repeat(n);
    }
    const open = r.pick(["[", "{", "'(", "["]);
    const close = open === "{" ? "}" : open === "[" ? "]" : ")";
    const items = [];
    for (let i = r.int(4); i > 0; i--) items.push(this.data(depth + 1));
    return open + items.join(" ") + close;
  }

  /** A value argument: data or a nested command. */
  value(depth, ctx) {
    return this.r.chance(depth < 3 ? 0.3 : 0.05) ? this.form(depth + 1, ctx) : this.data(depth);
  }

  body(depth, ctx) {
    const n = 1 + this.r.int(3);
    const forms = [];
    for (let i = 0; i < n; i++) forms.push(this.r.chance(0.7) ? this.form(depth + 1, ctx) : this.atom());
    return "{" + forms.join(" ") + "}";
  }

  /** Code as a string literal. */
  code(depth, ctx) {
    const text = this.form(depth + 1, ctx) + (this.r.chance(0.3) ? " " + this.form(depth + 1, ctx) : "");
    return '"' + text.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }

  /**
   * One form. ctx.handler: inside a handler body or an EXEC payload, where publishing to a
   * subscribed topic or running stored code could feed itself forever.
   */
  form(depth = 0, ctx = { handler: false }) {
    const r = this.r;
    if (depth > 5) return this.atom();
    const v = () => this.value(depth, ctx);
    const topic = () => (ctx.handler ? SINK : r.chance(0.9) ? r.pick(TOPICS) : r.pick(["65535", "65536", "-1", "1.0", "(core/kv/get t)"]));
    switch (r.int(24)) {
      case 0: case 1: case 2: return `(core/kv/set ${this.key()} ${v()})`;
      case 3: case 4: return `(core/kv/get ${this.key()})`;
      case 5: return `(core/kv/del ${this.key()})`;
      case 6: return `(core/kv/exists ${this.key()})`;
      case 7: return `(core/kv/snx ${this.key()} ${v()})`;
      case 8: return `(core/kv/cas ${this.key()} ${v()} ${v()})`;
      case 9: case 10: {
        const prefix = r.chance(0.05) ? "$key" : r.pick(['""', "k", '"s:"', "k1"]);
        const offset = r.chance(0.95) ? r.pick(["0", "1", "3"]) : "-1";
        const limit = r.chance(0.95) ? r.pick(["0", "2", "10", "100"]) : "x";
        return `(core/kv/iterate ${prefix} ${offset} ${limit} ${r.chance(0.95) ? this.body(depth, ctx) : "[x]"})`;
      }
      case 11: case 12: {
        const ch = r.chance(0.95) ? r.pick(CHANNELS) : r.pick(["G", "EXEC", "$CHANNEL_EXEC", "1"]);
        if (ch.includes("EXEC")) return this.exec(depth);
        return `(core/event/pub ${ch} ${topic()} ${v()})`;
      }
      case 13: return this.exec(depth);
      case 14: {
        if (ctx.handler) return `(core/kv/get ${this.key()})`;
        const ch = r.chance(0.95) ? r.pick(CHANNELS) : r.pick(["G", "EXEC"]);
        return `(core/event/sub ${ch} ${r.pick(TOPICS)} ${r.chance(0.95) ? this.body(depth, { handler: true }) : "(x)"})`;
      }
      case 15: case 16: {
        const what = r.int(5);
        if (what === 0) return `(core/expr/eval ${this.code(depth, ctx)})`;
        if (what === 1) return `(core/expr/eval ${this.body(depth, ctx)})`;
        if (what === 2 && !ctx.handler) return `(core/expr/eval (core/kv/get ${this.key()}))`;
        if (what === 3) return `(core/expr/eval '${this.form(depth + 1, ctx)})`;
        return `(core/expr/eval ${this.data(depth)})`;
      }
      case 17: case 18: {
        const ch = r.chance(0.95) ? r.pick(CHANNELS) : r.pick(["G", "EXEC"]);
        const t = r.chance(0.95) ? r.pick(TOPICS) : r.pick(["65536", "-1"]);
        const timeout = r.chance(0.1) ? "" : " " + (r.chance(0.95) ? r.pick(["0", "1", "5", "50"]) : r.pick(["-1", "x"]));
        const expr = r.chance(0.5) ? `(core/event/pub ${ch} ${ctx.handler ? SINK : t} ${v()})` : v();
        return `(core/expr/await ${expr} ${ch} ${t}${timeout})`;
      }
      case 19: case 20: {
        const args = [];
        for (let i = r.chance(0.05) ? 0 : 1 + r.int(3); i > 0; i--) args.push(v());
        return `(core/util/log${args.map((a) => " " + a).join("")})`;
      }
      case 21:
        if (r.chance(0.5)) {
          // memory hogs: many big values, big lists (store full, out of memory)
          const n = 1 + r.int(8);
          const forms = [];
          for (let i = 0; i < n; i++) forms.push(`(core/kv/set h${r.int(400)} "${"x".repeat(900 + r.int(120))}")`);
          if (r.chance(0.3)) forms.push(`(core/kv/set hl [${Array.from({ length: 200 }, (_, i) => i).join(" ")}])`);
          return forms.join(" ");
        }
        return r.pick(["(nope)", "()", "((a) b)", '("x")', "(core/kv/set k)", "(core/expr/await 1)", "(core/kv/iterate)"]);
      case 22: {
        if (ctx.handler) return this.atom();
        // nesting bombs
        return r.pick([
          "(core/kv/set rec {(core/expr/eval (core/kv/get rec))}) (core/expr/eval (core/kv/get rec))",
          '(core/kv/set recs "(core/expr/eval (core/kv/get recs))") (core/expr/eval (core/kv/get recs))',
          "(core/expr/eval ".repeat(64) + "1" + ")".repeat(64),
          "(core/expr/eval ".repeat(65) + "1" + ")".repeat(65),
          "(core/kv/set ptr0 rec) (core/kv/set ptr1 \"s:1\")",
        ]);
      }
      default: return this.data(depth);
    }
  }

  exec(depth) {
    const r = this.r;
    const p = r.chance(0.9) ? String(r.int(this.processors)) : r.pick(["8", "65535", "-1"]);
    const payload = r.pick([this.code(depth, { handler: true }), this.body(depth, { handler: true }), "'" + this.form(depth + 1, { handler: true }), "42"]);
    return `(core/event/pub ${r.pick(["EXEC", "$CHANNEL_EXEC"])} ${p} ${payload})`;
  }

  request() {
    const r = this.r;
    const roll = r.int(20);
    if (roll === 0) {
      // random bytes
      const n = r.int(200);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = r.int(256);
      return b;
    }
    if (roll === 1) {
      const alphabet = latin1("()[]{}\"'@;\\ \n\tx1.e-+$:\x80\xff");
      const n = r.int(300);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = alphabet[r.int(alphabet.length)];
      return b;
    }
    const forms = [];
    for (let i = 1 + r.int(3); i > 0; i--) forms.push(this.form(0));
    return latin1(forms.join(r.pick([" ", "\n", " ; comment\n"])));
  }
}
