import type { InflightLoad } from "./scheduling/types.js";

/** What one routed request is expected to cost its endpoint. */
export interface InflightEstimate {
  /** Estimated input + output tokens (GIE: input = bytes / 4, output = 1.5 x input). */
  readonly tokens: number;
  /** Estimated uncached prompt tokens still to prefill. */
  readonly prefillTokens: number;
}

/**
 * Per-endpoint in-flight requests and tokens routed by this picker, from the pick
 * until the response ends (completion, error or client abort).
 */
export interface InflightTracker {
  /** Starts tracking; a second start for the same id is ignored. */
  start(requestId: string, endpointId: string, estimate: InflightEstimate): void;
  /** The first response byte/token arrived: the prefill is done. */
  firstToken(requestId: string): void;
  /** Stops tracking (idempotent). Returns the endpoint it was counted on. */
  finish(requestId: string): string | undefined;
  load(endpointId: string): InflightLoad;
  /** In-flight request counts of endpoints with at least one. */
  byEndpoint(): Map<string, number>;
  /** Requests tracked in total. */
  readonly size: number;
}

const idle: InflightLoad = { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0 };

export function createInflightTracker(): InflightTracker {
  const requests = new Map<
    string,
    { endpointId: string; tokens: number; prefillTokens: number; prefilling: boolean }
  >();
  const loads = new Map<string, { requests: number; tokens: number; prefillTokens: number; prefillRequests: number }>();

  function loadOf(endpointId: string) {
    let l = loads.get(endpointId);
    if (!l) {
      l = { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0 };
      loads.set(endpointId, l);
    }
    return l;
  }

  return {
    start(requestId, endpointId, estimate) {
      if (requests.has(requestId)) return;
      requests.set(requestId, { endpointId, ...estimate, prefilling: true });
      const l = loadOf(endpointId);
      l.requests += 1;
      l.prefillRequests += 1;
      l.tokens += estimate.tokens;
      l.prefillTokens += estimate.prefillTokens;
    },
    firstToken(requestId) {
      const r = requests.get(requestId);
      if (!r?.prefilling) return;
      const l = loadOf(r.endpointId);
      l.prefillTokens -= r.prefillTokens;
      l.prefillRequests -= 1;
      r.prefillTokens = 0;
      r.prefilling = false;
    },
    finish(requestId) {
      const r = requests.get(requestId);
      if (!r) return undefined;
      requests.delete(requestId);
      const l = loadOf(r.endpointId);
      l.requests -= 1;
      l.tokens -= r.tokens;
      l.prefillTokens -= r.prefillTokens;
      if (r.prefilling) l.prefillRequests -= 1;
      if (l.requests === 0) loads.delete(r.endpointId);
      return r.endpointId;
    },
    load: (endpointId) => {
      const l = loads.get(endpointId);
      return l ? { ...l } : idle;
    },
    byEndpoint: () => new Map([...loads].map(([id, l]) => [id, l.requests])),
    get size() {
      return requests.size;
    },
  };
}
