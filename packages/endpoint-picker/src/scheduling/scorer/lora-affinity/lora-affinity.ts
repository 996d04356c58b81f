import { z } from "zod";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { Endpoint, EndpointMetrics, PluginFactory, Scorer } from "../../types.js";

export const loraAffinityScorerType = "lora-affinity-scorer";

/**
 * 1.0 when the adapter is loaded (running); 0.8 when a LoRA slot is free;
 * 0.6 when the adapter is waiting to load; 0 otherwise (GIE lora-affinity-scorer).
 */
export function scoreLoraAffinity(
  targetModel: string,
  lora: Pick<EndpointMetrics, "activeModels" | "waitingModels" | "maxActiveModels">,
): number {
  if (lora.activeModels.has(targetModel)) return 1;
  if (lora.activeModels.size + lora.waitingModels.size < lora.maxActiveModels) return 0.8;
  if (lora.waitingModels.has(targetModel)) return 0.6;
  return 0;
}

/** Favours endpoints that have the requested LoRA adapter loaded or can load it. */
export function createLoraAffinityScorer(name: string = loraAffinityScorerType): Scorer {
  return {
    kind: "scorer",
    typedName: { type: loraAffinityScorerType, name },
    category: "affinity",
    score: (_ctx, _state, request, endpoints: readonly Endpoint[]) =>
      toScoreMap(
        endpoints,
        endpoints.map((e) => scoreLoraAffinity(request.targetModel, e.metrics)),
      ),
  } satisfies Scorer;
}

export const loraAffinityScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({}), params);
  return "error" in parsed ? parsed : { plugin: createLoraAffinityScorer(name) };
};
