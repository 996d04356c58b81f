/**
 * Compares a candidate policy against baselines at the "knee": per workload, the
 * highest swept rate at which the candidate has not collapsed: TTFT p99 within
 * `maxTtftP99Ms` (queues grow without bound past capacity, so TTFT explodes)
 * and nothing rejected. Used for the benchmark's target check.
 */
import type { RunResult } from "./types.js";

export interface KneeComparison {
  readonly workload: string;
  /** Rate of the knee, or undefined when the candidate never keeps up. */
  readonly ratePerS: number | undefined;
  readonly candidate: string;
  readonly baseline: string;
  /** `1 - candidate / baseline` on TTFT p99 (0.6 = 60% lower). */
  readonly ttftP99Reduction: number;
  /** `1 - candidate / baseline` on TTFT p90. */
  readonly ttftP90Reduction: number;
  /** `candidate / baseline - 1` on output tokens/s (0.4 = 40% more). */
  readonly throughputGain: number;
}

export interface KneeOptions {
  readonly candidate: string;
  readonly baseline: string;
  /** Default 5000 ms. */
  readonly maxTtftP99Ms?: number;
}

/** One comparison per workload present in `results`. */
export function compareAtKnee(results: readonly RunResult[], o: KneeOptions): KneeComparison[] {
  const maxTtft = o.maxTtftP99Ms ?? 5000;
  const out: KneeComparison[] = [];
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const of = (policy: string) => results.filter((r) => r.workload === workload && r.policy === policy);
    const ok = of(o.candidate).filter((r) => r.ttftMs.p99 <= maxTtft && r.rejected === 0);
    const knee = ok.reduce<RunResult | undefined>((a, r) => (a && a.ratePerS >= r.ratePerS ? a : r), undefined);
    const base = knee && of(o.baseline).find((r) => r.ratePerS === knee.ratePerS);
    out.push({
      workload,
      ratePerS: knee?.ratePerS,
      candidate: o.candidate,
      baseline: o.baseline,
      ttftP99Reduction: knee && base ? 1 - knee.ttftMs.p99 / base.ttftMs.p99 : 0,
      ttftP90Reduction: knee && base ? 1 - knee.ttftMs.p90 / base.ttftMs.p90 : 0,
      throughputGain: knee && base ? knee.throughputTokensPerS / base.throughputTokensPerS - 1 : 0,
    });
  }
  return out;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Markdown table of knee comparisons. */
export function formatKneeComparisons(rows: readonly KneeComparison[]): string {
  const lines = [
    "| workload | knee rate (req/s) | candidate | baseline | TTFT p99 lower by | TTFT p90 lower by | throughput higher by |",
    "|---|---:|---|---|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.workload} | ${r.ratePerS ?? "none"} | ${r.candidate} | ${r.baseline} | ${pct(r.ttftP99Reduction)} | ${pct(r.ttftP90Reduction)} | ${pct(r.throughputGain)} |`,
    );
  }
  return lines.join("\n");
}
