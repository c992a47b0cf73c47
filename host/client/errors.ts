// Typed errors of the host library (docs/link.md): everything that can go wrong between
// the tool and a board, each with a message a person can act on.

import { errorCodeName } from "../link/messages.js";

/** Base class: a failure of the link or the board (never an SLP error value: those are results). */
export class LinkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LinkError";
  }
}

/** The serial port path does not exist. */
export class PortNotFoundError extends LinkError {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`no serial port at ${path} (\`sxs ports\` lists the ports this system sees)`, options);
    this.name = "PortNotFoundError";
  }
}

/** Another program holds the port (its lock), or the OS says it is busy. */
export class PortBusyError extends LinkError {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`${path} is busy: another program has it open (a monitor, another sxs, a terminal)`, options);
    this.name = "PortBusyError";
  }
}

/** The port exists but cannot be opened (permissions, not a tty, ...). */
export class PortOpenError extends LinkError {
  constructor(readonly path: string, detail: string, options?: { cause?: unknown }) {
    super(`cannot open ${path}: ${detail}`, options);
    this.name = "PortOpenError";
  }
}

/** No HELLO after the ENTER tries, or the link went down (retransmissions exhausted). */
export class BoardNotAnsweringError extends LinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BoardNotAnsweringError";
  }
}

/** A request did not get its answer in time. */
export class TimeoutError extends LinkError {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** The board started a new session (it rebooted, or another tool sent ENTER) while a request was unanswered. */
export class BoardResetError extends LinkError {
  constructor(message = "the board reset (or another tool took over the link); the request may or may not have run") {
    super(message);
    this.name = "BoardResetError";
  }
}

/** The client was closed, or the port went away. */
export class LinkClosedError extends LinkError {
  constructor(message = "the link is closed") {
    super(message);
    this.name = "LinkClosedError";
  }
}

/** The board answered ERROR (docs/link.md section 10). */
export class BoardRefusedError extends LinkError {
  readonly codeName: string;
  constructor(
    readonly code: number,
    readonly detail: string,
    what: string,
  ) {
    super(`${what}: ${errorCodeName(code)}${detail ? `: ${detail}` : ""}`);
    this.name = "BoardRefusedError";
    this.codeName = errorCodeName(code);
  }
}

/**
 * An image was refused: by the host's own checks before sending (`local`), by the board
 * (ERROR code and message), or it failed to come up and the board rolled back.
 */
export class ImageRejectedError extends LinkError {
  readonly codeName: string;
  constructor(
    readonly code: number,
    readonly detail: string,
    readonly stage: "local" | "board" | "rollback",
  ) {
    const who = stage === "local" ? "image refused before sending" : stage === "board" ? "the board refused the image" : "the new image failed to start; the board rolled back";
    super(`${who}: ${errorCodeName(code)}${detail ? `: ${detail}` : ""}`);
    this.name = "ImageRejectedError";
    this.codeName = errorCodeName(code);
  }
}
