/**
 * The scheduling framework's plugin contract (after GIE's plugin interfaces): plain data in,
 * plain data out. Nothing here knows about ext_proc, HTTP or Kubernetes.
 */

/** Serving engine of an endpoint; selects the metric names that are scraped. */
export type EngineType = "vllm" | "sglang" | "trtllm-serve" | "triton-trtllm";

/** Last-good model-server metrics of one endpoint. */
export interface EndpointMetrics {
  /** Requests waiting in the engine's queue. */
  readonly waitingQueueSize: number;
  /** Requests in the running batch. */
  readonly runningRequests: number;
  /** KV-cache utilisation in [0, 1]. */
  readonly kvCacheUsage: number;
  /** LoRA adapters loaded and running. */
  readonly activeModels: ReadonlySet<string>;
  /** LoRA adapters requested but waiting for a slot. */
  readonly waitingModels: ReadonlySet<string>;
  /** LoRA slots (`max_lora`); 0 when unknown. */
  readonly maxActiveModels: number;
  /** KV block size in tokens (`cache_config_info{block_size}`), when known. */
  readonly blockSizeTokens?: number;
  /** KV blocks on the device (`cache_config_info{num_gpu_blocks}`), when known. */
  readonly numGpuBlocks?: number;
  /** When these values were scraped (ms since epoch, injected clock). */
  readonly updatedAtMs: number;
}

/** In-flight load this picker itself routed to an endpoint (not yet finished). */
export interface InflightLoad {
  readonly requests: number;
  /** Estimated tokens (input + expected output) of those requests. */
  readonly tokens: number;
  /** Estimated uncached prompt tokens of those requests still waiting for their first token. */
  readonly prefillTokens: number;
  /** Those requests still waiting for their first token. */
  readonly prefillRequests: number;
  /** In-flight requests per served model (base model or LoRA adapter). */
  readonly models: ReadonlyMap<string, number>;
}

/** A schedulable model-server endpoint. */
export interface Endpoint {
  /** `ip:port` (IPv6 bracketed): the value written to the destination header. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly engine: EngineType;
  readonly labels: Readonly<Record<string, string>>;
  readonly metrics: EndpointMetrics;
  readonly inflight: InflightLoad;
  /**
   * Models the server lists in `/v1/models` (base model and loaded LoRA adapters);
   * undefined when unknown. vLLM's metrics only name adapters with running or waiting
   * requests, so an idle loaded adapter is visible only here.
   */
  readonly loadedModels?: ReadonlySet<string> | undefined;
}

/** The request as the scheduler sees it. */
export interface SchedulingRequest {
  readonly requestId: string;
  /** Model the endpoint will serve (after rewrite): base model or LoRA adapter name. */
  readonly targetModel: string;
  /** Text hashed for prefix affinity (JSON of messages, the prompt, ...). Empty when unknown. */
  readonly prompt: string;
  /** Estimated prompt tokens (bytes / 4 when no tokenizer). */
  readonly promptTokens: number;
  /** Lower-cased request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** InferenceObjective priority; negative means sheddable. */
  readonly priority: number;
}

/** Per-cycle scratch space shared by the plugins of one scheduling cycle. */
export type CycleState = Map<string, unknown>;

/** Injected time and randomness: plugins never call Date.now() or Math.random(). */
export interface SchedulingContext {
  /** Current time in ms (injected clock). */
  readonly nowMs: number;
  /** Uniform in [0, 1) (injected, seedable RNG). */
  readonly random: () => number;
  /** Endpoints a picker returns unless configured otherwise (1 primary + fallbacks). */
  readonly maxEndpoints: number;
}

/** Kind and configured instance name of a plugin. */
export interface TypedName {
  readonly type: string;
  readonly name: string;
}

export interface Plugin {
  readonly typedName: TypedName;
}

/** Removes endpoints; an empty result fails the profile. */
export interface Filter extends Plugin {
  readonly kind: "filter";
  filter(
    ctx: SchedulingContext,
    state: CycleState,
    request: SchedulingRequest,
    endpoints: readonly Endpoint[],
  ): readonly Endpoint[];
}

/** What a scorer favours: affinity (cache locality) or distribution (load). */
export type ScorerCategory = "affinity" | "distribution" | "balance";

/** Scores endpoints in [0, 1]; the framework clamps and multiplies by the weight. */
export interface Scorer extends Plugin {
  readonly kind: "scorer";
  readonly category: ScorerCategory;
  score(
    ctx: SchedulingContext,
    state: CycleState,
    request: SchedulingRequest,
    endpoints: readonly Endpoint[],
  ): Map<Endpoint, number>;
}

export interface ScoredEndpoint {
  readonly endpoint: Endpoint;
  /** Weighted sum of clamped scores. */
  readonly score: number;
}

/** Chooses the target endpoints (primary first, then fallbacks). */
export interface Picker extends Plugin {
  readonly kind: "picker";
  pick(ctx: SchedulingContext, state: CycleState, scored: readonly ScoredEndpoint[]): Endpoint[];
}

/** Learns from the decision before the request is forwarded (e.g. the prefix index). */
export interface PreRequestHook extends Plugin {
  preRequest(request: SchedulingRequest, targets: readonly Endpoint[], nowMs: number): void;
}

/** Forgets endpoints that left the pool. */
export interface EndpointLifecycleHook extends Plugin {
  endpointRemoved(endpointId: string): void;
}

/** The outcome of one profile's run within a scheduling cycle. */
export interface ProfileRunResult {
  readonly targets: readonly Endpoint[];
  readonly scores: readonly ScoredEndpoint[];
}

/**
 * Chooses which scheduling profiles run for a request and which result it is sent by (GIE
 * `ProfileHandler`): `pick` is called until it returns no profile; `primary` names the result used.
 */
export interface ProfileHandler extends Plugin {
  readonly kind: "profile-handler";
  pick(
    request: SchedulingRequest,
    profiles: readonly string[],
    results: ReadonlyMap<string, ProfileRunResult | undefined>,
  ): { readonly profiles: readonly string[] } | { readonly error: string };
  primary(
    request: SchedulingRequest,
    results: ReadonlyMap<string, ProfileRunResult | undefined>,
  ): { readonly profile: string } | { readonly error: string };
}

/**
 * A plugin that configures the picker rather than taking part in a scheduling cycle: request
 * parsers, data-layer sources and extractors, request-data producers, the saturation detector
 * and flow-control policies. Its validated `settings` are read by the part of the picker that
 * does the job (see `config-plugins.ts` and the package README).
 */
export interface ConfigPlugin extends Plugin {
  readonly kind: "parser" | "data-source" | "data-extractor" | "data-producer" | "saturation-detector" | "flow-policy";
  readonly settings: Readonly<Record<string, unknown>>;
}

export type AnyPlugin = Filter | Scorer | Picker | ProfileHandler | ConfigPlugin;

/** Services a plugin factory may use. */
export interface PluginHandle {
  /** Looks up another configured plugin by instance name. */
  plugin(name: string): AnyPlugin | undefined;
}

/** Outcome of a plugin factory: `{ plugin }` or `{ error }` (expected failures are values). */
export type PluginFactoryResult = { readonly plugin: AnyPlugin } | { readonly error: string };

/** Builds a plugin instance from its config `parameters` (validated with zod). */
export type PluginFactory = (name: string, params: unknown, handle: PluginHandle) => PluginFactoryResult;

export function isPreRequestHook(plugin: Plugin): plugin is Plugin & PreRequestHook {
  return typeof (plugin as Partial<PreRequestHook>).preRequest === "function";
}

export function isEndpointLifecycleHook(plugin: Plugin): plugin is Plugin & EndpointLifecycleHook {
  return typeof (plugin as Partial<EndpointLifecycleHook>).endpointRemoved === "function";
}
