// Every transcript of test/transcripts over the link: the forms go as EXEC frames to a
// link server (the board side) through the emulator, and the LOG and RESULT frames that
// come back, in order, must give the same transcript as the same forms run on a
// VirtualBoard in process (host/board/transcript.ts).

import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { transcriptText } from "../../host/board/transcript.js";
import { VirtualBoard } from "../../host/board/virtual-board.js";
import { requireImage } from "../host/helpers.js";
import { TRANSCRIPTS, rig, until } from "./helpers.js";

const files = readdirSync(TRANSCRIPTS)
  .filter((f) => f.endsWith(".slp"))
  .sort()
  .map((f) => join(TRANSCRIPTS, f));

beforeAll(() => requireImage());

async function overLink(source: Uint8Array): Promise<string> {
  // the forms, as the in-process runner cuts them
  const splitter = await VirtualBoard.create({ clock: "virtual", flash: false });
  const split = splitter.splitBytes(source);
  splitter.close();
  if ("error" in split) return `=> ${split.error}\n`;
  const r = await rig({ clock: "virtual" });
  try {
    await r.client.connect();
    const lines: Buffer[] = [];
    const seen = () => r.client.messages.length;
    let from = seen();
    for (const [start, end] of split.ranges) {
      const reply = await r.client.exec(source.subarray(start, end));
      expect(reply.type).toBe("RESULT");
      // the board settles (handlers, timers on its virtual clock), and what it sent arrives
      await r.server.board!.drain();
      await until(() => r.server.ep.allAcknowledged, 5000, "the board's frames to be acknowledged");
      for (const m of r.client.messages.slice(from)) {
        if (m.type === "LOG") lines.push(Buffer.concat([Buffer.from("log: "), Buffer.from(m.text), Buffer.from("\n")]));
        else if (m.type === "RESULT") lines.push(Buffer.concat([Buffer.from("=> "), Buffer.from(m.value), Buffer.from("\n")]));
        else if (m.type !== "HELLO") throw new Error(`unexpected ${m.type}`);
      }
      from = seen();
    }
    return Buffer.concat(lines).toString("utf8");
  } finally {
    r.close();
  }
}

describe("transcripts over the link (emulator) = in process", () => {
  for (const f of files) {
    it(basename(f), async () => {
      const source = new Uint8Array(readFileSync(f));
      const want = await transcriptText(source);
      const got = await overLink(source);
      expect(got).toBe(want);
    }, 60_000);
  }
});
