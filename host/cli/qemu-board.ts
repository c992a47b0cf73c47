// --engine qemu: the firmware cross-compiled for a 32-bit RISC-V microcontroller
// (firmware/ports/qemu-rv32), run by QEMU's riscv32 `virt` machine with the RAM of a
// plain ESP32. Its UART is a pseudo-terminal that QEMU creates; the tool reaches it over
// the serial link exactly as a board on --port. The flash is a host file (semihosting).

import { spawn } from "node:child_process";
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../image/image.js";
import { childBoard, type FirmwareBoard } from "./engine.js";

export const QEMU_SYSTEM = "qemu-system-riscv32";
/** QEMU's RAM: code, the board's RAM, the reset-info word and the flash mirror (board_qemu.c). */
const QEMU_MEMORY = "8M";
/** From QEMU's start to the firmware's "serving" (it compiles the image first: ~0.3 s here). */
const QEMU_BOOT_MS = 30_000;

/** The cross-compiled firmware, built by `npm run build:firmware` where the toolchain is installed. */
export function qemuFirmwarePath(): string {
  return process.env.SXS_QEMU_FIRMWARE ?? join(packageRoot(), "firmware", "target", "qemu-rv32", "sxs-fw.elf");
}

/** Why the qemu engine cannot start here, or undefined when it can. */
export function qemuMissing(): string | undefined {
  if (!existsSync(qemuFirmwarePath()))
    return `the qemu engine needs the RISC-V firmware at ${qemuFirmwarePath()}: install gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf, then run npm run build:firmware`;
  return undefined;
}

/** The QEMU command line for the firmware's own arguments (passed through semihosting). */
export function qemuArgv(elf: string, firmwareArgv: readonly string[]): string[] {
  const semi = ["enable=on", "target=native"];
  for (const a of firmwareArgv) {
    // the guest gets one command line, split at spaces; QEMU's option syntax doubles commas
    if (/\s/.test(a)) throw new Error(`the qemu engine cannot pass an argument with white space: ${JSON.stringify(a)}`);
    semi.push(`arg=${a.replace(/,/g, ",,")}`);
  }
  return ["-machine", "virt", "-m", QEMU_MEMORY, "-bios", "none", "-nographic", "-monitor", "none", "-serial", "pty",
    "-kernel", elf, "-semihosting-config", semi.join(",")];
}

/**
 * Starts QEMU with the firmware and resolves once its UART's pty is held open and the
 * firmware says it is serving; rejects with what the firmware said if it stops first.
 * `argv` is the firmware's (firmwareBoardArgv); without --flash a temporary flash file is
 * used and removed when the board stops. The firmware's own output (e.g. --report lines)
 * goes to `onStderr`. `elf` is another build of the port (e.g. the small-stack one).
 */
export function startQemuPty(
  argv: readonly string[],
  opts: { onStderr?: (chunk: string) => void; onLine?: (line: string) => void; elf?: string } = {},
): Promise<FirmwareBoard> {
  const elf = opts.elf ?? qemuFirmwarePath();
  let tempDir: string | undefined;
  const temp = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), "sxs-qemu-")));
  const fwArgv = [...argv];
  if (!fwArgv.includes("--flash")) fwArgv.push("--flash", join(temp(), "flash.bin"));
  const cleanup = (): void => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  };
  let qargv: string[];
  try {
    // The guest's command line is split at spaces: a file path with white space (a clone
    // in "My Projects") reaches it as a symbolic link in the temporary directory instead.
    // The firmware opens it through the host, which follows the link (and creates a
    // missing flash file where the link points).
    for (let i = 1; i < fwArgv.length; i++) {
      if ((fwArgv[i - 1] === "--flash" || fwArgv[i - 1] === "--image") && /\s/.test(fwArgv[i]!)) {
        const link = join(temp(), `${fwArgv[i - 1]!.slice(2)}-${i}${extname(fwArgv[i]!).replace(/\s/g, "")}`);
        symlinkSync(fwArgv[i]!, link);
        fwArgv[i] = link;
      }
    }
    qargv = qemuArgv(elf, fwArgv);
  } catch (e) {
    cleanup();
    return Promise.reject(e as Error);
  }
  return new Promise((resolveBoard, reject) => {
    const child = spawn(QEMU_SYSTEM, qargv, { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    let path: string | undefined;
    let holder: number | undefined;
    let served = false; // resolved or rejected
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on("close", (code, signal) => {
        if (holder !== undefined) closeSync(holder);
        holder = undefined;
        cleanup();
        r({ code, signal });
      }),
    );
    const fail = (why: string): void => {
      if (served) return;
      served = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      const said = err.replace(/^qemu-system-riscv32: terminating on signal.*$/m, "").trim();
      reject(new Error(`QEMU (${QEMU_SYSTEM}, ${elf}) ${why}${said ? `: ${said}` : ""}`));
    };
    // the firmware's console (semihosting) is QEMU's stderr: its first words are either
    // "serving" (booted, the link is up) or why it cannot start
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      opts.onStderr?.(d);
      if (served) return;
      err += d;
      maybeServing();
    });
    // the pty (stdout) and "serving" (stderr) come on two pipes, in either order
    const maybeServing = (): void => {
      if (served || path === undefined || !/sxs-fw qemu-rv32: serving/.test(err)) return;
      served = true;
      clearTimeout(timer);
      err = "";
      resolveBoard(childBoard(path, child, exited));
    };
    child.on("error", (e) => fail(`cannot start: ${e.message}${(e as NodeJS.ErrnoException).code === "ENOENT" ? " (install qemu-system-misc)" : ""}`));
    child.on("close", (code, signal) => fail(`exited before serving (${signal ?? `exit ${code}`})`));
    timer = setTimeout(() => fail(`did not start serving within ${QEMU_BOOT_MS} ms`), QEMU_BOOT_MS);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (path !== undefined) {
        opts.onLine?.(line);
        return;
      }
      const m = /char device redirected to (\/dev\/\S+)/.exec(line);
      if (!m) return;
      try {
        // keep the terminal's other end open, as a board's UART stays: a tool may close
        // and reopen the port without QEMU seeing a hang-up (and dropping the line)
        holder = openSync(m[1]!, constants.O_RDWR | constants.O_NOCTTY);
        path = m[1]!;
        maybeServing();
      } catch (e) {
        fail(`gave a pty that cannot be opened: ${(e as Error).message}`);
      }
    });
  });
}
