import { z } from "zod";
import { lowerIsBetter, parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { Endpoint, PluginFactory, Scorer } from "../../types.js";

/** Plugin type, as in GIE's EndpointPickerConfig. */
export const queueScorerType = "queue-scorer";

/** `(maxQ - q) / (maxQ - minQ)` over waiting-queue sizes; 1 for all when max == min. */
export function scoreQueueDepth(waiting: readonly number[]): number[] {
  return lowerIsBetter(waiting);
}

/** Favours endpoints with short engine waiting queues. */
export function createQueueScorer(name: string = queueScorerType): Scorer {
  return {
    kind: "scorer",
    typedName: { type: queueScorerType, name },
    category: "distribution",
    score: (_ctx, _state, _request, endpoints: readonly Endpoint[]) =>
      toScoreMap(endpoints, scoreQueueDepth(endpoints.map((e) => e.metrics.waitingQueueSize))),
  } satisfies Scorer;
}

export const queueScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({}), params);
  return "error" in parsed ? parsed : { plugin: createQueueScorer(name) };
};
