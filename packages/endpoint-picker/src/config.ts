import { z } from "zod";
import { endpointSpecSchema } from "./discovery/endpoint-list.js";

/** InferencePool API groups the picker reads (v1, and the v1alpha2 it replaced). */
export const inferencePoolGroups = ["inference.networking.k8s.io", "inference.networking.x-k8s.io"] as const;

/** Defaults in one place; units in names. */
export const endpointPickerDefaults = {
  /** Fallback endpoints after the primary in the destination header. */
  fallbackEndpoints: 0,
  scrapeIntervalMs: 50, // GIE --refresh-metrics-interval
  scrapeTimeoutMs: 1000, // GIE collection timeout
  metricsPath: "/metrics",
  /** Endpoints with older metrics are excluded unless all are stale (GIE 2 s). */
  metricsStalenessMs: 2000,
  modelsIntervalMs: 1000,
  filePollIntervalMs: 1000,
  queueDepthThreshold: 5,
  kvCacheUtilThreshold: 0.8,
  saturationStalenessMs: 200,
  headroom: 0,
  /** Below the SDK's processor timeout (server.processorTimeoutMs, default 10 s): a queued request waits inside onRequestBody. */
  flowControlTtlMs: 8_000,
  flowControlMaxRequests: 5000,
  flowControlMaxBytes: 1_073_741_824, // 1 GiB (GIE band default)
  flowControlPollMs: 10,
} as const;

const d = endpointPickerDefaults;

export const endpointPickerConfigSchema = z
  .strictObject({
    endpoints: z
      .strictObject({
        /** A fixed list. */
        static: z.array(endpointSpecSchema).default([]),
        /** A YAML/JSON file re-read every `pollIntervalMs`. */
        file: z
          .strictObject({
            path: z.string().min(1),
            pollIntervalMs: z.number().int().positive().default(d.filePollIntervalMs),
          })
          .optional(),
        /**
         * Kubernetes: an InferencePool (`poolName`, in `group` inference.networking.k8s.io v1 or
         * the older inference.networking.x-k8s.io v1alpha2), or, without a pool, the pods matching
         * `selector` on `targetPorts` (GIE's --endpoint-selector / --endpoint-target-ports).
         */
        kubernetes: z
          .strictObject({
            namespace: z.string().min(1),
            poolName: z.string().min(1).optional(),
            group: z.enum(inferencePoolGroups).default("inference.networking.k8s.io"),
            selector: z.record(z.string(), z.string()).optional(),
            targetPorts: z.array(z.number().int().min(1).max(65535)).min(1).max(8).optional(),
            /** Watch InferenceObjective and InferenceModelRewrite objects (llm-d.ai/v1alpha2) of the pool. */
            watchObjectives: z.boolean().default(true),
          })
          .refine((k) => (k.poolName === undefined) !== (k.selector === undefined), {
            message: "needs poolName or selector (not both)",
          })
          .refine((k) => k.selector === undefined || k.targetPorts !== undefined, {
            message: "selector needs targetPorts (1 to 8 ports)",
          })
          .optional(),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        scrapeIntervalMs: z.number().int().positive().default(d.scrapeIntervalMs),
        scrapeTimeoutMs: z.number().int().positive().default(d.scrapeTimeoutMs),
        path: z.string().startsWith("/").default(d.metricsPath),
        stalenessMs: z.number().int().positive().default(d.metricsStalenessMs),
        /** How often `/v1/models` is read to learn loaded LoRA adapters (0 = never). */
        modelsIntervalMs: z.number().int().min(0).default(d.modelsIntervalMs),
        /** Scrape this port instead of each endpoint's serving port (GIE --model-server-metrics-port). */
        port: z.number().int().min(1).max(65535).optional(),
        scheme: z.enum(["http", "https"]).default("http"),
        /** https without certificate verification (GIE --model-server-metrics-https-insecure-skip-verify). */
        insecureSkipVerify: z.boolean().default(false),
        /**
         * Metric specs (`family` or `family{label=value,...}`) for endpoints of the default engine,
         * GIE's deprecated --total-queued-requests-metric and friends; "" drops an optional one.
         */
        specs: z
          .strictObject({
            waiting: z.string().min(1).optional(),
            running: z.string().min(1).optional(),
            kvCacheUsage: z.string().min(1).optional(),
            lora: z.string().optional(),
            cacheInfo: z.string().optional(),
          })
          .optional(),
      })
      .prefault({}),
    /** EndpointPickerConfig YAML (inline) or a file relative to the config dir; default: GIE defaults. */
    scheduler: z.strictObject({ configText: z.string().optional(), configFile: z.string().optional() }).prefault({}),
    fallbackEndpoints: z.number().int().min(0).max(16).default(d.fallbackEndpoints),
    /** Honour Envoy's `envoy.lb.subset_hint` endpoint subset (GIE --disable-endpoint-subset-filter turns it off). */
    subsetFilter: z.boolean().default(true),
    /** Add each candidate's score under `x-gateway-destination-endpoint-scores` (GIE --emit-endpoint-scores). */
    emitEndpointScores: z.boolean().default(false),
    /**
     * Who may read /metrics on the admin port: anyone (`none`), or a bearer token that Kubernetes
     * authenticates (TokenReview) and authorizes for `get` on the non-resource URL /metrics
     * (SubjectAccessReview), as GIE's --metrics-endpoint-auth.
     */
    metricsAuth: z.enum(["none", "kubernetes"]).default("none"),
    saturation: z
      .strictObject({
        queueDepthThreshold: z.number().positive().default(d.queueDepthThreshold),
        kvCacheUtilThreshold: z.number().positive().max(1).default(d.kvCacheUtilThreshold),
        metricsStalenessThresholdMs: z.number().int().positive().default(d.saturationStalenessMs),
        headroom: z.number().min(0).default(d.headroom),
      })
      .prefault({}),
    /** InferenceObjective name (header x-gateway-inference-objective) -> priority; negative = sheddable. */
    objectives: z.record(z.string(), z.strictObject({ priority: z.number().int() })).default({}),
    /** Model rewrites by configuration: requests for `from` are served as `to`. */
    modelRewrites: z.array(z.strictObject({ from: z.string().min(1), to: z.string().min(1) })).default([]),
    flowControl: z
      .strictObject({
        enabled: z.boolean().default(false),
        defaultRequestTtlMs: z.number().int().positive().default(d.flowControlTtlMs),
        maxRequests: z.number().int().positive().default(d.flowControlMaxRequests),
        maxBytes: z.number().int().positive().default(d.flowControlMaxBytes),
        pollIntervalMs: z.number().int().positive().default(d.flowControlPollMs),
      })
      .prefault({}),
  })
  .readonly();

export type EndpointPickerServiceConfig = z.infer<typeof endpointPickerConfigSchema>;
