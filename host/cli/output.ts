// Output helpers shared by the subcommands: colour only on a TTY (and never with NO_COLOR),
// JSON lines for --json, and the plain text forms of results, log lines and events.

import type { Writable } from "node:stream";

/** True when `stream` should get ANSI colours: a TTY, NO_COLOR unset or empty, TERM not dumb. */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0") return true;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

export interface Style {
  readonly colour: boolean;
  result(s: string): string;
  error(s: string): string;
  log(s: string): string;
  event(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string): string =>
  on ? `\x1b[${open}m${s}\x1b[${close}m` : s;

export function makeStyle(colour: boolean): Style {
  return {
    colour,
    result: wrap(colour, 32, 39), // green
    error: wrap(colour, 31, 39), // red
    log: (s) => s,
    event: wrap(colour, 36, 39), // cyan
    dim: wrap(colour, 2, 22),
    bold: wrap(colour, 1, 22),
  };
}

/** A printed SLP value is an error value when it starts with `@` (the image's canonical print). */
export function isErrorValue(printed: string): boolean {
  return printed.startsWith("@");
}

/** `=> VALUE`, red for an error value, green otherwise. */
export function formatResult(style: Style, printed: string): string {
  return `${style.dim("=>")} ${isErrorValue(printed) ? style.error(printed) : style.result(printed)}`;
}

/** A log line as `run` and the REPL show it. */
export function formatLog(style: Style, text: string, prefix = "log: "): string {
  return style.dim(prefix) + style.log(text);
}

/** A watched event. */
export function formatEvent(style: Style, channel: string, topic: number, payload: string): string {
  return `${style.event(`event ${channel}/${topic}:`)} ${payload}`;
}

/** One JSON object per line. */
export function jsonLine(obj: unknown): string {
  return JSON.stringify(obj) + "\n";
}

/** Writes and resolves once the chunk has been handed to the OS (keeps ordering with exit). */
export function writeAsync(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
