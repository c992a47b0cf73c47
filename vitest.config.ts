import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // builds the image and dist/ once, before any worker starts
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
  },
});
