// The CLI runs from dist/: build it when host/ changed. Other engineers' files may not
// type-check at every moment; tsc still writes its output then, which is what we run.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureDist, ROOT } from "../host/helpers.js";

export async function buildDist(): Promise<void> {
  try {
    await ensureDist();
  } catch (e) {
    if (!existsSync(join(ROOT, "dist", "host", "cli", "main.js"))) throw e;
    console.warn(`tsc reported errors (running the emitted dist/ anyway): ${String((e as { stdout?: string }).stdout ?? e).slice(0, 400)}`);
  }
}
