/**
 * Public contract of the discrete-event routing simulation (DES).
 *
 * A routing policy sees requests one at a time, in virtual time, together with
 * per-endpoint metric snapshots as a Prometheus scraper would have seen them at
 * the last scrape (so it observes realistic staleness). The harness owns the
 * engines, the clock and the RNG; a policy owns only its own state.
 */

import type { EngineSnapshot } from "../engine/engine.js";

/** One inference request as the gateway sees it. */
export interface SimRequest {
  /** Unique id within a run (`r<index>`). */
  readonly id: string;
  /** The `model` field of the request body: the base model or a LoRA adapter name. */
  readonly model: string;
  /** LoRA adapter name when the request targets one (then `model === lora`). */
  readonly lora?: string | undefined;
  /** Full prompt text; `tokenize(promptText)` gives the engine's tokens, so prefix hashing is faithful. */
  readonly promptText: string;
  /** Number of prompt tokens (`tokenize(promptText).length`). */
  readonly promptTokens: number;
  /** Number of output tokens the engine will generate (as with `max_tokens` + `ignore_eos`). */
  readonly outputTokens: number;
  /** Virtual arrival time in milliseconds since the start of the run. */
  readonly arrivalMs: number;
  /** Request headers a gateway would forward (e.g. a session id); empty for most workloads. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a scraper of vLLM's `/metrics` page would see for one endpoint: a snapshot and when it was taken. */
export interface EndpointMetrics extends EngineSnapshot {
  /** Virtual time (ms) at which this snapshot was scraped. */
  readonly scrapedAtMs: number;
}

/** One endpoint of the pool as a policy sees it. */
export interface EndpointView {
  /** Endpoint id, formatted as `ip:port` (e.g. `10.0.0.1:8000`). */
  readonly id: string;
  /** Metrics from the latest scrape. */
  readonly metrics: EndpointMetrics;
}

/** The pool as a policy sees it at pick time. */
export interface PoolView {
  /** Endpoint ids in a stable order. */
  readonly endpointIds: readonly string[];
  /** Per-endpoint views, same order as `endpointIds`. */
  readonly endpoints: readonly EndpointView[];
}

/** A routing policy under test. Must be deterministic given its factory seed. */
export interface RoutingPolicy {
  readonly name: string;
  /**
   * Choose the endpoint for `request`. Return an endpoint id, or `undefined`
   * to reject the request (counted as rejected, e.g. a 429 from shedding).
   */
  pick(request: SimRequest, view: PoolView, nowMs: number): string | undefined;
  /** Called when the first output token of a request is produced. */
  onFirstToken?(requestId: string, endpointId: string, nowMs: number): void;
  /** Called when a request finishes (all output tokens produced). */
  onComplete?(requestId: string, endpointId: string, nowMs: number): void;
}

/** Context handed to a policy factory at the start of every run. */
export interface PolicyContext {
  /** Endpoint ids of the pool. */
  readonly endpointIds: readonly string[];
  /** Seed for the policy's own RNG (derived from the run seed). */
  readonly seed: number;
  /** Name of the base model served by the pool. */
  readonly baseModel: string;
}

/** Creates a fresh policy for each run (policies are stateful: LRU indexes, in-flight counts). */
export interface PolicyFactory {
  readonly name: string;
  create(context: PolicyContext): RoutingPolicy;
}

/** A seeded workload: a finite list of requests sorted by arrival time. */
export interface Workload {
  /** Short name used in result tables (e.g. `sharegpt`, `shared-prefix`, `lora-mix`). */
  readonly name: string;
  /** Mean arrival rate in requests per second. */
  readonly ratePerS: number;
  readonly requests: readonly SimRequest[];
}

/** What happened to one completed request (for debugging policies). */
export interface RequestOutcome {
  readonly request: SimRequest;
  readonly endpointId: string;
  readonly ttftMs: number;
  readonly e2eMs: number;
  /** Prompt tokens served from the prefix cache when the first token was produced. */
  readonly cachedPromptTokens: number;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** Outcome of one simulation run (one workload x rate x policy). */
export interface RunResult {
  readonly policy: string;
  readonly workload: string;
  readonly ratePerS: number;
  readonly requests: number;
  readonly completed: number;
  readonly rejected: number;
  /** Steady-state output tokens/s: tokens produced in the last 80% of the arrival window, per second. */
  readonly throughputTokensPerS: number;
  /** Steady-state completions/s over the same window. */
  readonly throughputRequestsPerS: number;
  /** All output tokens produced in the run. */
  readonly outputTokens: number;
  readonly ttftMs: LatencySummary;
  readonly e2eMs: LatencySummary;
  /** Mean time per output token after the first, in ms. */
  readonly tpotMsMean: number;
  /** Prompt tokens served from the prefix cache when each request first produced a token, over all prompt tokens. */
  readonly prefixHitRate: number;
  readonly preemptions: number;
  /** Virtual duration of the run in ms. */
  readonly durationMs: number;
  /** Share of requests routed to each endpoint id. */
  readonly picksByEndpoint: Readonly<Record<string, number>>;
}
