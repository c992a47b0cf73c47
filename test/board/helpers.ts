// Helpers for the board-side tests: images, a link server on the emulator, and a small
// host client built from host/link (an endpoint in the host role and its driver).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LinkServer, type LinkServerOptions } from "../../host/board/link-server.js";
import { NorFlash } from "../../host/board/flash.js";
import { ENTER_SEQUENCE } from "../../host/link/deframer.js";
import { LinkDriver } from "../../host/link/driver.js";
import { createLinkPair, realTimers, type LinkPair, type WireOptions } from "../../host/link/emulator.js";
import { LinkEndpoint } from "../../host/link/endpoint.js";
import { buildImage } from "../../host/link/image-header.js";
import { decodeRaw, encodeMessage, type BoardInfo, type Message } from "../../host/link/messages.js";
import { ABI_VERSION } from "../../host/image/image.js";
import { IMAGE, ROOT, fakeWasm } from "../host/helpers.js";

export { ROOT, IMAGE, fakeWasm };
export const te = new TextEncoder();
export const td = new TextDecoder();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let realWasm: Uint8Array | undefined;
/** build/sxs.wasm */
export function wasmBytes(): Uint8Array {
  realWasm ??= new Uint8Array(readFileSync(IMAGE));
  return realWasm;
}

/** build/sxs.wasm as an image file (header + Wasm). */
export function realImage(buildTime = 0): Uint8Array {
  return buildImage(wasmBytes(), { abiVersion: ABI_VERSION, buildTime });
}

export function fakeImage(o: Parameters<typeof fakeWasm>[0] = {}, abiVersion = ABI_VERSION): Uint8Array {
  return buildImage(fakeWasm(o), { abiVersion });
}

/** The host side of a framed session, on host/link. */
export class LinkClient {
  readonly ep = new LinkEndpoint({ role: "host" });
  readonly driver: LinkDriver;
  readonly messages: Message[] = [];
  /** Payloads of HELLO and INFO as received (with any appended fields). */
  readonly infoPayloads: Uint8Array[] = [];
  readonly hellos: BoardInfo[] = [];
  private waiters: Array<{ pred: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  private nextReq = 1;

  constructor(private readonly rawWrite: (b: Uint8Array) => void) {
    this.driver = new LinkDriver(
      this.ep,
      rawWrite,
      {
        onMessage: (raw) => {
          const m = decodeRaw(raw);
          this.messages.push(m);
          if (m.type === "HELLO" || m.type === "INFO") this.infoPayloads.push(raw.payload);
          if (m.type === "HELLO") this.hellos.push(m.info);
          for (const w of [...this.waiters]) {
            if (w.pred(m)) {
              this.waiters.splice(this.waiters.indexOf(w), 1);
              w.resolve(m);
            }
          }
          return true;
        },
      },
      realTimers,
    );
  }

  input(b: Uint8Array): void {
    this.driver.input(b);
  }

  /** ENTER, then wait for the HELLO of a new session (ENTER again every 1000 ms, 5 tries). */
  async connect(): Promise<BoardInfo> {
    const before = this.hellos.length;
    for (let i = 0; i < 5; i++) {
      this.ep.reset();
      this.rawWrite(ENTER_SEQUENCE);
      const t0 = Date.now();
      while (Date.now() - t0 < 1000) {
        if (this.hellos.length > before) return this.hellos[this.hellos.length - 1]!;
        await sleep(5);
      }
    }
    throw new Error("no HELLO");
  }

  send(m: Message): void {
    this.driver.send(encodeMessage(m));
  }

  req(): number {
    return this.nextReq++;
  }

  /** Mark `n` request ids (from the next one) as taken by the caller. */
  nextReqSkip(n: number): void {
    this.nextReq += n;
  }

  /** The next message (from now on, or already received when `past`) that satisfies `pred`. */
  waitFor(pred: (m: Message) => boolean, timeoutMs = 10000, what = "a message"): Promise<Message> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = (m: Message) => {
        clearTimeout(t);
        resolve(m);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Send `m` and wait for its answer (same req; OK, ERROR, RESULT, INFO or PONG). */
  async call(m: Message, timeoutMs = 10000): Promise<Message> {
    const p = this.waitFor((a) => a.req === m.req && ["OK", "ERROR", "RESULT", "INFO", "PONG"].includes(a.type), timeoutMs, `the answer to ${m.type} ${m.req}`);
    this.send(m);
    return p;
  }

  exec(text: string | Uint8Array, proc = 0): Promise<Message> {
    const t = typeof text === "string" ? te.encode(text) : text;
    return this.call({ type: "EXEC", req: this.req(), proc, textLength: t.length, text: t });
  }

  close(): void {
    this.driver.close();
  }
}

export interface Rig {
  server: LinkServer;
  client: LinkClient;
  pair: LinkPair;
  flash: NorFlash;
  /** Text the board wrote while in text mode (and everything else, as latin1). */
  raw: () => string;
  close(): void;
}

/** A link server on a fresh (or given) flash, joined to a LinkClient by the emulator. */
export async function rig(o: Partial<LinkServerOptions> & { wire?: WireOptions } = {}): Promise<Rig> {
  const flash = o.flash ?? NorFlash.memory();
  const pair = createLinkPair({ baud: Infinity, ...o.wire });
  const server = new LinkServer({ install: realImage(), linkIdleMs: 0, ...o, flash });
  const chunks: Buffer[] = [];
  server.attach((b) => pair.b.write(Buffer.from(b)));
  pair.b.on("data", (d: Buffer) => server.input(new Uint8Array(d)));
  const client = new LinkClient((b) => pair.a.write(Buffer.from(b)));
  pair.a.on("data", (d: Buffer) => {
    chunks.push(d);
    client.input(new Uint8Array(d));
  });
  await server.start();
  return {
    server,
    client,
    pair,
    flash,
    raw: () => Buffer.concat(chunks).toString("latin1"),
    close() {
      client.close();
      server.close();
      pair.close();
    },
  };
}

/** Polls `cond` every 5 ms until it holds (or throws after `timeoutMs`). */
export async function until(cond: () => boolean, timeoutMs = 10000, what = "a condition"): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const TRANSCRIPTS = join(ROOT, "test", "transcripts");
