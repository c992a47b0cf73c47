// Progress display for long transfers: a one-line bar redrawn in place on a TTY, plain
// lines (at most one per second and per 10 %) otherwise.

import type { Writable } from "node:stream";
import type { Style } from "./output.js";

export interface ProgressState {
  bytes: number;
  total: number;
  /** Bytes per second (0: unknown yet). */
  rate: number;
  /** Milliseconds to go (undefined: unknown yet). */
  etaMs: number | undefined;
  /** Words after the numbers, e.g. "verifying". */
  note?: string;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatRate(bytesPerSecond: number): string {
  if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) return "-";
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "--";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

export class ProgressBar {
  private lastLineAt = -Infinity;
  private lastDecile = -1;
  private drawn = false;
  private readonly width: number;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly style: Style,
    private readonly label: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.width = Math.max(10, Math.min(40, (out.columns ?? 80) - 60));
  }

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(p: ProgressState): void {
    const pct = p.total > 0 ? Math.min(100, (p.bytes * 100) / p.total) : 100;
    const numbers = `${formatBytes(p.bytes)}/${formatBytes(p.total)}  ${formatRate(p.rate)}  ETA ${formatDuration(p.etaMs)}`;
    if (this.tty) {
      const filled = Math.round((pct / 100) * this.width);
      const bar = this.style.result("#".repeat(filled)) + this.style.dim("-".repeat(this.width - filled));
      this.out.write(`\r\x1b[2K${this.label} [${bar}] ${pct.toFixed(0).padStart(3)}%  ${numbers}${p.note ? `  ${p.note}` : ""}`);
      this.drawn = true;
      return;
    }
    const decile = Math.floor(pct / 10);
    const t = this.now();
    if (decile === this.lastDecile && t - this.lastLineAt < 1000 && !p.note) return;
    if (decile === this.lastDecile && p.bytes < p.total && t - this.lastLineAt < 1000) return;
    this.lastDecile = decile;
    this.lastLineAt = t;
    this.out.write(`${this.label}: ${p.bytes}/${p.total} bytes (${pct.toFixed(0)}%), ${formatRate(p.rate)}, ETA ${formatDuration(p.etaMs)}${p.note ? `, ${p.note}` : ""}\n`);
  }

  /** Ends the bar's line (TTY). */
  done(): void {
    if (this.tty && this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
