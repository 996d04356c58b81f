import type { EndpointMetrics, EngineType } from "../scheduling/types.js";
import type { PromSample } from "./prom-text-parser.js";

/** A PromQL-style instant selector: family plus required label values. */
export interface MetricSelector {
  readonly family: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Which series carry each signal for one engine (GIE datalayer/extractor/metrics/factories.go). */
export interface EngineMetricSpec {
  readonly waiting: MetricSelector;
  readonly running: MetricSelector;
  readonly kvCacheUsage: MetricSelector;
  /** vLLM `lora_requests_info` (value = timestamp, newest series wins). */
  readonly lora?: MetricSelector;
  /** One info series with block-size and block-count labels. */
  readonly cacheInfo?: {
    readonly selector: MetricSelector;
    readonly blockSizeLabel: string;
    readonly numBlocksLabel: string;
  };
  /** Or two gauges. */
  readonly blockSize?: MetricSelector;
  readonly numBlocks?: MetricSelector;
}

export const engineMetricSpecs: Readonly<Record<EngineType, EngineMetricSpec>> = {
  vllm: {
    waiting: { family: "vllm:num_requests_waiting" },
    running: { family: "vllm:num_requests_running" },
    kvCacheUsage: { family: "vllm:kv_cache_usage_perc" },
    lora: { family: "vllm:lora_requests_info" },
    cacheInfo: {
      selector: { family: "vllm:cache_config_info" },
      blockSizeLabel: "block_size",
      numBlocksLabel: "num_gpu_blocks",
    },
  },
  sglang: {
    waiting: { family: "sglang:num_queue_reqs" },
    running: { family: "sglang:num_running_reqs" },
    kvCacheUsage: { family: "sglang:token_usage" },
    cacheInfo: {
      selector: { family: "sglang:cache_config_info" },
      blockSizeLabel: "page_size",
      numBlocksLabel: "num_pages",
    },
  },
  "trtllm-serve": {
    waiting: { family: "trtllm_num_requests_waiting" },
    running: { family: "trtllm_num_requests_running" },
    kvCacheUsage: { family: "trtllm_kv_cache_utilization" },
    blockSize: { family: "trtllm_kv_cache_tokens_per_block" },
    numBlocks: { family: "trtllm_kv_cache_max_blocks" },
  },
  "triton-trtllm": {
    waiting: { family: "nv_trt_llm_request_metrics", labels: { request_type: "waiting" } },
    running: { family: "nv_trt_llm_request_metrics", labels: { request_type: "scheduled" } },
    kvCacheUsage: { family: "nv_trt_llm_kv_cache_block_metrics", labels: { kv_cache_block_type: "fraction" } },
    blockSize: { family: "nv_trt_llm_kv_cache_block_metrics", labels: { kv_cache_block_type: "tokens_per" } },
    numBlocks: { family: "nv_trt_llm_kv_cache_block_metrics", labels: { kv_cache_block_type: "max" } },
  },
};

/** Family names a spec reads (what the parser should keep). */
export function familiesOf(spec: EngineMetricSpec): Set<string> {
  const s = new Set<string>([spec.waiting.family, spec.running.family, spec.kvCacheUsage.family]);
  if (spec.lora) s.add(spec.lora.family);
  if (spec.cacheInfo) s.add(spec.cacheInfo.selector.family);
  if (spec.blockSize) s.add(spec.blockSize.family);
  if (spec.numBlocks) s.add(spec.numBlocks.family);
  return s;
}

function select(samples: ReadonlyMap<string, PromSample[]>, sel: MetricSelector): PromSample[] {
  const list = samples.get(sel.family) ?? [];
  const want = sel.labels;
  if (!want) return list;
  return list.filter((s) => Object.entries(want).every(([k, v]) => s.labels[k] === v));
}

/** Sum of the selected series (several series for one family, e.g. per model_name, add up). */
function sumOf(samples: ReadonlyMap<string, PromSample[]>, sel: MetricSelector): number | undefined {
  const list = select(samples, sel);
  if (list.length === 0) return undefined;
  return list.reduce((acc, s) => acc + s.value, 0);
}

const csv = (v: string | undefined) =>
  new Set(
    (v ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== ""),
  );

/** Maps parsed samples to EndpointMetrics; waiting, running and KV usage are required. */
export function extractEngineMetrics(
  samples: ReadonlyMap<string, PromSample[]>,
  spec: EngineMetricSpec,
  nowMs: number,
): { value: EndpointMetrics } | { error: string } {
  const waiting = sumOf(samples, spec.waiting);
  const running = sumOf(samples, spec.running);
  const kvList = select(samples, spec.kvCacheUsage);
  if (waiting === undefined) return { error: `missing ${spec.waiting.family}` };
  if (running === undefined) return { error: `missing ${spec.running.family}` };
  if (kvList.length === 0) return { error: `missing ${spec.kvCacheUsage.family}` };
  const kv = Math.max(...kvList.map((s) => s.value));
  if (![waiting, running, kv].every(Number.isFinite)) return { error: "non-finite gauge value" };

  let activeModels = new Set<string>();
  let waitingModels = new Set<string>();
  let maxActiveModels = 0;
  if (spec.lora) {
    let newest: PromSample | undefined;
    for (const s of select(samples, spec.lora)) if (!newest || s.value > newest.value) newest = s;
    if (newest) {
      activeModels = csv(newest.labels.running_lora_adapters);
      waitingModels = csv(newest.labels.waiting_lora_adapters);
      maxActiveModels = Number(newest.labels.max_lora ?? 0) || 0;
    }
  }
  let blockSizeTokens: number | undefined;
  let numGpuBlocks: number | undefined;
  if (spec.cacheInfo) {
    const info = select(samples, spec.cacheInfo.selector)[0];
    blockSizeTokens = positive(Number(info?.labels[spec.cacheInfo.blockSizeLabel]));
    numGpuBlocks = positive(Number(info?.labels[spec.cacheInfo.numBlocksLabel]));
  }
  if (spec.blockSize) blockSizeTokens = positive(sumOf(samples, spec.blockSize));
  if (spec.numBlocks) numGpuBlocks = positive(sumOf(samples, spec.numBlocks));
  return {
    value: {
      waitingQueueSize: waiting,
      runningRequests: running,
      kvCacheUsage: kv,
      activeModels,
      waitingModels,
      maxActiveModels,
      ...(blockSizeTokens === undefined ? {} : { blockSizeTokens }),
      ...(numGpuBlocks === undefined ? {} : { numGpuBlocks }),
      updatedAtMs: nowMs,
    },
  };
}

function positive(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * A metric spec as GIE's flags and llm-d's engineConfigs write it: `family` or
 * `family{label=value,label2="value 2"}`. Throws naming the spec when it is malformed.
 */
export function parseMetricSpec(spec: string): MetricSelector {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$/.exec(spec);
  if (!m) throw new Error(`metric spec ${JSON.stringify(spec)}: expected name or name{label=value,...}`);
  const family = m[1] as string;
  const inner = (m[2] ?? "").trim();
  if (inner === "") return { family };
  const labels: Record<string, string> = {};
  for (const term of inner.split(",")) {
    const t = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*(?:"([^"]*)"|([^",]*?))\s*$/.exec(term);
    if (!t) throw new Error(`metric spec ${JSON.stringify(spec)}: bad label matcher ${JSON.stringify(term.trim())}`);
    labels[t[1] as string] = (t[2] ?? t[3] ?? "") as string;
  }
  return { family, labels };
}

/** The default engine's spec with GIE's --*-metric overrides applied ("" drops LoRA or cache info). */
export function specWithOverrides(
  base: EngineMetricSpec,
  overrides: {
    readonly waiting?: string | undefined;
    readonly running?: string | undefined;
    readonly kvCacheUsage?: string | undefined;
    readonly lora?: string | undefined;
    readonly cacheInfo?: string | undefined;
  },
): EngineMetricSpec {
  const { lora: _lora, cacheInfo: _cacheInfo, ...required } = base;
  const lora =
    overrides.lora === undefined ? base.lora : overrides.lora === "" ? undefined : parseMetricSpec(overrides.lora);
  const cacheInfo =
    overrides.cacheInfo === undefined
      ? base.cacheInfo
      : overrides.cacheInfo === ""
        ? undefined
        : {
            selector: parseMetricSpec(overrides.cacheInfo),
            blockSizeLabel: base.cacheInfo?.blockSizeLabel ?? "block_size",
            numBlocksLabel: base.cacheInfo?.numBlocksLabel ?? "num_gpu_blocks",
          };
  return {
    ...required,
    ...(overrides.waiting ? { waiting: parseMetricSpec(overrides.waiting) } : {}),
    ...(overrides.running ? { running: parseMetricSpec(overrides.running) } : {}),
    ...(overrides.kvCacheUsage ? { kvCacheUsage: parseMetricSpec(overrides.kvCacheUsage) } : {}),
    ...(lora ? { lora } : {}),
    ...(cacheInfo ? { cacheInfo } : {}),
  };
}

/** llm-d's engine names on ours (the label values and engineConfigs names upstream uses). */
const engineNames: Readonly<Record<string, EngineType>> = {
  vllm: "vllm",
  sglang: "sglang",
  "trtllm-serve": "trtllm-serve",
  "triton-tensorrt-llm": "triton-trtllm",
  "triton-trtllm": "triton-trtllm",
};

/** Our engine for an upstream engine name, or undefined when this picker has none by that name. */
export function engineOf(name: string): EngineType | undefined {
  return engineNames[name];
}

/** What `core-metrics-extractor`'s parameters decide: the label, the default engine, per-engine specs. */
export interface EngineSettings {
  /** Pod label naming the engine; undefined: llm-d's `llm-d.ai/engine-type`, then GIE's. */
  readonly labelKey: string | undefined;
  readonly defaultEngine: EngineType;
  readonly specs: Partial<Record<EngineType, EngineMetricSpec>>;
}

interface EngineConfigParams {
  readonly name: string;
  readonly queuedRequestsSpec?: string | undefined;
  readonly runningRequestsSpec?: string | undefined;
  readonly kvUsageSpec?: string | undefined;
  readonly loraSpec?: string | undefined;
  readonly cacheInfoSpec?: string | undefined;
  readonly cacheBlockSizeLabelName?: string | undefined;
  readonly cacheNumBlocksLabelName?: string | undefined;
  readonly cacheBlockSizeSpec?: string | undefined;
  readonly cacheNumBlocksSpec?: string | undefined;
  readonly customMetrics?: readonly unknown[] | undefined;
}

/**
 * llm-d's core-metrics-extractor parameters (engineLabelKey, defaultEngine, engineConfigs) as
 * scraper settings. An engineConfigs entry replaces that engine's built-in spec, as upstream;
 * the queue, running and KV-usage specs are required here (the scorers need them), LoRA and
 * cache info are optional. Throws naming the entry for an engine this picker does not know
 * (upstream's `triton` has no KV-cache metric) or for customMetrics.
 */
export function engineSettingsFrom(params: {
  readonly engineLabelKey?: string | undefined;
  readonly defaultEngine?: string | undefined;
  readonly engineConfigs?: readonly EngineConfigParams[] | undefined;
}): EngineSettings {
  const known = Object.keys(engineNames).join(", ");
  const defaultName = params.defaultEngine ?? "vllm";
  const defaultEngine = engineOf(defaultName);
  if (!defaultEngine) throw new Error(`defaultEngine ${JSON.stringify(defaultName)}: supported engines are ${known}`);
  const specs: Partial<Record<EngineType, EngineMetricSpec>> = {};
  (params.engineConfigs ?? []).forEach((c, i) => {
    const where = `engineConfigs[${i}]`;
    const engine = engineOf(c.name);
    if (!engine) throw new Error(`${where}.name ${JSON.stringify(c.name)}: supported engines are ${known}`);
    if (c.customMetrics && c.customMetrics.length > 0) throw new Error(`${where}.customMetrics: not supported`);
    const required = (key: "queuedRequestsSpec" | "runningRequestsSpec" | "kvUsageSpec") => {
      const spec = c[key];
      if (!spec) throw new Error(`${where}.${key}: required here (the scorers read it)`);
      try {
        return parseMetricSpec(spec);
      } catch (error) {
        throw new Error(`${where}.${key}: ${(error as Error).message}`);
      }
    };
    const optional = (spec: string | undefined) => (spec ? parseMetricSpec(spec) : undefined);
    const lora = optional(c.loraSpec);
    const cacheInfo = optional(c.cacheInfoSpec);
    const blockSize = optional(c.cacheBlockSizeSpec);
    const numBlocks = optional(c.cacheNumBlocksSpec);
    specs[engine] = {
      waiting: required("queuedRequestsSpec"),
      running: required("runningRequestsSpec"),
      kvCacheUsage: required("kvUsageSpec"),
      ...(lora ? { lora } : {}),
      ...(cacheInfo
        ? {
            cacheInfo: {
              selector: cacheInfo,
              blockSizeLabel: c.cacheBlockSizeLabelName ?? "block_size",
              numBlocksLabel: c.cacheNumBlocksLabelName ?? "num_gpu_blocks",
            },
          }
        : {}),
      ...(blockSize ? { blockSize } : {}),
      ...(numBlocks ? { numBlocks } : {}),
    };
  });
  return { labelKey: params.engineLabelKey, defaultEngine, specs };
}
