/**
 * Routing quality of the endpoint picker in the model-server-sim DES: baselines
 * (random, round-robin, least-queue), GIE's default config and ours, on three
 * workloads at rising request rates on 8 replicas.
 *
 *   node --import tsx test/bench/endpoint-picker-routing.ts [--count N] [--workloads a,b] [--rates x,y]
 */
import { baselinePolicies } from "../../packages/model-server-sim/src/des/policies.js";
import { runSimulation } from "../../packages/model-server-sim/src/des/simulate.js";
import type { PolicyFactory, RunResult, Workload } from "../../packages/model-server-sim/src/des/types.js";
import {
  loraMixWorkload,
  sharedPrefixWorkload,
  shareGptWorkload,
} from "../../packages/model-server-sim/src/des/workloads.js";
import { endpointPickerPolicies } from "./endpoint-picker-policies.js";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1] ?? "");

const count = Number(args.get("count") ?? 3000);
const seed = Number(args.get("seed") ?? 7);
const defaultRates: Record<string, number[]> = {
  sharegpt: [20, 40, 60, 80],
  "shared-prefix": [10, 20, 30, 40],
  "lora-mix": [20, 40, 60, 80],
};
const makers: Record<string, (ratePerS: number) => Workload> = {
  sharegpt: (ratePerS) => shareGptWorkload({ ratePerS, count, seed }),
  "shared-prefix": (ratePerS) => sharedPrefixWorkload({ ratePerS, count, seed }),
  "lora-mix": (ratePerS) => loraMixWorkload({ ratePerS, count, seed }),
};
const workloads = (args.get("workloads") ?? Object.keys(makers).join(",")).split(",");
const policies: PolicyFactory[] = [...baselinePolicies, ...endpointPickerPolicies].filter(
  (p) => !args.has("policies") || args.get("policies")!.split(",").includes(p.name),
);

const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const results: RunResult[] = [];
for (const w of workloads) {
  const rates = args.has("rates") ? args.get("rates")!.split(",").map(Number) : defaultRates[w]!;
  console.log(`\n### ${w} (${count} requests, 8 replicas, seed ${seed})\n`);
  console.log(
    "| rate/s | policy | out tok/s | TTFT p50 ms | TTFT p90 ms | TTFT p99 ms | E2E p99 ms | prefix hit | preempt |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const rate of rates) {
    const workload = makers[w]!(rate);
    for (const policy of policies) {
      const r = runSimulation({ workload, policy, seed });
      results.push(r);
      console.log(
        `| ${rate} | ${r.policy} | ${f(r.throughputTokensPerS)} | ${f(r.ttftMs.p50)} | ${f(r.ttftMs.p90)} | ${f(r.ttftMs.p99)} | ${f(r.e2eMs.p99)} | ${(r.prefixHitRate * 100).toFixed(1)}% | ${r.preemptions} |`,
      );
    }
  }
}
