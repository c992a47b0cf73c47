// sxs ports: the serial ports this system has, with their USB ids.

import { enumerationHint, listPorts, type PortEntry } from "../client/ports.js";
import { flag } from "./args.js";
import { ExitCode, UsageError, type CliCommand } from "./command.js";
import { jsonLine, makeStyle, useColour, writeAsync } from "./output.js";

/** Well-known USB-serial chips on ESP32 boards. */
const KNOWN: Record<string, string> = {
  "10c4:ea60": "Silicon Labs CP210x",
  "1a86:7523": "WCH CH340",
  "1a86:55d4": "WCH CH9102",
  "0403:6001": "FTDI FT232R",
  "0403:6010": "FTDI FT2232",
  "0403:6015": "FTDI FT231X",
  "303a:1001": "Espressif USB JTAG/serial",
  "303a:0002": "Espressif USB CDC",
};

function describe(p: PortEntry): string {
  const id = p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : undefined;
  const parts = [id ? `usb ${id}` : "no USB id"];
  const known = id ? KNOWN[id] : undefined;
  if (p.manufacturer) parts.push(p.manufacturer);
  else if (known) parts.push(known);
  if (p.serialNumber) parts.push(`serial ${p.serialNumber}`);
  if (p.byId) parts.push(p.byId);
  return parts.join("  ");
}

export const ports: CliCommand = {
  name: "ports",
  summary: "List the serial ports with their USB vendor/product ids.",
  usage: "ports [options]",
  options: [{ name: "json", type: "boolean", description: "print one JSON object: {\"ports\": [...], \"error\"?}" }],
  details: [
    "Lists what the system enumerates (udev on Linux). Where it cannot enumerate (no udev, as",
    "in containers), says so in one line and lists what /dev/serial/by-id and sysfs show.",
    "Exit code 0 either way.",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const json = flag(args, "json");
    const list = await listPorts();
    if (json) {
      await writeAsync(io.stdout, jsonLine({ ports: list.ports, ...(list.enumerationError ? { error: list.enumerationError } : {}) }));
      return ExitCode.OK;
    }
    const style = makeStyle(useColour(io.stdout, io.env));
    if (list.enumerationError) io.stderr.write(`sxs ports: ${enumerationHint(list.enumerationError)}\n`);
    if (list.ports.length === 0) {
      if (!list.enumerationError) io.stdout.write(style.dim("no serial ports found") + "\n");
      await writeAsync(io.stdout, "");
      return ExitCode.OK;
    }
    const width = Math.max(...list.ports.map((p) => p.path.length));
    for (const p of list.ports) io.stdout.write(`${style.bold(p.path.padEnd(width))}  ${describe(p)}\n`);
    await writeAsync(io.stdout, "");
    return ExitCode.OK;
  },
};
