// Reading an image for `sxs flash`: an image file (docs/link.md section 12: header +
// Wasm, as tools/ writes build/sxs.img) is sent as it is; a bare .wasm module gets its
// header on the fly.

import { ABI_VERSION } from "../image/image.js";
import { buildImage, IMAGE_MAGIC, WASM_PREAMBLE } from "../link/image-header.js";

export interface LoadedImage {
  /** The image file to send (header + Wasm). */
  bytes: Uint8Array;
  /** True when the input was a bare Wasm module and the header was added here. */
  wrapped: boolean;
}

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/**
 * A bare Wasm module (it starts with `\0asm` version 1) is wrapped in a header carrying
 * `abiVersion` (default: the ABI this package's host speaks) and the build time; anything
 * else is taken as an image file and left for the checks to judge.
 */
export function prepareImage(file: Uint8Array, opts: { abiVersion?: number; buildTime?: number } = {}): LoadedImage {
  if (startsWith(file, WASM_PREAMBLE) && !startsWith(file, IMAGE_MAGIC)) {
    return {
      bytes: buildImage(file, { abiVersion: opts.abiVersion ?? ABI_VERSION, buildTime: opts.buildTime ?? Math.floor(Date.now() / 1000) }),
      wrapped: true,
    };
  }
  return { bytes: file, wrapped: false };
}
