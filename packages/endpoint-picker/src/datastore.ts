import { joinHostPort } from "./candidates.js";
import type { InflightTracker } from "./inflight-tracker.js";
import type { Endpoint, EndpointMetrics, EngineType } from "./scheduling/types.js";

/** An endpoint as discovery reports it. */
export interface EndpointSpec {
  readonly address: string;
  /** Serving port (the destination). */
  readonly port: number;
  readonly engine: EngineType;
  readonly labels?: Readonly<Record<string, string>>;
  /** Port of `/metrics` when it differs from `port`. */
  readonly metricsPort?: number;
}

/** Metrics of an endpoint that was never scraped successfully: zeros, stale (time 0). */
export const unknownMetrics: EndpointMetrics = {
  waitingQueueSize: 0,
  runningRequests: 0,
  kvCacheUsage: 0,
  activeModels: new Set(),
  waitingModels: new Set(),
  maxActiveModels: 0,
  updatedAtMs: 0,
};

/** Endpoints, their last-good metrics (with scrape time) and the in-flight load routed to them. */
export interface Datastore {
  /** Replaces the endpoint set (discovery); returns ids that left. */
  setEndpoints(specs: readonly EndpointSpec[]): string[];
  specs(): ReadonlyMap<string, EndpointSpec>;
  recordMetrics(id: string, metrics: EndpointMetrics): void;
  recordScrapeError(id: string, error: string): void;
  /** Models listed by the endpoint's `/v1/models`. */
  recordLoadedModels(id: string, models: ReadonlySet<string>): void;
  lastError(id: string): string | undefined;
  /** Schedulable view: last-good metrics and current in-flight load. */
  endpoints(): Endpoint[];
  /** True once discovery reported at least once. */
  readonly synced: boolean;
}

export function createDatastore(inflight: InflightTracker): Datastore {
  let specs = new Map<string, EndpointSpec>();
  const metrics = new Map<string, EndpointMetrics>();
  const errors = new Map<string, string>();
  const loaded = new Map<string, ReadonlySet<string>>();
  let synced = false;
  return {
    setEndpoints(list) {
      const next = new Map<string, EndpointSpec>();
      for (const s of list) next.set(joinHostPort(s.address, s.port), s);
      const removed = [...specs.keys()].filter((id) => !next.has(id));
      for (const id of removed) {
        metrics.delete(id);
        errors.delete(id);
        loaded.delete(id);
      }
      specs = next;
      synced = true;
      return removed;
    },
    specs: () => specs,
    recordMetrics(id, m) {
      if (!specs.has(id)) return;
      metrics.set(id, m);
      errors.delete(id);
    },
    recordLoadedModels(id, models) {
      if (specs.has(id)) loaded.set(id, models);
    },
    recordScrapeError(id, error) {
      if (specs.has(id)) errors.set(id, error);
    },
    lastError: (id) => errors.get(id),
    endpoints() {
      const out: Endpoint[] = [];
      for (const [id, s] of specs) {
        out.push({
          id,
          address: s.address,
          port: s.port,
          engine: s.engine,
          labels: s.labels ?? {},
          metrics: metrics.get(id) ?? unknownMetrics,
          inflight: inflight.load(id),
          loadedModels: loaded.get(id),
        });
      }
      return out;
    },
    get synced() {
      return synced;
    },
  };
}
