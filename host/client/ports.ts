// Which serial ports does this system have? serialport's list() (udev on Linux), and,
// where that cannot work (no udevadm: containers, CI), what /dev/serial/by-id and sysfs
// show without it.

import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { SerialPort } from "serialport";

export interface PortEntry {
  path: string;
  /** USB vendor and product id, 4 lowercase hex digits each, when known. */
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  /** The /dev/serial/by-id name pointing at this port, when there is one. */
  byId?: string;
  /** Where the entry came from. */
  source: "serialport" | "by-id" | "sysfs";
}

export interface PortList {
  ports: PortEntry[];
  /** Why the system's enumeration failed (e.g. "spawn udevadm ENOENT"), if it did. */
  enumerationError?: string;
}

/** Lists serial ports; never throws for "the system cannot enumerate". */
export async function listPorts(opts: { byIdDir?: string; sysClassTty?: string } = {}): Promise<PortList> {
  const byIdDir = opts.byIdDir ?? "/dev/serial/by-id";
  const byId = await readByIdLinks(byIdDir);
  try {
    const list = await SerialPort.list();
    const ports: PortEntry[] = list.map((p) => {
      const e: PortEntry = { path: p.path, source: "serialport" };
      if (p.vendorId) e.vendorId = p.vendorId.toLowerCase();
      if (p.productId) e.productId = p.productId.toLowerCase();
      if (p.manufacturer) e.manufacturer = p.manufacturer;
      if (p.serialNumber) e.serialNumber = p.serialNumber;
      const link = byId.get(p.path);
      if (link) e.byId = link;
      return e;
    });
    return { ports };
  } catch (e) {
    const enumerationError = e instanceof Error ? e.message : String(e);
    const ports: PortEntry[] = [];
    const seen = new Set<string>();
    if (process.platform === "linux") {
      for (const p of await sysfsPorts(opts.sysClassTty ?? "/sys/class/tty")) {
        const link = byId.get(p.path);
        if (link) p.byId = link;
        ports.push(p);
        seen.add(p.path);
      }
    }
    for (const [path, link] of byId) if (!seen.has(path)) ports.push({ path, byId: link, source: "by-id" });
    return { ports, enumerationError };
  }
}

/** /dev/serial/by-id/NAME -> target device path. */
async function readByIdLinks(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const link = join(dir, n);
    try {
      out.set(await realpath(link), link);
    } catch {
      try {
        out.set(resolve(dir, await readlink(link)), link);
      } catch {
        /* dangling */
      }
    }
  }
  return out;
}

/** USB serial devices from sysfs: ttyUSB*, ttyACM* and friends, with the ids of their USB device. */
async function sysfsPorts(root: string): Promise<PortEntry[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const out: PortEntry[] = [];
  for (const n of names.sort()) {
    if (!/^tty(USB|ACM|AMA|S|WCH|XRUSB|MFD|O)\d+$/.test(n) && !/^rfcomm\d+$/.test(n)) continue;
    let dev: string;
    try {
      dev = await realpath(join(root, n, "device"));
    } catch {
      continue; // a virtual tty (no device): not a port
    }
    const e: PortEntry = { path: `/dev/${n}`, source: "sysfs" };
    // Walk up to the USB device directory (the one with idVendor).
    for (let d = dev, i = 0; i < 6 && d !== "/"; d = dirname(d), i++) {
      const vid = await readTrim(join(d, "idVendor"));
      if (vid === undefined) continue;
      e.vendorId = vid.toLowerCase();
      const pid = await readTrim(join(d, "idProduct"));
      if (pid) e.productId = pid.toLowerCase();
      const m = await readTrim(join(d, "manufacturer"));
      if (m) e.manufacturer = m;
      const s = await readTrim(join(d, "serial"));
      if (s) e.serialNumber = s;
      break;
    }
    // Plain on-board UARTs (ttyS*) without a driver behind them are noise: keep only those with a device driver bound.
    if (/^ttyS\d+$/.test(n) && e.vendorId === undefined) {
      try {
        await readlink(join(root, n, "device", "driver"));
      } catch {
        continue;
      }
      if (!(await hasRealUart(join(root, n)))) continue;
    }
    out.push(e);
  }
  return out;
}

async function hasRealUart(ttyDir: string): Promise<boolean> {
  // serial8250 registers 4+ placeholder ports with type 0 (unknown): skip those.
  const t = await readTrim(join(ttyDir, "type"));
  return t !== undefined && t !== "0";
}

async function readTrim(p: string): Promise<string | undefined> {
  try {
    return (await readFile(p, "utf8")).trim();
  } catch {
    return undefined;
  }
}

/** One-line explanation for a failed enumeration. */
export function enumerationHint(err: string): string {
  if (/udevadm/.test(err) && /ENOENT/.test(err))
    return "this system cannot enumerate serial ports (no udev: udevadm is missing, as in containers); give the port with --port PATH";
  return `this system cannot enumerate serial ports (${err}); give the port with --port PATH`;
}
