// Runs a LinkEndpoint against a byte transport and real or virtual timers: feeds it
// what arrives, hands complete messages to the application, writes what it has to
// send, and keeps its retransmission timer armed. The host library and the virtual
// board both sit on one of these.

import type { LinkEndpoint, EndpointEvent } from "./endpoint.js";
import { realTimers, type Timers } from "./emulator.js";
import type { RawMessage } from "./messages.js";

export interface DriverHooks {
  /** A complete message; return false to refuse it for now (busy): it is offered again at the next `kick`. */
  onMessage(m: RawMessage): boolean;
  /** Everything else the endpoint reports (ENTER, new session, INTERRUPT, drops, protocol errors). */
  onEvent?(e: EndpointEvent): void;
  /** The sender gave up: maxRetries timeouts without progress. */
  onDown?(): void;
}

export class LinkDriver {
  private timer: unknown;
  private timerAt = Infinity;
  private closed = false;
  private wasDown = false;
  private kicking = false;
  private again = false;

  constructor(
    readonly endpoint: LinkEndpoint,
    private readonly write: (b: Uint8Array) => void,
    private readonly hooks: DriverHooks,
    readonly timers: Timers = realTimers,
  ) {}

  /** Bytes from the line. */
  input(bytes: Uint8Array): void {
    if (this.closed) return;
    const evs = this.endpoint.receive(bytes, this.timers.now());
    for (const e of evs) this.hooks.onEvent?.(e);
    this.kick();
  }

  /** Queue a message and send what the window allows. */
  send(m: RawMessage): void {
    this.endpoint.send(m);
    this.kick();
  }

  /** Deliver, flush and re-arm the timer. Safe to call from inside the hooks. */
  kick(): void {
    if (this.closed) return;
    if (this.kicking) {
      this.again = true;
      return;
    }
    this.kicking = true;
    try {
      do {
        this.again = false;
        this.endpoint.deliver((m) => this.hooks.onMessage(m));
        for (const e of this.endpoint.takeEvents()) this.hooks.onEvent?.(e);
        const out = this.endpoint.flush(this.timers.now());
        if (out.length > 0) this.write(out);
      } while (this.again && !this.closed);
    } finally {
      this.kicking = false;
    }
    if (this.endpoint.down && !this.wasDown) {
      this.wasDown = true;
      this.hooks.onDown?.();
    }
    this.arm();
  }

  private arm(): void {
    const at = this.endpoint.nextDeadline();
    if (at === undefined) {
      if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.kick();
    }, Math.max(0, at - this.timers.now()));
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
