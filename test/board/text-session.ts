// One text-mode session (docs/link.md section 2), typed key by key, with what a board
// must write back. test/board/link.test.ts types it into the V8 board in process, and
// test/board/sim-pty.test.ts into `sxs sim` on every engine (V8, wasm3, QEMU): the
// boards must answer it byte for byte.
import { expect } from "vitest";

export interface TextStep {
  /** The bytes typed (latin1). */
  type: string;
  /** What the board writes back for them, exactly. */
  answer: string;
  /** Wait this long after the answer (with nothing more written meanwhile). */
  pauseMs?: number;
}

export const TEXT_SESSION: readonly TextStep[] = [
  { type: "\r", answer: "\r\n> " },
  // echo, then BS SP BS for DEL
  { type: "12x\x7f3\r", answer: "12x\b \b3\r\n=> 123\r\n> " },
  // an unclosed list asks for another line
  { type: "(core/util/log\r", answer: "(core/util/log\r\n.. " },
  // LF ends a line too; the string is still open, so another continuation prompt; a log
  // line's LF goes on without the prefix
  { type: ' "a\nb")\r', answer: ' "a\r\n.. b")\r\nlog: a\r\nb\r\n=> true\r\n> ' },
  // a blank line: a new prompt
  { type: "   \r", answer: "   \r\n> " },
  // arrow keys (CSI sequences) are ignored
  { type: "\x1b[A\x1b[D7\r", answer: "7\r\n=> 7\r\n> " },
  // Ctrl-C with nothing running discards the line
  { type: "abc\x03", answer: "abc^C\r\n> " },
  // a NUL discards the line being typed; CR LF is one line end
  { type: "99\x0012\r\n", answer: "9912\r\n=> 12\r\n> " },
  // BS erases, TAB is kept
  { type: '(core/kv/get\x08\x08\x08set t "\tx")\r', answer: '(core/kv/get\b \b\b \b\b \bset t "\tx")\r\n=> true\r\n> ' },
  { type: "(core/kv/get t)\r", answer: '(core/kv/get t)\r\n=> "\\tx"\r\n> ' },
  // a request that waits and a line typed behind it; nothing is answered meanwhile...
  { type: "(core/expr/await nil A 1 100000000)\r5\r", answer: "(core/expr/await nil A 1 100000000)\r\n5\r\n", pauseMs: 300 },
  // ...then Ctrl-C ends both, in order
  { type: "\x03", answer: '^C\r\n=> @"interrupted"\r\n=> @"interrupted"\r\n> ' },
  { type: "6\r", answer: "6\r\n=> 6\r\n> " },
  // a result that comes while a line is being typed goes on its own line, then the prompt
  // and the typed bytes again ("ab" is typed well before the await times out)
  { type: "(core/expr/await nil A 1 1500)\r", answer: "(core/expr/await nil A 1 1500)\r\n" },
  { type: "ab", answer: 'ab\r\n=> @"core/expr/await: timeout"\r\n> ab' },
  { type: "\x03", answer: "^C\r\n> " },
];

/**
 * Types TEXT_SESSION into a board whose output so far is `seen()` (the prompt already
 * shown), each step once the previous answer is complete; then requires the whole output
 * to be the answers, nothing more.
 */
export async function playTextSession(
  write: (bytes: Buffer) => void,
  seen: () => string,
  until: (pred: () => boolean, ms: number, what: string) => Promise<void>,
): Promise<void> {
  const start = seen().length;
  let want = "";
  for (const step of TEXT_SESSION) {
    want += step.answer;
    write(Buffer.from(step.type, "latin1"));
    // until the answer is complete, or the output has gone another way
    await until(
      () => {
        const got = seen().slice(start);
        return got.length >= want.length || !want.startsWith(got);
      },
      10_000,
      `${JSON.stringify(step.answer)} after typing ${JSON.stringify(step.type)}; got ${JSON.stringify(seen().slice(start))}`,
    );
    expect(seen().slice(start)).toBe(want);
    if (step.pauseMs) await new Promise((r) => setTimeout(r, step.pauseMs));
  }
  expect(seen().slice(start)).toBe(want);
}
