import { z } from "zod";
import { parsePluginParams } from "../../plugin-params.js";
import type { Endpoint, Filter, PluginFactory } from "../../types.js";

export const utilizationFilterType = "utilization-filter";

export interface UtilizationThresholds {
  /** Waiting requests at which an endpoint counts as saturated (GIE: 5). */
  readonly queueDepthThreshold: number;
  /** KV-cache utilisation at which an endpoint counts as saturated (GIE: 0.8). */
  readonly kvCacheUtilThreshold: number;
  /** Extra fraction allowed above the thresholds (GIE: 0). */
  readonly headroom: number;
}

export const defaultUtilizationThresholds: UtilizationThresholds = {
  queueDepthThreshold: 5,
  kvCacheUtilThreshold: 0.8,
  headroom: 0,
};

/** True when the endpoint is below both thresholds. */
export function hasHeadroom(endpoint: Endpoint, t: UtilizationThresholds): boolean {
  return (
    endpoint.metrics.waitingQueueSize < t.queueDepthThreshold * (1 + t.headroom) &&
    endpoint.metrics.kvCacheUsage < t.kvCacheUtilThreshold * (1 + t.headroom)
  );
}

/** Keeps endpoints with headroom; if none has any, keeps all (fail-open, as GIE). */
export function filterByUtilization(endpoints: readonly Endpoint[], t: UtilizationThresholds): readonly Endpoint[] {
  const kept = endpoints.filter((e) => hasHeadroom(e, t));
  return kept.length > 0 ? kept : endpoints;
}

export function createUtilizationFilter(
  name: string = utilizationFilterType,
  thresholds: Partial<UtilizationThresholds> = {},
): Filter {
  const t = { ...defaultUtilizationThresholds, ...thresholds };
  return {
    kind: "filter",
    typedName: { type: utilizationFilterType, name },
    filter: (_ctx, _state, _request, endpoints) => filterByUtilization(endpoints, t),
  } satisfies Filter;
}

const paramsSchema = z.strictObject({
  queueDepthThreshold: z.number().positive().optional(),
  kvCacheUtilThreshold: z.number().positive().max(1).optional(),
  headroom: z.number().min(0).optional(),
});

export const utilizationFilterFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(paramsSchema, params);
  return "error" in parsed ? parsed : { plugin: createUtilizationFilter(name, parsed.value) };
};
