// A pseudo-terminal pair for tests, from node-pty's native openpty (its high-level
// pty.open() is broken, TOOLCHAIN-FACTS.md). The test holds the master side; a tool opens
// `path` (the slave) with serialport. The slave descriptor is kept open here so that the
// master never sees EIO when the tool closes its side.
import { closeSync } from "node:fs";
import { createRequire } from "node:module";
import tty from "node:tty";

const require = createRequire(import.meta.url);
const native = require("node-pty/build/Release/pty.node") as { open(cols: number, rows: number): { master: number; slave: number; pty: string } };

export interface Pty {
  path: string;
  write(b: Uint8Array): void;
  onData(l: (b: Uint8Array) => void): void;
  /** Everything received so far. */
  received(): Uint8Array;
  close(): void;
}

export function openPty(): Pty {
  const t = native.open(80, 24);
  const sock = new tty.ReadStream(t.master);
  const chunks: Buffer[] = [];
  const listeners: Array<(b: Uint8Array) => void> = [];
  sock.on("data", (d: Buffer) => {
    chunks.push(d);
    for (const l of listeners) l(new Uint8Array(d));
  });
  sock.on("error", () => {});
  let closed = false;
  return {
    path: t.pty,
    write(b) {
      if (!closed) sock.write(Buffer.from(b));
    },
    onData(l) {
      listeners.push(l);
    },
    received() {
      return new Uint8Array(Buffer.concat(chunks));
    },
    close() {
      if (closed) return;
      closed = true;
      sock.destroy();
      try {
        closeSync(t.slave);
      } catch {
        /* already closed */
      }
    },
  };
}
