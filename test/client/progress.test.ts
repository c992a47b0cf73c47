// The flash progress display: a bar redrawn in place on a TTY, plain lines otherwise.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatRate, ProgressBar } from "../../host/cli/progress.js";
import { makeStyle } from "../../host/cli/output.js";

function sink(tty: boolean): Writable & { isTTY?: boolean; columns?: number; text: () => string } {
  let s = "";
  const w = new Writable({
    write(chunk, _e, cb) {
      s += chunk.toString();
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text: () => string };
  w.isTTY = tty;
  w.columns = 100;
  w.text = () => s;
  return w;
}

describe("progress", () => {
  it("formats", () => {
    expect(formatBytes(100)).toBe("100 B");
    expect(formatBytes(32768)).toBe("32.0 KiB");
    expect(formatRate(9216)).toBe("9.0 KiB/s");
    expect(formatRate(0)).toBe("-");
    expect(formatDuration(65_000)).toBe("1m05s");
    expect(formatDuration(undefined)).toBe("--");
  });

  it("TTY: one line redrawn with \\r, bar, percent, bytes, rate and ETA", async () => {
    const out = sink(true);
    const bar = new ProgressBar(out, makeStyle(false), "flash");
    bar.update({ bytes: 0, total: 32768, rate: 0, etaMs: undefined });
    bar.update({ bytes: 16384, total: 32768, rate: 8192, etaMs: 2000 });
    bar.done();
    const t = out.text();
    expect(t.split("\r\x1b[2K")).toHaveLength(3);
    expect(t).toContain(`flash [${"#".repeat(20)}${"-".repeat(20)}]  50%  16.0 KiB/32.0 KiB  8.0 KiB/s  ETA 2s\n`);
  });

  it("not a TTY: plain lines, at most one per 10 % (and per second), the last one always", () => {
    const out = sink(false);
    let now = 0;
    const bar = new ProgressBar(out, makeStyle(false), "flash", () => now);
    for (let b = 0; b <= 100_000; b += 1000) {
      now += 10;
      bar.update({ bytes: b, total: 100_000, rate: 100_000, etaMs: 100_000 - b });
    }
    bar.done();
    const lines = out.text().trim().split("\n");
    expect(lines.length).toBe(11);
    expect(lines[0]).toBe("flash: 0/100000 bytes (0%), 97.7 KiB/s, ETA 1m40s");
    expect(lines.at(-1)).toBe("flash: 100000/100000 bytes (100%), 97.7 KiB/s, ETA 0s");
    expect(out.text()).not.toContain("\r");
  });
});
