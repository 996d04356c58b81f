import { z } from "zod";
import { parseGoDurationMs } from "../upstream/units.js";
import { parsePluginParams } from "./plugin-params.js";
import type { ConfigPlugin, PluginFactory } from "./types.js";

/**
 * Upstream plugin types that configure the picker instead of scoring endpoints. Each is
 * validated here (strict parameters, as upstream's strict decoder) and read by the part of the
 * picker that does the job:
 * - parsers: the picker's one request parser (`@llm-callouts/llm-api`) reads OpenAI and Anthropic
 *   shapes and any other JSON body, so these select nothing; they are accepted so a config names them.
 * - data layer: `metrics-data-source` sets the scrape scheme, path, port, TLS and interval;
 *   `core-metrics-extractor` sets the engine label, default engine and per-engine metric specs;
 *   `models-data-source` / `models-data-extractor` turn on the `/v1/models` poller.
 * - `utilization-detector`: the saturation thresholds of admission and flow control.
 * - `approx-prefix-cache-producer`: the prefix index settings `prefix-cache-scorer` uses.
 * - flow-control policies our queue implements (round-robin between flows, FCFS within one).
 */

const goDuration = z.string().refine((s) => parseGoDurationMs(s) !== undefined, "must be a Go duration such as 150ms");

function configPlugin<S extends z.ZodType<Record<string, unknown>>>(
  kind: ConfigPlugin["kind"],
  type: string,
  schema: S,
): PluginFactory {
  return (name, params) => {
    const parsed = parsePluginParams(schema, params);
    if ("error" in parsed) return parsed;
    const plugin: ConfigPlugin = { kind, typedName: { type, name }, settings: parsed.value };
    return { plugin };
  };
}

const noParams = z.strictObject({});

/** `metrics-data-source` parameters (llm-d datalayer/source/metrics); insecureSkipVerify defaults to true upstream. */
export const metricsSourceSchema = z.strictObject({
  scheme: z.enum(["http", "https"]).default("http"),
  path: z.string().startsWith("/").default("/metrics"),
  port: z.number().int().min(1).max(65535).optional(),
  insecureSkipVerify: z.boolean().default(true),
  caCertPath: z.string().optional(),
  clientCertPath: z.string().optional(),
  clientKeyPath: z.string().optional(),
  interval: goDuration.optional(),
});
export type MetricsSourceSettings = z.infer<typeof metricsSourceSchema>;

const engineConfigSchema = z.strictObject({
  name: z.string().min(1),
  queuedRequestsSpec: z.string().optional(),
  runningRequestsSpec: z.string().optional(),
  kvUsageSpec: z.string().optional(),
  loraSpec: z.string().optional(),
  cacheInfoSpec: z.string().optional(),
  cacheBlockSizeLabelName: z.string().optional(),
  cacheNumBlocksLabelName: z.string().optional(),
  cacheBlockSizeSpec: z.string().optional(),
  cacheNumBlocksSpec: z.string().optional(),
  customMetrics: z.array(z.strictObject({ attributeKey: z.string(), metricSpec: z.string() })).optional(),
});

/** `core-metrics-extractor` parameters. */
export const metricsExtractorSchema = z.strictObject({
  engineLabelKey: z.string().min(1).optional(),
  defaultEngine: z.string().min(1).optional(),
  engineConfigs: z.array(engineConfigSchema).default([]),
});
export type MetricsExtractorSettings = z.infer<typeof metricsExtractorSchema>;

/** `utilization-detector` parameters (llm-d flowcontrol/saturationdetector/utilization). */
export const utilizationDetectorSchema = z.strictObject({
  queueDepthThreshold: z.number().int().positive().optional(),
  kvCacheUtilThreshold: z.number().positive().max(1).optional(),
  metricsStalenessThreshold: goDuration.optional(),
  headroom: z.number().min(0).optional(),
});
export type UtilizationDetectorSettings = z.infer<typeof utilizationDetectorSchema>;

/** `approx-prefix-cache-producer` parameters (llm-d dataproducer/approximateprefix). */
export const approxPrefixSchema = z.strictObject({
  autoTune: z.boolean().optional(),
  blockSizeTokens: z.number().int().positive().optional(),
  /** Deprecated upstream: block size in characters. */
  blockSize: z.number().int().min(0).optional(),
  maxPrefixBlocksToMatch: z.number().int().min(0).optional(),
  maxPrefixTokensToMatch: z.number().int().min(0).optional(),
  lruCapacityPerServer: z.number().int().positive().optional(),
});
export type ApproxPrefixSettings = z.infer<typeof approxPrefixSchema>;

export const approxPrefixProducerType = "approx-prefix-cache-producer";
export const utilizationDetectorType = "utilization-detector";
export const metricsDataSourceType = "metrics-data-source";
export const metricsExtractorType = "core-metrics-extractor";
export const modelsDataSourceType = "models-data-source";
export const modelsExtractorType = "models-data-extractor";

/** Parser types a `parser` / `requestHandler.parsers` ref may name without declaring a plugin (as upstream). */
export const parserTypes: ReadonlySet<string> = new Set([
  "openai-parser",
  "anthropic-parser",
  "vllmhttp-parser",
  "passthrough-parser",
]);

/** Every config-only type with its factory, in one list (registered by `registerBuiltins`). */
export const configPluginFactories: Readonly<Record<string, PluginFactory>> = {
  "openai-parser": configPlugin("parser", "openai-parser", noParams),
  "anthropic-parser": configPlugin("parser", "anthropic-parser", noParams),
  "vllmhttp-parser": configPlugin("parser", "vllmhttp-parser", noParams),
  "passthrough-parser": configPlugin("parser", "passthrough-parser", noParams),
  [metricsDataSourceType]: configPlugin("data-source", metricsDataSourceType, metricsSourceSchema),
  [metricsExtractorType]: configPlugin("data-extractor", metricsExtractorType, metricsExtractorSchema),
  [modelsDataSourceType]: configPlugin(
    "data-source",
    modelsDataSourceType,
    z.strictObject({
      scheme: z.enum(["http", "https"]).optional(),
      path: z.string().optional(),
      interval: goDuration.optional(),
    }),
  ),
  [modelsExtractorType]: configPlugin("data-extractor", modelsExtractorType, noParams),
  [utilizationDetectorType]: configPlugin("saturation-detector", utilizationDetectorType, utilizationDetectorSchema),
  [approxPrefixProducerType]: configPlugin("data-producer", approxPrefixProducerType, approxPrefixSchema),
  "round-robin-fairness-policy": configPlugin("flow-policy", "round-robin-fairness-policy", noParams),
  "fcfs-ordering-policy": configPlugin("flow-policy", "fcfs-ordering-policy", noParams),
};

/** The settings of a config plugin of `type`, typed by the caller's schema. */
export function settingsOf<T>(plugin: ConfigPlugin | undefined, type: string): T | undefined {
  return plugin && plugin.typedName.type === type ? (plugin.settings as T) : undefined;
}
