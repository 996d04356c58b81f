/** Baseline routing policies: random, round-robin and least-queue (waiting, then running). */
import { createRng } from "../engine/rng.js";
import type { PolicyFactory, RoutingPolicy } from "./types.js";

/** Uniformly random endpoint. */
export const randomPolicy: PolicyFactory = {
  name: "random",
  create({ endpointIds, seed }) {
    const rng = createRng(seed);
    return { name: "random", pick: () => endpointIds[rng.int(endpointIds.length)] } satisfies RoutingPolicy;
  },
};

/** Endpoints in turn, as a Kubernetes Service (kube-proxy) or Envoy's ROUND_ROBIN would. */
export const roundRobinPolicy: PolicyFactory = {
  name: "round-robin",
  create({ endpointIds }) {
    let next = 0;
    return {
      name: "round-robin",
      pick: () => endpointIds[next++ % endpointIds.length],
    } satisfies RoutingPolicy;
  },
};

/**
 * Fewest `waiting + running` requests in the last scrape plus requests this
 * policy sent since that scrape (so a burst between scrapes spreads out); ties
 * broken at random.
 */
export const leastQueuePolicy: PolicyFactory = {
  name: "least-queue",
  create({ endpointIds, seed }) {
    const rng = createRng(seed);
    const sentSince = new Map<string, { scrapedAtMs: number; count: number }>();
    return {
      name: "least-queue",
      pick(_request, view) {
        let best: string[] = [];
        let bestLoad = Number.POSITIVE_INFINITY;
        for (const e of view.endpoints) {
          const s = sentSince.get(e.id);
          const extra = s && s.scrapedAtMs === e.metrics.scrapedAtMs ? s.count : 0;
          const load = e.metrics.waiting + e.metrics.running + extra;
          if (load < bestLoad) {
            bestLoad = load;
            best = [e.id];
          } else if (load === bestLoad) best.push(e.id);
        }
        const id = best[rng.int(best.length)] ?? endpointIds[0]!;
        const scrapedAtMs = view.endpoints.find((e) => e.id === id)?.metrics.scrapedAtMs ?? 0;
        const s = sentSince.get(id);
        sentSince.set(id, { scrapedAtMs, count: s && s.scrapedAtMs === scrapedAtMs ? s.count + 1 : 1 });
        return id;
      },
    } satisfies RoutingPolicy;
  },
};

/** The three baselines, in table order. */
export const baselinePolicies: readonly PolicyFactory[] = [randomPolicy, roundRobinPolicy, leastQueuePolicy];
