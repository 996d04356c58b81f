/**
 * Configuration of the HTTP simulator (`startSimulator`, `startSimPool`,
 * `callouts sim`). Parse once with `simConfigSchema.parse(input)`; `{}` gives a
 * working single replica of Llama-3.1-8B-Instruct on the H100 preset.
 */
import { z } from "zod";
import { type EngineConfig, type EnginePresetName, enginePresets } from "../engine/engine-config.js";

const presetNames = Object.keys(enginePresets) as [EnginePresetName, ...EnginePresetName[]];

const fixedFields = {
  waiting: z.number().int().min(0),
  running: z.number().int().min(0),
  kvCacheUsage: z.number().min(0).max(1),
  runningLoras: z.array(z.string().min(1)),
  waitingLoras: z.array(z.string().min(1)),
  /** Fault injected on `GET /metrics`: hang forever, serve garbage, answer 500, or drop the connection. */
  fault: z.enum(["none", "hang", "garbage", "error", "close"]),
};

/** Metric values served in fixed-metrics mode (see `PUT /admin/metrics`). */
export const fixedMetricsSchema = z.strictObject({
  waiting: fixedFields.waiting.default(0),
  running: fixedFields.running.default(0),
  kvCacheUsage: fixedFields.kvCacheUsage.default(0),
  runningLoras: fixedFields.runningLoras.default([]),
  waitingLoras: fixedFields.waitingLoras.default([]),
  fault: fixedFields.fault.default("none"),
});

/** Body of `PUT /admin/metrics`: any subset of the fixed values, merged over the current ones. */
export const fixedMetricsPatchSchema = z.strictObject(fixedFields).partial();
export type FixedMetrics = z.infer<typeof fixedMetricsSchema>;

const latencySchema = z.strictObject({
  stepOverheadMs: z.number().min(0),
  prefillMsPerToken: z.number().min(0),
  decodeMsPerSeq: z.number().min(0),
  kvReadMsPerToken: z.number().min(0),
  loraLoadMs: z.number().min(0),
});

const engineOverridesSchema = z.strictObject({
  blockSize: z.number().int().positive().optional(),
  numGpuBlocks: z.number().int().positive().optional(),
  maxNumSeqs: z.number().int().positive().optional(),
  maxNumBatchedTokens: z.number().int().positive().optional(),
  maxLoras: z.number().int().positive().optional(),
  enablePrefixCaching: z.boolean().optional(),
  latency: latencySchema.partial().optional(),
});

/** Defaults, in one place. */
export const simDefaults = {
  model: "meta-llama/Llama-3.1-8B-Instruct",
  preset: "llama-3-8b-h100-80gb" as EnginePresetName,
  /** Virtual engine milliseconds per wall-clock millisecond (10 = ten times faster than the modelled GPU). */
  speedUp: 1,
  /** Output tokens when a request sets no `max_tokens` (then `finish_reason` is "stop"). */
  defaultMaxTokens: 16,
  /** `--max-model-len`: prompt + max_tokens limit. */
  maxModelLen: 8192,
  host: "127.0.0.1",
  /** 0 = an ephemeral port. */
  port: 0,
  /** Requests kept for `GET /debug/requests` (oldest dropped first). */
  maxRecordedRequests: 1000,
} as const;

export const simConfigSchema = z.strictObject({
  /** Served model name (`--served-model-name`). */
  model: z.string().min(1).default(simDefaults.model),
  /** Reference configuration of the engine model. */
  preset: z.enum(presetNames).default(simDefaults.preset),
  /** Overrides of the preset's engine parameters. */
  engine: engineOverridesSchema.default({}),
  speedUp: z.number().positive().default(simDefaults.speedUp),
  defaultMaxTokens: z.number().int().positive().default(simDefaults.defaultMaxTokens),
  maxModelLen: z.number().int().positive().default(simDefaults.maxModelLen),
  /** LoRA adapters loaded at start (as `--lora-modules name=path`). */
  loras: z.array(z.string().min(1)).default([]),
  /** `engine` serves live engine state on /metrics; `fixed` serves `fixedMetrics`. */
  metricsMode: z.enum(["engine", "fixed"]).default("engine"),
  fixedMetrics: fixedMetricsSchema.default(fixedMetricsSchema.parse({})),
  host: z.string().min(1).default(simDefaults.host),
  port: z.number().int().min(0).max(65535).default(simDefaults.port),
  maxRecordedRequests: z.number().int().min(0).default(simDefaults.maxRecordedRequests),
});
export type SimConfig = z.infer<typeof simConfigSchema>;
export type SimConfigInput = z.input<typeof simConfigSchema>;

export const simPoolConfigSchema = simConfigSchema.extend({
  /** Number of replicas. */
  replicas: z.number().int().positive().default(1),
  /** Port of replica 0; replica i listens on basePort + i. 0 = ephemeral ports. */
  basePort: z.number().int().min(0).max(65535).default(0),
});
export type SimPoolConfig = z.infer<typeof simPoolConfigSchema>;
export type SimPoolConfigInput = z.input<typeof simPoolConfigSchema>;

/** The preset with the config's overrides applied. */
export function engineConfigOf(config: SimConfig): EngineConfig {
  const preset = enginePresets[config.preset];
  const { latency, ...rest } = config.engine;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const latencyDefined = Object.fromEntries(Object.entries(latency ?? {}).filter(([, v]) => v !== undefined));
  return { ...preset, ...defined, latency: { ...preset.latency, ...latencyDefined } };
}
