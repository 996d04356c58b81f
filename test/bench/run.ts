/**
 * `pnpm bench [filter] [args]`: runs every benchmark script in test/bench (or those whose
 * file name contains `filter`) one after another, each in its own process, so their
 * markdown tables can be pasted into the README.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const helpers = new Set(["run.ts", "stats.ts", "raw-client.ts", "bare-grpc-echo.ts", "http2-floor-echo.ts"]);
const filter = process.argv[2];
const scripts = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !helpers.has(f) && !f.startsWith("_"))
  .filter((f) => !filter || f.includes(filter))
  .sort();
let failed = 0;
for (const script of scripts) {
  process.stdout.write(`\n## ${script}\n`);
  // Arguments after the filter go to the scripts (`pnpm bench faults 4,6`).
  const args = ["--import", "tsx", join(here, script), ...process.argv.slice(3)];
  const result = spawnSync(process.execPath, args, { stdio: "inherit" });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`\n${script} failed with exit code ${result.status}\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
