import { describe, expect, it } from "vitest";
import { enginePresets } from "../engine/engine-config.js";
import { leastQueuePolicy, randomPolicy, roundRobinPolicy } from "./policies.js";
import { endpointIdOf, runSimulation } from "./simulate.js";
import type { PolicyFactory, PoolView, SimRequest } from "./types.js";
import { sharedPrefixWorkload, shareGptWorkload } from "./workloads.js";

const small = { ...enginePresets["llama-3-8b-a100-40gb"], numGpuBlocks: 2000 };

describe("runSimulation()", () => {
  it("gives identical results for the same seed", () => {
    const run = () =>
      runSimulation({
        workload: shareGptWorkload({ ratePerS: 20, count: 200, seed: 3 }),
        policy: randomPolicy,
        replicas: 4,
        engine: small,
        seed: 5,
      });
    expect(run()).toEqual(run());
  });

  it("gives different results for a different workload seed", () => {
    const run = (seed: number) =>
      runSimulation({
        workload: shareGptWorkload({ ratePerS: 20, count: 200, seed }),
        policy: roundRobinPolicy,
        replicas: 4,
      });
    expect(run(1).ttftMs).not.toEqual(run(2).ttftMs);
  });

  it("completes every request and accounts all output tokens", () => {
    const workload = shareGptWorkload({ ratePerS: 10, count: 100, seed: 1 });
    const r = runSimulation({ workload, policy: roundRobinPolicy, replicas: 2 });
    expect(r.completed).toBe(100);
    expect(r.rejected).toBe(0);
    expect(r.outputTokens).toBe(workload.requests.reduce((s, q) => s + q.outputTokens, 0));
    expect(r.picksByEndpoint).toEqual({ [endpointIdOf(0)]: 0.5, [endpointIdOf(1)]: 0.5 });
    expect(r.ttftMs.p50).toBeGreaterThan(0);
    expect(r.e2eMs.p99).toBeGreaterThanOrEqual(r.ttftMs.p99);
  });

  it("counts undefined picks as rejected", () => {
    const reject: PolicyFactory = { name: "reject", create: () => ({ name: "reject", pick: () => undefined }) };
    const r = runSimulation({ workload: shareGptWorkload({ ratePerS: 10, count: 10, seed: 1 }), policy: reject });
    expect(r).toMatchObject({ completed: 0, rejected: 10 });
  });

  it("shows policies metrics scraped at the scrape interval and calls the lifecycle hooks", () => {
    const seen: { now: number; scrapedAt: number[] }[] = [];
    const done: string[] = [];
    const firsts: string[] = [];
    const spy: PolicyFactory = {
      name: "spy",
      create: ({ endpointIds }) => ({
        name: "spy",
        pick(_req: SimRequest, view: PoolView, now: number) {
          seen.push({ now, scrapedAt: view.endpoints.map((e) => e.metrics.scrapedAtMs) });
          return endpointIds[0];
        },
        onFirstToken: (id) => firsts.push(id),
        onComplete: (id) => done.push(id),
      }),
    };
    runSimulation({
      workload: shareGptWorkload({ ratePerS: 5, count: 20, seed: 2 }),
      policy: spy,
      replicas: 2,
      scrapeIntervalMs: 100,
    });
    for (const { now, scrapedAt } of seen) {
      for (const t of scrapedAt) {
        expect(now - t).toBeGreaterThanOrEqual(0);
        expect(now - t).toBeLessThanOrEqual(100);
      }
    }
    expect(done).toHaveLength(20);
    expect(new Set(firsts)).toEqual(new Set(done));
  });

  it("rewards prefix affinity on the shared-prefix workload", () => {
    const workload = sharedPrefixWorkload({ ratePerS: 20, count: 400, seed: 1, groups: 32, systemTokens: 1024 });
    const affinity: PolicyFactory = {
      name: "affinity",
      create: ({ endpointIds }) => ({
        name: "affinity",
        pick: (req) => endpointIds[req.promptText.charCodeAt(0) % endpointIds.length],
      }),
    };
    const rr = runSimulation({ workload, policy: roundRobinPolicy, replicas: 4, engine: small });
    const aff = runSimulation({ workload, policy: affinity, replicas: 4, engine: small });
    expect(aff.prefixHitRate).toBeGreaterThan(rr.prefixHitRate);
    expect(aff.ttftMs.p50).toBeLessThan(rr.ttftMs.p50);
  });

  it("reports every completed request's outcome", () => {
    const outcomes: { id: string; ttft: number; e2e: number }[] = [];
    const r = runSimulation({
      workload: shareGptWorkload({ ratePerS: 10, count: 30, seed: 8 }),
      policy: roundRobinPolicy,
      replicas: 2,
      onRequestDone: (o) => outcomes.push({ id: o.request.id, ttft: o.ttftMs, e2e: o.e2eMs }),
    });
    expect(outcomes).toHaveLength(30);
    // Nearest-rank p99 of 30 values is the maximum.
    expect(r.e2eMs.p99).toBe(Math.max(...outcomes.map((o) => o.e2e)));
    for (const o of outcomes) expect(o.e2e).toBeGreaterThanOrEqual(o.ttft);
    expect(r.ttftMs.mean).toBeCloseTo(outcomes.reduce((s, o) => s + o.ttft, 0) / 30, 9);
  });

  it("runs the least-queue baseline to completion", () => {
    const r = runSimulation({
      workload: shareGptWorkload({ ratePerS: 40, count: 200, seed: 4 }),
      policy: leastQueuePolicy,
    });
    expect(r.completed).toBe(200);
  });
});
