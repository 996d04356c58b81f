import { z } from "zod";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { PluginFactory, Scorer } from "../../types.js";

export const loadAwareScorerType = "load-aware-scorer";

/** llm-d default queue threshold. */
export const loadAwareDefaults = { threshold: 128 } as const;

/**
 * llm-d `load-aware-scorer`: 0.5 for an empty waiting queue, else `0.5 * (1 - min(q, T) / T)`.
 * An absolute scale (unlike queue-scorer's min-max), so an idle pool scores all endpoints alike.
 */
export function scoreLoadAware(waiting: number, threshold: number): number {
  if (waiting <= 0) return 0.5;
  return 0.5 * (1 - Math.min(waiting, threshold) / threshold);
}

export function createLoadAwareScorer(
  name: string = loadAwareScorerType,
  threshold: number = loadAwareDefaults.threshold,
): Scorer {
  // llm-d falls back to the default for a non-positive threshold.
  const t = threshold > 0 ? threshold : loadAwareDefaults.threshold;
  return {
    kind: "scorer",
    typedName: { type: loadAwareScorerType, name },
    category: "distribution",
    score: (_ctx, _state, _request, endpoints) =>
      toScoreMap(
        endpoints,
        endpoints.map((e) => scoreLoadAware(e.metrics.waitingQueueSize, t)),
      ),
  };
}

export const loadAwareScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({ threshold: z.number().int().optional() }), params);
  return "error" in parsed ? parsed : { plugin: createLoadAwareScorer(name, parsed.value.threshold) };
};
