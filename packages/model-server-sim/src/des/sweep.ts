/** Runs workloads x rates x policies and formats the results as markdown. */
import { type EngineConfig, enginePresets } from "../engine/engine-config.js";
import { runSimulation } from "./simulate.js";
import type { PolicyFactory, RunResult, Workload } from "./types.js";
import { loraMixWorkload, sharedPrefixWorkload, shareGptWorkload } from "./workloads.js";

/** One workload family, the engine it runs on and the rates to sweep. */
export interface Scenario {
  readonly name: string;
  readonly engine: EngineConfig;
  readonly ratesPerS: readonly number[];
  /** Builds the seeded workload at one rate. */
  workload(ratePerS: number, seed: number): Workload;
}

export interface SweepOptions {
  readonly scenarios: readonly Scenario[];
  readonly policies: readonly PolicyFactory[];
  /** Replicas per pool (default 8). */
  readonly replicas?: number;
  /** Workload and policy seed (default 42). */
  readonly seed?: number;
  /** Called after each run (progress). */
  readonly onResult?: (result: RunResult) => void;
}

/** Runs every scenario x rate x policy; each workload is generated once and shared by all policies. */
export function runSweep(o: SweepOptions): RunResult[] {
  const seed = o.seed ?? 42;
  const results: RunResult[] = [];
  for (const s of o.scenarios) {
    for (const rate of s.ratesPerS) {
      const workload = s.workload(rate, seed);
      for (const policy of o.policies) {
        const r = runSimulation({ workload, policy, engine: s.engine, replicas: o.replicas ?? 8, seed });
        results.push(r);
        o.onResult?.(r);
      }
    }
  }
  return results;
}

const a100 = enginePresets["llama-3-8b-a100-40gb"];

/** Request count per run: enough for stable p99 at the given rate, bounded for speed. */
const countFor = (ratePerS: number, seconds: number, min: number, max: number) =>
  Math.min(max, Math.max(min, Math.round(ratePerS * seconds)));

/** The benchmark's scenarios on 8 x Llama-3-8B / A100-40GB replicas, rates rising past saturation. */
export const defaultScenarios: readonly Scenario[] = [
  {
    name: "sharegpt",
    engine: a100,
    ratesPerS: [25, 50, 100, 150, 200],
    workload: (ratePerS, seed) => shareGptWorkload({ ratePerS, seed, count: countFor(ratePerS, 30, 600, 4000) }),
  },
  {
    name: "shared-prefix",
    engine: a100,
    ratesPerS: [20, 40, 80, 140, 200],
    workload: (ratePerS, seed) => sharedPrefixWorkload({ ratePerS, seed, count: countFor(ratePerS, 30, 600, 4000) }),
  },
  {
    name: "lora-mix",
    engine: { ...a100, maxLoras: 4 },
    ratesPerS: [10, 30, 60, 90, 120],
    workload: (ratePerS, seed) => loraMixWorkload({ ratePerS, seed, count: countFor(ratePerS, 30, 600, 4000) }),
  },
];

const f0 = (v: number) => v.toFixed(0);
const f1 = (v: number) => v.toFixed(1);

/** One markdown table per workload: rows are rate x policy. */
export function formatResults(results: readonly RunResult[]): string {
  const out: string[] = [];
  const workloads = [...new Set(results.map((r) => r.workload))];
  for (const w of workloads) {
    out.push(`### ${w}`, "");
    out.push(
      "| rate (req/s) | policy | output tok/s | TTFT p50 (ms) | TTFT p90 (ms) | TTFT p99 (ms) | E2E p99 (ms) | TPOT mean (ms) | prefix hit | preempt | rejected |",
    );
    out.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of results.filter((x) => x.workload === w)) {
      out.push(
        `| ${r.ratePerS} | ${r.policy} | ${f0(r.throughputTokensPerS)} | ${f0(r.ttftMs.p50)} | ${f0(r.ttftMs.p90)} | ${f0(r.ttftMs.p99)} | ${f0(r.e2eMs.p99)} | ${f1(r.tpotMsMean)} | ${(r.prefixHitRate * 100).toFixed(1)}% | ${r.preemptions} | ${r.rejected} |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}
