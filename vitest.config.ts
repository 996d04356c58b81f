import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources in tests (the
// "@llm-callouts/source" export condition), so no rebuild is needed between edits.
// The rest are Vite's default server conditions less "module": @opentelemetry/api's "module"
// build imports without file extensions, which Node cannot load; Node itself never reads it.
const conditions = ["@llm-callouts/source", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
