// run --transcript over the link: the same output as the in-process transcript
// (host/board/transcript.ts, SPEC.md section 8), with the board at the other end of a
// line. The forms come from a local image (only the image parses SLP); each is sent as
// its own EXEC on processor 0, in order; after its RESULT the host waits until the board
// is idle (BoardClient.settle) before sending the next, as the in-process runner drains
// its board after each form. LOG and RESULT payloads are written as the bytes the board
// sent.

import type { VirtualBoard } from "../board/virtual-board.js";
import { toBytes } from "../image/image.js";
import type { BoardClient } from "./board-client.js";

const LOG = toBytes("log: ");
const RESULT = toBytes("=> ");

export async function transcriptOverLink(
  client: BoardClient,
  source: Uint8Array,
  write: (chunk: Uint8Array) => void,
  splitter: VirtualBoard,
): Promise<void> {
  const line = (prefix: Uint8Array, body: Uint8Array): void => {
    const out = new Uint8Array(prefix.length + body.length + 1);
    out.set(prefix, 0);
    out.set(body, prefix.length);
    out[prefix.length + body.length] = 0x0a;
    write(out);
  };
  const split = splitter.splitBytes(source);
  if ("error" in split) {
    line(RESULT, toBytes(split.error));
    return;
  }
  const onLog = (_t: string, raw: Uint8Array): void => line(LOG, raw);
  const onResult = (_req: number, _t: string, raw: Uint8Array): void => line(RESULT, raw);
  client.on("log", onLog);
  client.on("result", onResult);
  try {
    for (const [start, end] of split.ranges) {
      await client.exec(source.subarray(start, end), { processor: 0 });
      await client.settle();
    }
  } finally {
    client.off("log", onLog);
    client.off("result", onResult);
  }
}
