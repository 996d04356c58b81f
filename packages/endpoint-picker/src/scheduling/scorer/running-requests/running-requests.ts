import { z } from "zod";
import { lowerIsBetter, parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { Endpoint, PluginFactory, Scorer } from "../../types.js";

export const runningRequestsScorerType = "running-requests-size-scorer";

/** Min-max normalisation over running-batch sizes, lower is better; 1 for all when equal. */
export function scoreRunningRequests(running: readonly number[]): number[] {
  return lowerIsBetter(running);
}

/** Favours endpoints with small running batches. */
export function createRunningRequestsScorer(name: string = runningRequestsScorerType): Scorer {
  return {
    kind: "scorer",
    typedName: { type: runningRequestsScorerType, name },
    category: "distribution",
    score: (_ctx, _state, _request, endpoints: readonly Endpoint[]) =>
      toScoreMap(endpoints, scoreRunningRequests(endpoints.map((e) => e.metrics.runningRequests))),
  } satisfies Scorer;
}

export const runningRequestsScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({}), params);
  return "error" in parsed ? parsed : { plugin: createRunningRequestsScorer(name) };
};
