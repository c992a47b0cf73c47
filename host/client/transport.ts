// Byte transports under the link: a real serial port (serialport's native bindings) or any
// Duplex stream (the emulator's ends, in tests).
//
// Opening a port must not reset the board (docs/link.md section 14). What serialport 13
// does on Linux, read from @serialport/bindings-cpp:
//   - open(2) with O_NONBLOCK, then termios: raw, CLOCAL, and HUPCL *unless hupcl: false*
//     (HUPCL drops DTR and RTS when the last descriptor closes);
//   - flock(LOCK_EX | LOCK_NB) when `lock` is true (the default);
//   - it never calls set() (TIOCMSET) by itself. But set() fills the flags you leave out
//     from its defaults {dtr: true, rts: true, ...}: set({rts: true}) also asserts DTR.
// So we open with hupcl: false, never call set() unless asked to reset, and then always
// pass both dtr and rts. (The Linux kernel itself raises DTR and RTS together when a
// tty is opened; both asserted at once is the idle state of the ESP32 auto-reset circuit,
// which resets only when RTS is asserted with DTR released.)

import { stat } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { SerialPort } from "serialport";
import { LinkClosedError, PortBusyError, PortNotFoundError, PortOpenError } from "./errors.js";

/** A byte pipe to a board. */
export interface Transport {
  /** What the transport is connected to (a path, or a description). */
  readonly path: string;
  /** The line rate in baud, for pacing (ptys ignore it, real UARTs do not). */
  readonly baud: number;
  write(bytes: Uint8Array): void;
  onData(listener: (bytes: Uint8Array) => void): void;
  /** The transport closed by itself (cable pulled, pty gone): `err` says why. */
  onClose(listener: (err?: Error) => void): void;
  /** Resolves once everything written has been handed to the OS / the line. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface SerialOptions {
  /** Line rate; default 115200. */
  baud?: number;
  /**
   * Take an exclusive lock (flock) on the port so that a second tool gets "port busy".
   * Default: true, except on pseudo-terminals (/dev/pts/*), where locking is unreliable
   * (TOOLCHAIN-FACTS: re-opening a pty with lock: true fails intermittently).
   */
  lock?: boolean;
  /** Pulse the ESP32's EN through RTS (DTR released) after opening. Default false. */
  reset?: boolean;
  /** How long EN is held low by --reset, in ms (default 100). */
  resetPulseMs?: number;
}

export const DEFAULT_BAUD = 115200;

/** True for pseudo-terminal paths. */
export function isPty(path: string): boolean {
  return /^\/dev\/pts\/\d+$/.test(path) || /^\/dev\/tty[p-za-e][0-9a-f]$/.test(path);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Maps serialport's open errors ("Error: No such file or directory, cannot open X", "Cannot lock port"...) to typed ones. */
export function classifyOpenError(path: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (/cannot lock port|resource temporarily unavailable|EBUSY|device or resource busy/i.test(msg)) return new PortBusyError(path, { cause: e });
  if (/no such file or directory|ENOENT/i.test(msg)) return new PortNotFoundError(path, { cause: e });
  if (/permission denied|EACCES/i.test(msg))
    return new PortOpenError(path, "permission denied (on Linux, add yourself to the dialout group: sudo usermod -aG dialout $USER, then log in again)", { cause: e });
  return new PortOpenError(path, msg.replace(/^Error:?\s*/, ""), { cause: e });
}

/** Opens a serial port without touching DTR/RTS (unless `reset`). */
export async function openSerialTransport(path: string, opts: SerialOptions = {}): Promise<Transport> {
  const baud = opts.baud ?? DEFAULT_BAUD;
  try {
    await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new PortNotFoundError(path, { cause: e });
    // anything else: let open() report it
  }
  const lock = opts.lock ?? !isPty(path);
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false, lock, hupcl: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(classifyOpenError(path, err)) : resolve())));

  if (opts.reset) {
    // ESP32 auto-reset (esptool's hard reset): EN low = RTS asserted with DTR released; then release.
    const set = (dtr: boolean, rts: boolean) =>
      new Promise<void>((resolve, reject) => port.set({ dtr, rts }, (err) => (err ? reject(err) : resolve())));
    try {
      await set(false, true);
      await sleep(opts.resetPulseMs ?? 100);
      await set(false, false);
    } catch (e) {
      await new Promise<void>((r) => port.close(() => r()));
      throw new PortOpenError(path, `cannot drive RTS/DTR for --reset (${e instanceof Error ? e.message : String(e)}); a pseudo-terminal has no modem lines`, { cause: e });
    }
  }
  return new SerialTransport(port, path, baud);
}

class SerialTransport implements Transport {
  private closing = false;
  private closeListeners: Array<(err?: Error) => void> = [];
  private lastError: Error | undefined;

  constructor(
    private readonly port: SerialPort,
    readonly path: string,
    readonly baud: number,
  ) {
    port.on("error", (e: Error) => {
      this.lastError = e;
    });
    port.on("close", (e?: Error & { disconnected?: boolean }) => {
      if (this.closing) return;
      const err = e ?? this.lastError ?? new LinkClosedError(`${path} closed`);
      for (const l of this.closeListeners) l(new LinkClosedError(`${path} went away: ${err.message}`));
    });
  }

  write(bytes: Uint8Array): void {
    if (this.closing || !this.port.isOpen) return;
    this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.port.on("data", (d: Buffer) => listener(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  drain(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.drain(() => resolve()));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** A transport over a Duplex stream (the emulator's ends, a socket). */
export function streamTransport(stream: Duplex, opts: { path?: string; baud?: number } = {}): Transport {
  const closeListeners: Array<(err?: Error) => void> = [];
  let closing = false;
  stream.on("close", () => {
    if (!closing) for (const l of closeListeners) l(new LinkClosedError(`${opts.path ?? "stream"} closed`));
  });
  stream.on("error", () => {
    /* reported through close */
  });
  return {
    path: opts.path ?? "stream",
    baud: opts.baud ?? Infinity,
    write(b) {
      if (!closing && !stream.destroyed) stream.write(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    },
    onData(listener) {
      stream.on("data", (d: Buffer) => listener(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    drain() {
      return Promise.resolve();
    },
    async close() {
      closing = true;
      stream.destroy();
    },
  };
}
