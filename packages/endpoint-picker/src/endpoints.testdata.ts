import type {
  Endpoint,
  EndpointMetrics,
  InflightLoad,
  SchedulingContext,
  SchedulingRequest,
} from "./scheduling/types.js";

/** An endpoint with fresh, idle metrics unless overridden. */
export function endpoint(
  id: string,
  metrics: Partial<Omit<EndpointMetrics, "activeModels" | "waitingModels">> & {
    activeModels?: string[];
    waitingModels?: string[];
  } = {},
  inflight: Partial<InflightLoad> = {},
): Endpoint {
  const [address, port] = id.split(":") as [string, string];
  return {
    id,
    address,
    port: Number(port),
    engine: "vllm",
    labels: {},
    metrics: {
      waitingQueueSize: 0,
      runningRequests: 0,
      kvCacheUsage: 0,
      maxActiveModels: 0,
      updatedAtMs: 1000,
      ...metrics,
      activeModels: new Set(metrics.activeModels ?? []),
      waitingModels: new Set(metrics.waitingModels ?? []),
    },
    inflight: { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0, models: new Map(), ...inflight },
  };
}

export function request(overrides: Partial<SchedulingRequest> = {}): SchedulingRequest {
  return { requestId: "r1", targetModel: "m", prompt: "", promptTokens: 0, headers: {}, priority: 0, ...overrides };
}

/** A context whose RNG replays `values` (cycling). */
export function context(values: number[] = [0.5], nowMs = 1000, maxEndpoints = 1): SchedulingContext {
  let i = 0;
  return { nowMs, maxEndpoints, random: () => values[i++ % values.length] as number };
}

/** Scores by endpoint id, for readable assertions. */
export function byId(scores: Map<Endpoint, number>): Record<string, number> {
  return Object.fromEntries([...scores].map(([e, s]) => [e.id, s]));
}
