/**
 * Renders vLLM V1's Prometheus exposition for the gauges, counters and
 * histograms a picker reads, with vLLM's names, HELP strings and labels
 * (`vllm/v1/metrics/loggers.py`) and prometheus_client's formatting: labels
 * sorted by name, counters suffixed `_total`, floats as `floatToGoString` prints them.
 */
import type { EngineSnapshot } from "../engine/engine.js";
import type { Histogram } from "./histogram.js";

/** Everything `/metrics` shows, captured at one instant: the engine snapshot and the counters. */
export interface VllmMetricsState extends EngineSnapshot {
  readonly modelName: string;
  /** Value of `vllm:lora_requests_info` (a Unix timestamp in seconds, as vLLM sets it). */
  readonly loraInfoTimestampS: number;
  readonly enablePrefixCaching: boolean;
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly prefixQueryTokens: number;
  readonly prefixHitTokens: number;
  readonly preemptions: number;
  /** Finished requests by `finished_reason` (`length`, `stop`, `abort`). */
  readonly successByReason: Readonly<Record<string, number>>;
  readonly ttft: Histogram;
  readonly itl: Histogram;
  readonly e2e: Histogram;
}

/** Python `repr(float)`: shortest round-trip digits, exponent outside [1e-4, 1e16). */
function pyRepr(d: number): string {
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = d.toExponential().split("e") as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
}

/** prometheus_client's `floatToGoString`. */
export function formatPromFloat(d: number): string {
  if (d === Number.POSITIVE_INFINITY) return "+Inf";
  if (d === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isNaN(d)) return "NaN";
  const s = pyRepr(d);
  const dot = s.indexOf(".");
  if (d > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, "");
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

type Labels = Readonly<Record<string, string>>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",")}}`;
}

function family(out: string[], name: string, type: string, help: string, samples: [Labels, number][]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) out.push(`${name}${labelText(labels)} ${formatPromFloat(v)}`);
}

function histogram(out: string[], name: string, help: string, labels: Labels, h: Histogram): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  const counts = h.counts();
  const les = [...h.buckets.map(formatPromFloat), "+Inf"];
  les.forEach((le, i) => {
    out.push(`${name}_bucket${labelText({ ...labels, le })} ${formatPromFloat(counts[i]!)}`);
  });
  out.push(`${name}_count${labelText(labels)} ${formatPromFloat(h.count())}`);
  out.push(`${name}_sum${labelText(labels)} ${formatPromFloat(h.sum())}`);
}

/** The text of `GET /metrics` (Prometheus text format 0.0.4). */
export function renderVllmMetrics(s: VllmMetricsState): string {
  const l: Labels = { engine: "0", model_name: s.modelName };
  const out: string[] = [];
  family(out, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", [[l, s.running]]);
  family(out, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", [[l, s.waiting]]);
  family(out, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", [[l, s.kvCacheUsage]]);
  family(out, "vllm:lora_requests_info", "gauge", "Running stats on lora requests.", [
    [
      {
        max_lora: String(s.maxLoras),
        running_lora_adapters: s.runningLoras.join(","),
        waiting_lora_adapters: s.waitingLoras.join(","),
      },
      s.loraInfoTimestampS,
    ],
  ]);
  family(out, "vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig", [
    [
      {
        block_size: String(s.blockSize),
        cache_dtype: "auto",
        enable_prefix_caching: s.enablePrefixCaching ? "True" : "False",
        engine: "0",
        gpu_memory_utilization: "0.9",
        num_cpu_blocks: "None",
        num_gpu_blocks: String(s.numGpuBlocks),
        prefix_caching_hash_algo: "sha256",
      },
      1,
    ],
  ]);
  family(out, "vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", [
    [l, s.preemptions],
  ]);
  family(
    out,
    "vllm:prefix_cache_queries_total",
    "counter",
    "Prefix cache queries, in terms of number of queried tokens.",
    [[l, s.prefixQueryTokens]],
  );
  family(out, "vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", [
    [l, s.prefixHitTokens],
  ]);
  family(out, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", [[l, s.promptTokens]]);
  family(out, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", [
    [l, s.generationTokens],
  ]);
  family(
    out,
    "vllm:request_success_total",
    "counter",
    "Count of successfully processed requests.",
    ["stop", "length", "abort"].map((reason) => [{ ...l, finished_reason: reason }, s.successByReason[reason] ?? 0]),
  );
  histogram(out, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", l, s.ttft);
  histogram(out, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", l, s.itl);
  histogram(out, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", l, s.e2e);
  return `${out.join("\n")}\n`;
}
