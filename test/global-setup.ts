// Runs once before any test file: rebuilds what the tests use when its sources are newer
// (the image from assembly/, dist/ from host/), so that no test file compiles anything
// itself and parallel workers never race on the same outputs.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale(output: string, ...sources: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources.some((s) => (statSync(s).isDirectory() ? newest(s) : statSync(s).mtimeMs) > built);
}

export default function setup(): void {
  const node = process.execPath;
  if (stale(join(root, "build/sxs.wasm"), join(root, "assembly"))) {
    execFileSync(node, [join(root, "tools/gen-messages.mjs")], { stdio: "inherit" });
    execFileSync(node, [join(root, "node_modules/assemblyscript/bin/asc.js"), "assembly/index.ts", "--target", "release"], { cwd: root, stdio: "inherit" });
  }
  if (stale(join(root, "dist/host/cli/main.js"), join(root, "host"))) {
    execFileSync(node, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.json")], { cwd: root, stdio: "inherit" });
  }
}
