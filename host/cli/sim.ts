// sxs sim: a virtual board behind a pseudo-terminal. The first line of stdout is the
// path a tool should open (nothing comes before it); the board serves the link of
// docs/link.md there until SIGINT, SIGTERM or the end of stdin.

import { existsSync, fstatSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSim } from "../board/sim.js";
import { hex8, rollbackReasonText } from "../board/slots.js";
import { buildImage, IMAGE_MAGIC } from "../link/image-header.js";
import { ABI_VERSION, defaultImagePath, packageRoot } from "../image/image.js";
import { flag, intOption, stringOption } from "./args.js";
import { ExitCode, UsageError, type CliCommand, type CliIO, type ParsedArgs } from "./command.js";
import { ENGINES, firmwareBoardArgv, firmwareMissing, startEngineBoard, type FirmwareBoard } from "./engine.js";
import { jsonLine } from "./output.js";

export const sim: CliCommand = {
  name: "sim",
  summary: "Serve a virtual board on a pseudo-terminal (prints the port's path first).",
  usage: "sim [options]",
  options: [
    { name: "flash", type: "string", valueName: "FILE", description: "the board's flash file, kept across runs (default: a fresh temporary one)" },
    { name: "image", type: "string", valueName: "FILE", description: "image (.img, or a bare .wasm) installed on a blank flash (default: build/sxs.wasm)" },
    { name: "processors", type: "integer", valueName: "N", min: 1, max: 8, description: "processors on the virtual board (1..8, default 1)" },
    { name: "max-input", type: "integer", valueName: "BYTES", min: 64, max: 2 ** 30, description: "longest request text (default 16384)" },
    { name: "max-steps", type: "integer", valueName: "N", min: 1, max: 2 ** 31 - 1, description: "evaluation steps per task (default 1000000)" },
    { name: "link-idle", type: "integer", valueName: "MS", min: 0, max: 2 ** 31 - 1, description: "back to text mode after MS without a frame (default 30000; 0 never)" },
    { name: "clock", type: "string", valueName: "CLOCK", description: "real (default) or virtual: time jumps to the next timer when idle, as in transcripts" },
    { name: "json", type: "boolean", description: "after the path, report boots, sessions and flashing as JSON lines on stdout" },
    { name: "engine", type: "string", valueName: "ENGINE", description: "v8 (this process, default), wasm3 (the Linux firmware) or qemu (the firmware on an emulated RISC-V board); npm run build:firmware builds both" },
  ],
  details: [
    "The first line of stdout is the path of the pseudo-terminal to open (/dev/pts/N):",
    "  sxs sim &    then    sxs repl --port /dev/pts/N    or    picocom /dev/pts/N",
    "The board starts in text mode (a line REPL: type a form, get `=> VALUE`; Ctrl-C",
    "interrupts); `sxs` switches it to framed mode (docs/link.md). It keeps serving until",
    "SIGINT, SIGTERM or end of stdin (stdin from /dev/null does not stop it).",
    "",
    "The flash holds two image slots, the K/V store and the boot record (docs/link.md",
    "section 13). A blank flash gets --image installed into slot 0; a flash that already",
    "holds an image keeps it (change it with `sxs flash`). Diagnostics go to stderr.",
    "",
    "Exit codes: 0 stopped, 2 usage error, 3 board failure.",
  ].join("\n"),

  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const engine = stringOption(args, "engine") ?? "v8";
    if (engine === "wasm3" || engine === "qemu") return await runFirmwareSim(engine, args, io);
    if (engine !== "v8") throw new UsageError(`unknown engine ${engine} (${ENGINES.join(", ")})`);
    const json = flag(args, "json");
    const clock = stringOption(args, "clock") ?? "real";
    if (clock !== "real" && clock !== "virtual") throw new UsageError(`unknown clock ${clock} (real or virtual)`);
    const say = (s: string): void => void io.stderr.write(`sxs sim: ${s}\n`);

    // the image for a blank flash
    const imageOpt = stringOption(args, "image");
    const imagePath = imageOpt !== undefined ? resolve(io.cwd, imageOpt) : defaultImagePath();
    let install: Uint8Array;
    try {
      install = imageFile(new Uint8Array(readFileSync(imagePath)));
    } catch (e) {
      io.stderr.write(`sxs sim: cannot read the image ${imagePath}: ${(e as Error).message}` + (imageOpt === undefined ? " (build it with npm run build:image)" : "") + "\n");
      return ExitCode.BOARD;
    }

    const flashOpt = stringOption(args, "flash");
    let tempDir: string | undefined;
    let flashPath: string;
    if (flashOpt !== undefined) flashPath = resolve(io.cwd, flashOpt);
    else {
      tempDir = mkdtempSync(join(tmpdir(), "sxs-sim-"));
      flashPath = join(tempDir, "flash.bin");
    }
    const flashExisted = existsSync(flashPath);
    const cleanup = (): void => {
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    };

    const early: unknown[] = [];
    let pathShown = false;
    let simRun: Awaited<ReturnType<typeof startSim>>;
    try {
      simRun = await startSim({
        flash: flashPath,
        install,
        firmware: `sxs-sim ${version()}`,
        clock,
        ...(intOption(args, "processors") !== undefined ? { processors: intOption(args, "processors")! } : {}),
        ...(intOption(args, "max-input") !== undefined ? { maxInput: intOption(args, "max-input")! } : {}),
        ...(intOption(args, "max-steps") !== undefined ? { maxSteps: intOption(args, "max-steps")! } : {}),
        ...(intOption(args, "link-idle") !== undefined ? { linkIdleMs: intOption(args, "link-idle")! } : {}),
        diag: (line) => {
          if (!json) say(line);
        },
        status: (ev) => {
          if (json && pathShown) io.stdout.write(jsonLine(ev));
          else if (json) early.push(ev);
          else if (ev.kind === "boot" && ev.rollback)
            say(`rolled back: image ${hex8(ev.rollback.failedCrc)} failed (${rollbackReasonText(ev.rollback.reason)})`);
        },
      });
    } catch (e) {
      cleanup();
      io.stderr.write(`sxs sim: ${(e as Error).message}\n`);
      return ExitCode.BOARD;
    }
    // the contract: the path is the first line of stdout
    io.stdout.write(simRun.path + "\n");
    pathShown = true;
    for (const ev of early) io.stdout.write(jsonLine(ev));
    const s = simRun.server;
    if (json) io.stdout.write(jsonLine({ kind: "serving", port: simRun.path, flash: tempDir ? null : flashPath, slot: s.slot, image: s.header ? hex8(s.header.wasmCrc) : null, abi: ABI_VERSION }));
    else {
      say(`serving ${simRun.path}: ${s.banner()}; flash ${tempDir ? "temporary" : flashPath}`);
      if (imageOpt !== undefined && flashExisted && s.header?.wasmCrc !== headerCrc(install))
        say(`note: the flash already holds an image, so --image was not installed (use sxs flash)`);
    }

    await waitForStop(io);
    simRun.close();
    cleanup();
    if (!json) say("stopped");
    return ExitCode.OK;
  },
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** An image file: as is when it has the SXSI header, else a bare Wasm module wrapped in one. */
function imageFile(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 4 && IMAGE_MAGIC.every((v, i) => bytes[i] === v)) return bytes;
  return buildImage(bytes, { abiVersion: ABI_VERSION, buildTime: Math.floor(Date.now() / 1000) });
}

function headerCrc(file: Uint8Array): number {
  return new DataView(file.buffer, file.byteOffset).getUint32(16, true);
}

/** Resolves on SIGINT, SIGTERM, or the end of stdin (unless stdin is /dev/null or the like). */
function waitForStop(io: CliIO): Promise<void> {
  return new Promise((done) => {
    let off = (): void => {};
    const stop = (): void => {
      off();
      done();
    };
    const offInt = io.onInterrupt(stop);
    const onTerm = (): void => stop();
    process.on("SIGTERM", onTerm);
    let watchStdin = true;
    try {
      // a character device that is not a terminal (/dev/null): no end worth watching
      const st = fstatSync(0);
      if (io.stdin === process.stdin && st.isCharacterDevice() && !process.stdin.isTTY) watchStdin = false;
    } catch {
      watchStdin = false;
    }
    const onEnd = (): void => stop();
    if (watchStdin) {
      io.stdin.on("end", onEnd);
      io.stdin.on("data", () => {});
      io.stdin.resume();
    }
    off = () => {
      offInt();
      process.off("SIGTERM", onTerm);
      io.stdin.off("end", onEnd);
      if (watchStdin) io.stdin.pause();
    };
  });
}

/**
 * --engine wasm3: the Linux firmware's own pty mode (same first-line contract), relayed;
 * --engine qemu: the firmware on the emulated RISC-V board, QEMU's UART pty relayed.
 */
async function runFirmwareSim(engine: "wasm3" | "qemu", args: ParsedArgs, io: CliIO): Promise<number> {
  const missing = firmwareMissing(engine);
  if (missing !== undefined) {
    io.stderr.write(`sxs sim: ${missing}\n`);
    return ExitCode.BOARD;
  }
  if (flag(args, "json")) throw new UsageError(`--json is not supported with --engine ${engine}`);
  const argv = firmwareBoardArgv(args, io, ["max-steps", "safe-mode"]);
  const clock = stringOption(args, "clock");
  if (clock !== undefined) {
    if (clock !== "real" && clock !== "virtual") throw new UsageError(`unknown clock ${clock} (real or virtual)`);
    argv.push("--clock", clock);
  }
  const idle = intOption(args, "link-idle");
  if (idle !== undefined) argv.push("--link-idle", String(idle));
  let board: FirmwareBoard;
  try {
    board = await startEngineBoard(engine, argv, { onStderr: (d) => io.stderr.write(d), onLine: (l) => io.stdout.write(l + "\n") });
  } catch (e) {
    io.stderr.write(`sxs sim: ${(e as Error).message}\n`);
    return ExitCode.BOARD;
  }
  io.stdout.write(board.path + "\n"); // the first line: the path a tool opens
  const say = (line: string): void => void io.stderr.write(`sxs sim: ${line}\n`);
  const what = engine === "qemu" ? "the firmware on QEMU (RISC-V)" : "the Linux firmware (wasm3)";
  say(`serving ${board.path}: ${what}; flash ${argv.includes("--flash") ? argv[argv.indexOf("--flash") + 1] : "temporary"}`);
  const outcome = await Promise.race([board.exited, waitForStop(io).then(() => null)]);
  if (outcome === null) {
    await board.stop();
    say("stopped");
    return ExitCode.OK;
  }
  // the firmware ended by itself (or was killed from outside): say how, so that a
  // crash is not mistaken for a clean stop
  const how = outcome.signal ?? `exit ${outcome.code}`;
  const clean = outcome.code === 0 || outcome.signal === "SIGTERM" || outcome.signal === "SIGINT";
  say(clean ? `${what} stopped (${how})` : `${what} failed (${how})`);
  return clean ? ExitCode.OK : ExitCode.BOARD;
}
