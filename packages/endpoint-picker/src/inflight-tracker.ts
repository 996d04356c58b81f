import type { InflightLoad } from "./scheduling/types.js";

/** What one routed request is expected to cost its endpoint. */
export interface InflightEstimate {
  /** Estimated input + output tokens (GIE: input = bytes / 4, output = 1.5 x input). */
  readonly tokens: number;
  /** Estimated uncached prompt tokens still to prefill. */
  readonly prefillTokens: number;
  /** Model (base or LoRA adapter) the endpoint serves the request with. */
  readonly model?: string;
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
  /** Re-charges a request to another endpoint (the proxy served it from a fallback). */
  move(requestId: string, endpointId: string): void;
  /** Stops tracking (idempotent). Returns the endpoint it was counted on. */
  finish(requestId: string): string | undefined;
  load(endpointId: string): InflightLoad;
  /** In-flight request counts of endpoints with at least one. */
  byEndpoint(): Map<string, number>;
  /** Requests tracked in total. */
  readonly size: number;
}

const noModels: ReadonlyMap<string, number> = new Map();
const idle: InflightLoad = { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0, models: noModels };

interface Tracked {
  readonly endpointId: string;
  readonly tokens: number;
  prefillTokens: number;
  prefilling: boolean;
  readonly model: string | undefined;
}

interface MutableLoad {
  requests: number;
  tokens: number;
  prefillTokens: number;
  prefillRequests: number;
  readonly models: Map<string, number>;
}

export function createInflightTracker(): InflightTracker {
  const requests = new Map<string, Tracked>();
  const loads = new Map<string, MutableLoad>();

  function loadOf(endpointId: string): MutableLoad {
    let l = loads.get(endpointId);
    if (!l) {
      l = { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0, models: new Map() };
      loads.set(endpointId, l);
    }
    return l;
  }

  return {
    start(requestId, endpointId, estimate) {
      if (requests.has(requestId)) return;
      requests.set(requestId, {
        endpointId,
        tokens: estimate.tokens,
        prefillTokens: estimate.prefillTokens,
        prefilling: true,
        model: estimate.model,
      });
      const l = loadOf(endpointId);
      l.requests += 1;
      l.prefillRequests += 1;
      l.tokens += estimate.tokens;
      l.prefillTokens += estimate.prefillTokens;
      if (estimate.model !== undefined) l.models.set(estimate.model, (l.models.get(estimate.model) ?? 0) + 1);
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
    move(requestId, endpointId) {
      const r = requests.get(requestId);
      if (!r || r.endpointId === endpointId) return;
      const prefilling = r.prefilling;
      this.finish(requestId);
      this.start(requestId, endpointId, {
        tokens: r.tokens,
        prefillTokens: r.prefillTokens,
        ...(r.model === undefined ? {} : { model: r.model }),
      });
      if (!prefilling) this.firstToken(requestId);
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
      if (r.model !== undefined) {
        const n = (l.models.get(r.model) ?? 1) - 1;
        if (n <= 0) l.models.delete(r.model);
        else l.models.set(r.model, n);
      }
      if (l.requests === 0) loads.delete(r.endpointId);
      return r.endpointId;
    },
    load: (endpointId) => {
      const l = loads.get(endpointId);
      return l ? { ...l, models: new Map(l.models) } : idle;
    },
    byEndpoint: () => new Map([...loads].map(([id, l]) => [id, l.requests])),
    get size() {
      return requests.size;
    },
  };
}
