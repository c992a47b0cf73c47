// The run loop and error paths of the virtual board, against a fake image (see helpers.ts):
// these run whether or not build/sxs.wasm exists.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BoardError, VirtualBoard } from "../../host/board/virtual-board.js";
import { SxsImage, ImageError } from "../../host/image/image.js";
import { tempDir, writeFakeImage } from "./helpers.js";

let fake: string;
beforeAll(() => {
  fake = writeFakeImage(join(tempDir("sxs-fake"), "fake.wasm"));
});

describe("virtual board on a fake image", () => {
  it("round-trips bytes and delivers the log before the result", async () => {
    const board = await VirtualBoard.create({ imagePath: fake });
    const seen: string[] = [];
    board.on("log", (t) => seen.push(`log ${t}`));
    board.on("result", (_r, t) => seen.push(`result ${t}`));
    expect(await board.exec("héllo")).toBe("héllo");
    expect(seen).toEqual(["log héllo", "result héllo"]);
    board.close();
  });

  it("retries when the image answers queue full, keeping the order", async () => {
    const board = await VirtualBoard.create({ imagePath: fake });
    const order: string[] = [];
    board.on("result", (_r, t) => order.push(t));
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => board.exec(`r${i}`)));
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(order).toEqual(all);
    expect(board.queueFullRetries).toBeGreaterThan(0);
    await board.drain();
    board.close();
  });

  it("rejects a request for a missing processor with a typed error", async () => {
    const board = await VirtualBoard.create({ imagePath: fake });
    const err = await board.exec("x", { processor: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe("no-processor");
    expect(await board.exec("still here")).toBe("still here");
    board.close();
  });

  it("surfaces a trap: outstanding requests reject, the board is dead, drain rejects", async () => {
    const board = await VirtualBoard.create({ imagePath: fake });
    const traps: BoardError[] = [];
    board.on("trap", (e) => traps.push(e));
    const doomed = board.exec("!boom");
    const queued = board.exec("after");
    await expect(doomed).rejects.toMatchObject({ name: "BoardError", code: "trap" });
    await expect(queued).rejects.toMatchObject({ code: "trap" });
    expect(traps).toHaveLength(1);
    expect(traps[0]!.message).toMatch(/trapped in sxs_run/);
    expect(board.alive).toBe(false);
    await expect(board.exec("x")).rejects.toMatchObject({ code: "trap" });
    await expect(board.drain()).rejects.toMatchObject({ code: "trap" });
  });

  it("close() rejects outstanding requests", async () => {
    const board = await VirtualBoard.create({ imagePath: fake });
    const p = board.exec("never");
    board.close();
    await expect(p).rejects.toMatchObject({ code: "closed" });
    await board.drain();
  });

  it("reports a missing image clearly", async () => {
    const err = await VirtualBoard.create({ imagePath: "/nonexistent/sxs.wasm" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe("load");
    expect((err as Error).message).toMatch(/cannot read the image/);
  });

  it("rejects a module that does not match the ABI", async () => {
    const module = await WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const host = { result() {}, log() {}, event() {}, now: () => 0 };
    await expect(SxsImage.load(host, { module })).rejects.toBeInstanceOf(ImageError);
  });
});
