/**
 * Tuning aid: runs the DES sweep scenarios for variants of "ours" (parameter overrides
 * of the predicted-TTFT scorer) next to the reference default.
 *
 *   node --import tsx test/bench/endpoint-picker-variants.ts --workload sharegpt --rates 150,200 \
 *     --variant 'a={"runningRequestCostTokens":32}' --variant 'b={}'
 */

import type { PolicyFactory } from "../../packages/model-server-sim/src/des/types.js";
import { defaultScenarios, runSweep } from "../../packages/model-server-sim/src/index.js";
import { oursConfig, pickerPolicy, referenceDefaultPolicy } from "./endpoint-picker-policies.js";

const argv = process.argv.slice(2);
const get = (name: string) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1] ?? ""] : []));
const workload = get("workload")[0];
const rates = get("rates")[0]?.split(",").map(Number);
const seed = Number(get("seed")[0] ?? 42);
const variants: PolicyFactory[] = get("variant").map((v) => {
  const [name, json] = [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)];
  return pickerPolicy(`ours-${name}`, (ctx) => oursConfig(ctx, JSON.parse(json)));
});
if (variants.length === 0) {
  console.log("tuning aid: pass --variant 'name={...predicted-ttft-scorer parameters...}' (nothing to run)");
  process.exit(0);
}
const scenarios = defaultScenarios
  .filter((s) => !workload || s.name === workload)
  .map((s) => (rates ? { ...s, ratesPerS: rates } : s));
const results = runSweep({ scenarios, policies: [referenceDefaultPolicy, ...variants], seed });
console.log("| workload | rate | policy | tok/s | TTFT p50 | p90 | p99 | E2E p99 | hit |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.workload} | ${r.ratePerS} | ${r.policy} | ${r.throughputTokensPerS.toFixed(0)} | ${r.ttftMs.p50.toFixed(0)} | ${r.ttftMs.p90.toFixed(0)} | ${r.ttftMs.p99.toFixed(0)} | ${r.e2eMs.p99.toFixed(0)} | ${(r.prefixHitRate * 100).toFixed(1)}% |`,
  );
}
