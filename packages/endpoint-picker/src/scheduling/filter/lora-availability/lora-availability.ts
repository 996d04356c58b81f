import { z } from "zod";
import { parsePluginParams } from "../../plugin-params.js";
import type { Endpoint, Filter, PluginFactory } from "../../types.js";

export const loraAvailabilityFilterType = "lora-availability-filter";

/** Whether the endpoint is known to serve `model` (listed in /v1/models, or running/waiting it). */
export function servesModel(endpoint: Endpoint, model: string): boolean | undefined {
  if (endpoint.metrics.activeModels.has(model) || endpoint.metrics.waitingModels.has(model)) return true;
  if (endpoint.loadedModels === undefined) return undefined;
  return endpoint.loadedModels.has(model);
}

/**
 * Keeps the endpoints that have the requested model (adapter) loaded, plus those whose
 * model list is unknown. When no endpoint is known to have it, keeps all: the filter only
 * ever narrows on evidence, so a missing `/v1/models` changes nothing.
 */
export function filterByAvailability(endpoints: readonly Endpoint[], model: string): readonly Endpoint[] {
  const known = endpoints.filter((e) => servesModel(e, model) === true);
  if (known.length === 0) return endpoints;
  return endpoints.filter((e) => servesModel(e, model) !== false);
}

export function createLoraAvailabilityFilter(name: string = loraAvailabilityFilterType): Filter {
  return {
    kind: "filter",
    typedName: { type: loraAvailabilityFilterType, name },
    filter: (_ctx, _state, request, endpoints) => filterByAvailability(endpoints, request.targetModel),
  } satisfies Filter;
}

export const loraAvailabilityFilterFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({}), params);
  return "error" in parsed ? parsed : { plugin: createLoraAvailabilityFilter(name) };
};
