import { describe, expect, it } from "vitest";
import { enginePresets } from "../engine/engine-config.js";
import { randomPolicy, roundRobinPolicy } from "./policies.js";
import { defaultScenarios, formatResults, runSweep, type Scenario } from "./sweep.js";
import { shareGptWorkload } from "./workloads.js";

const tiny: Scenario = {
  name: "tiny",
  engine: enginePresets["llama-3-8b-a100-40gb"],
  ratesPerS: [5, 10],
  workload: (ratePerS, seed) => shareGptWorkload({ ratePerS, seed, count: 40 }),
};

describe("runSweep()", () => {
  it("runs every rate x policy in order and reports each result", () => {
    const seen: string[] = [];
    const results = runSweep({
      scenarios: [tiny],
      policies: [randomPolicy, roundRobinPolicy],
      replicas: 2,
      onResult: (r) => seen.push(`${r.ratePerS}/${r.policy}`),
    });
    expect(seen).toEqual(["5/random", "5/round-robin", "10/random", "10/round-robin"]);
    expect(results.every((r) => r.workload === "sharegpt" && r.completed === 40)).toBe(true);
  });
});

describe("formatResults()", () => {
  it("prints one markdown table per workload with one row per run", () => {
    const results = runSweep({ scenarios: [tiny], policies: [roundRobinPolicy], replicas: 2 });
    const lines = formatResults(results).split("\n");
    expect(lines[0]).toBe("### sharegpt");
    expect(lines[2]).toMatch(/^\| rate \(req\/s\) \| policy \| output tok\/s \| TTFT p50/);
    expect(
      lines.filter((l) => l.startsWith("| 5 | round-robin |") || l.startsWith("| 10 | round-robin |")),
    ).toHaveLength(2);
  });
});

describe("defaultScenarios", () => {
  it("covers the three workloads at five rising rates on named presets", () => {
    expect(defaultScenarios.map((s) => s.name)).toEqual(["sharegpt", "shared-prefix", "lora-mix"]);
    for (const s of defaultScenarios) {
      expect(s.ratesPerS).toHaveLength(5);
      expect([...s.ratesPerS].sort((a, b) => a - b)).toEqual(s.ratesPerS);
      expect(s.workload(s.ratesPerS[0]!, 1).name).toBe(s.name);
    }
  });
});
