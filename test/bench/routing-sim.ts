/**
 * Routing quality in a discrete-event simulation (issue 4, benchmark layer 1):
 * 8 simulated vLLM replicas (Llama-3-8B on A100-40GB model), seeded workloads
 * at rising Poisson rates, every policy in `policies` below.
 *
 *   node --import tsx test/bench/routing-sim.ts [--workload sharegpt|shared-prefix|lora-mix] [--seed N] [--replicas N]
 *
 * Prints one markdown table per workload, then knee comparisons.
 */
import {
  baselinePolicies,
  compareAtKnee,
  defaultScenarios,
  formatKneeComparisons,
  formatResults,
  type PolicyFactory,
  runSweep,
} from "../../packages/model-server-sim/src/index.js";
import { endpointPickerPolicies } from "./endpoint-picker-policies.js";

// Policies under test, in table order. The endpoint picker adds its policies
// here, built from its real scheduler (adapters in packages/endpoint-picker):
//   "reference-default" (queue 2, kv-cache 2, prefix 3, max-score picker) and "ours".
const policies: PolicyFactory[] = [...baselinePolicies, ...endpointPickerPolicies];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const workload = arg("workload");
const seed = Number(arg("seed") ?? 42);
const replicas = Number(arg("replicas") ?? 8);
const scenarios = defaultScenarios.filter((s) => !workload || s.name === workload);

const started = performance.now();
const results = runSweep({
  scenarios,
  policies,
  seed,
  replicas,
  onResult: (r) => process.stderr.write(`  ${r.workload} @ ${r.ratePerS} req/s, ${r.policy}: done\n`),
});
const wallS = (performance.now() - started) / 1000;

console.log(`## Routing simulation (${replicas} replicas, seed ${seed})\n`);
console.log(formatResults(results));
const names = new Set(policies.map((p) => p.name));
const candidate = names.has("ours") ? "ours" : "least-queue";
const baselines = ["round-robin", "reference-default"].filter((b) => names.has(b) && b !== candidate);
for (const baseline of baselines) {
  console.log(`### ${candidate} vs ${baseline} at the knee\n`);
  console.log(formatKneeComparisons(compareAtKnee(results, { candidate, baseline })));
  console.log("");
}
console.log(`_${results.length} runs in ${wallS.toFixed(1)} s wall time._`);
