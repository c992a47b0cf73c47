// Opening the port: no DTR/RTS change unless asked (docs/link.md section 14), the lock
// choice, and the errors of open.
import { afterEach, describe, expect, it, vi } from "vitest";
import { SerialPort } from "serialport";
import { classifyOpenError, isPty, openSerialTransport } from "../../host/client/transport.js";
import { PortBusyError, PortNotFoundError, PortOpenError } from "../../host/client/errors.js";
import { openPty } from "./pty.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("opening without resetting the board", () => {
  it("opens with hupcl: false, lock: false on a pty, and never touches the modem lines", async () => {
    const pty = openPty();
    const open = vi.spyOn(SerialPort.binding, "open");
    const set = vi.spyOn(SerialPort.prototype, "set");
    try {
      const t = await openSerialTransport(pty.path, { baud: 921600 });
      expect(open).toHaveBeenCalledTimes(1);
      expect(open.mock.calls[0]![0]).toMatchObject({ path: pty.path, baudRate: 921600, hupcl: false, lock: false });
      t.write(Uint8Array.of(1, 2, 3));
      await t.drain();
      await t.close();
      expect(set).not.toHaveBeenCalled();
    } finally {
      pty.close();
    }
  });

  it("locks real ports by default; lock can be forced on a pty", async () => {
    expect(isPty("/dev/pts/3")).toBe(true);
    expect(isPty("/dev/ttyUSB0")).toBe(false);
    const pty = openPty();
    const open = vi.spyOn(SerialPort.binding, "open");
    try {
      const t = await openSerialTransport(pty.path, { lock: true });
      expect(open.mock.calls[0]![0]).toMatchObject({ lock: true, hupcl: false });
      await t.close();
    } finally {
      pty.close();
    }
  });

  it("--reset pulses RTS with DTR released (both always given, so set()'s defaults never assert DTR); a pty has no modem lines", async () => {
    const pty = openPty();
    const set = vi.spyOn(SerialPort.prototype, "set");
    try {
      const e = await openSerialTransport(pty.path, { reset: true }).catch((x: unknown) => x);
      expect(set.mock.calls[0]![0]).toEqual({ dtr: false, rts: true });
      expect(e).toBeInstanceOf(PortOpenError);
      expect((e as Error).message).toMatch(/cannot drive RTS\/DTR for --reset/);
    } finally {
      pty.close();
    }
  });
});

describe("open errors", () => {
  it("are typed from serialport's messages", () => {
    expect(classifyOpenError("/dev/x", new Error("Error: No such file or directory, cannot open /dev/x"))).toBeInstanceOf(PortNotFoundError);
    expect(classifyOpenError("/dev/x", new Error("Error Resource temporarily unavailable Cannot lock port"))).toBeInstanceOf(PortBusyError);
    const perm = classifyOpenError("/dev/x", new Error("Error: Permission denied, cannot open /dev/x"));
    expect(perm).toBeInstanceOf(PortOpenError);
    expect(perm.message).toMatch(/dialout/);
  });
});
