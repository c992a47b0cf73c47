// `sxs sim`: the virtual board behind a pseudo-terminal, so that a serial tool (sxs,
// picocom, screen) can open it like a board's USB-serial port.
//
// The pty pair comes from node-pty's native `open()` (its high-level `pty.open()` also
// reads the slave side, which would steal the tool's bytes). The slave side is put in
// raw mode (no echo, no line discipline, no CR/LF mapping) and one descriptor of it is
// kept open, unread, for the life of the sim: without it, the master reads EIO whenever
// no tool has the port open. The link server reads and writes the master side.

import { spawnSync } from "node:child_process";
import { closeSync, write as fsWrite } from "node:fs";
import { createRequire } from "node:module";
import tty from "node:tty";
import { NorFlash } from "./flash.js";
import { LinkServer, type LinkServerOptions } from "./link-server.js";

const require = createRequire(import.meta.url);

interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

/** One pseudo-terminal pair: the master side as a byte stream, the slave's path for tools. */
export interface Pty {
  /** The path a tool opens (the slave side), e.g. /dev/pts/3. */
  readonly path: string;
  write(bytes: Uint8Array): void;
  onData(handler: (bytes: Uint8Array) => void): void;
  close(): void;
}

/** Bytes written to the master side but not yet taken by the kernel, beyond which output is dropped (nobody reads the port). */
const MAX_BACKLOG = 1 << 20;

/**
 * Sets the slave side of a pty to raw mode through serialport's native binding (the
 * same termios setup a tool gets when it opens the port with serialport: no echo, no
 * ICANON/ISIG, no output processing); `stty` when the binding cannot be loaded.
 */
async function makeRaw(path: string): Promise<void> {
  try {
    const { autoDetect } = require("@serialport/bindings-cpp") as typeof import("@serialport/bindings-cpp");
    const binding = autoDetect();
    const port = await binding.open({ path, baudRate: 115200, lock: false, hupcl: false });
    await port.close();
    return;
  } catch (e) {
    const r = spawnSync("stty", ["-F", path, "raw", "-echo", "-hupcl"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cannot put ${path} in raw mode: ${(e as Error).message}; stty: ${r.stderr || r.error?.message}`);
  }
}

export async function openPty(): Promise<Pty> {
  let native: NativePty;
  try {
    native = require("node-pty/build/Release/pty.node") as NativePty;
  } catch (e) {
    throw new Error(`node-pty's native module is not built (npm rebuild node-pty): ${(e as Error).message}`);
  }
  const { master, slave, pty: path } = native.open(80, 24);
  try {
    await makeRaw(path);
  } catch (e) {
    closeSync(master);
    closeSync(slave);
    throw e;
  }
  const reader = new tty.ReadStream(master);
  const handlers: Array<(b: Uint8Array) => void> = [];
  let closed = false;
  reader.on("data", (d: Buffer) => {
    const b = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    for (const h of handlers) h(b);
  });
  reader.on("error", () => {
    /* EIO and the like: nothing to read now */
  });

  // writes go straight to the descriptor (a net.Socket over a pty can block on EAGAIN)
  const queue: Buffer[] = [];
  let queued = 0;
  let writing = false;
  const pump = (): void => {
    if (writing || closed) return;
    const head = queue[0];
    if (!head) return;
    writing = true;
    fsWrite(master, head, 0, head.length, null, (err, n) => {
      writing = false;
      if (closed) return;
      if (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
          setTimeout(pump, 2); // the tool is not reading: wait for room
          return;
        }
        queue.length = 0; // the line is gone
        queued = 0;
        return;
      }
      queued -= n;
      if (n >= head.length) queue.shift();
      else queue[0] = head.subarray(n);
      pump();
    });
  };

  return {
    path,
    write(bytes) {
      if (closed || bytes.length === 0) return;
      if (queued + bytes.length > MAX_BACKLOG) return; // like a UART nobody listens to
      queue.push(Buffer.from(bytes));
      queued += bytes.length;
      pump();
    },
    onData(h) {
      handlers.push(h);
    },
    close() {
      if (closed) return;
      closed = true;
      reader.destroy(); // closes the master
      try {
        closeSync(slave);
      } catch {
        /* already closed */
      }
    },
  };
}

export interface SimOptions extends Omit<LinkServerOptions, "flash"> {
  /** The flash file (kept); a NorFlash; default: a blank flash in memory. */
  flash?: string | NorFlash;
}

export interface Sim {
  readonly path: string;
  readonly server: LinkServer;
  readonly pty: Pty;
  close(): void;
}

/** Boots a link server on a fresh pty and serves it until `close`. */
export async function startSim(opts: SimOptions): Promise<Sim> {
  const flash = opts.flash instanceof NorFlash ? opts.flash : opts.flash !== undefined ? NorFlash.file(opts.flash) : NorFlash.memory();
  const ownsFlash = !(opts.flash instanceof NorFlash);
  const server = new LinkServer({ ...opts, flash });
  let pty: Pty;
  try {
    pty = await openPty();
  } catch (e) {
    if (ownsFlash) flash.close();
    throw e;
  }
  server.attach((b) => pty.write(b));
  pty.onData((b) => server.input(b));
  try {
    await server.start();
  } catch (e) {
    server.close();
    pty.close();
    if (ownsFlash) flash.close();
    throw e;
  }
  return {
    path: pty.path,
    server,
    pty,
    close() {
      server.close();
      pty.close();
      if (ownsFlash) flash.close();
    },
  };
}
