// The transcript of a run (SPEC.md section 8), as raw bytes.
//
// Each top-level form of the file is its own request on processor 0 of one fresh board
// with a virtual clock. For each form: `log: TEXT` for the lines logged while it runs,
// `=> VALUE`, then `log: TEXT` for the lines logged while the board drains to idle. The
// forms come from the image (sxs_split); a file that does not parse gives the one line
// `=> ERROR` with the image's printed parse error. Text from the image is written as the
// bytes it gave, never re-encoded.

import { toBytes } from "../image/image.js";
import { VirtualBoard, type VirtualBoardOptions } from "./virtual-board.js";

const LOG = toBytes("log: ");
const RESULT = toBytes("=> ");
const LF = Uint8Array.of(0x0a);

export type TranscriptOptions = Omit<VirtualBoardOptions, "clock">;

/**
 * Runs `source` as SPEC.md section 8 describes, calling `write` with each chunk of the
 * transcript in order. Resolves when the last form's drain is over.
 */
export async function runTranscript(
  source: string | Uint8Array,
  write: (chunk: Uint8Array) => void,
  opts: TranscriptOptions = {},
): Promise<void> {
  const board = await VirtualBoard.create({ ...opts, clock: "virtual" });
  try {
    await transcriptOn(board, toBytes(source), write);
  } finally {
    board.close();
  }
}

/**
 * Like runTranscript, on a board the caller made (it should have a virtual clock). The
 * forms are cut by `splitter`, by default the board itself; the runner over the link
 * cuts them with a local image instead (host/client/transcript.ts), so that the board's
 * memory never holds the whole file: a splitter apart gives the same memory picture.
 */
export async function transcriptOn(
  board: VirtualBoard,
  bytes: Uint8Array,
  write: (chunk: Uint8Array) => void,
  splitter: VirtualBoard = board,
): Promise<void> {
  const line = (prefix: Uint8Array, body: Uint8Array): void => {
    const out = new Uint8Array(prefix.length + body.length + 1);
    out.set(prefix, 0);
    out.set(body, prefix.length);
    out.set(LF, prefix.length + body.length);
    write(out);
  };
  const split = splitter.splitBytes(bytes);
  if ("error" in split) {
    line(RESULT, toBytes(split.error));
    return;
  }
  const onLog = (_text: string, raw: Uint8Array): void => line(LOG, raw);
  const onResult = (_req: number, _text: string, raw: Uint8Array): void => line(RESULT, raw);
  board.on("log", onLog);
  board.on("result", onResult);
  try {
    for (const [start, end] of split.ranges) {
      const result = board.exec(bytes.subarray(start, end), { processor: 0 });
      await board.drain();
      await result; // settled during the drain; rethrows a board failure
    }
  } finally {
    board.off("log", onLog);
    board.off("result", onResult);
  }
}

/** The whole transcript as one string (for tests and tools). */
export async function transcriptText(source: string | Uint8Array, opts: TranscriptOptions = {}): Promise<string> {
  const chunks: Uint8Array[] = [];
  await runTranscript(source, (c) => chunks.push(c), opts);
  return Buffer.concat(chunks).toString("utf8");
}
