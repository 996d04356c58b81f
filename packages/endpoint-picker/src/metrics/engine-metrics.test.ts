import { describe, expect, it } from "vitest";
import type { EngineType } from "../scheduling/types.js";
import {
  engineMetricSpecs,
  engineSettingsFrom,
  extractEngineMetrics,
  familiesOf,
  parseMetricSpec,
  specWithOverrides,
} from "./engine-metrics.js";
import { parsePromText } from "./prom-text-parser.js";
import { vllmMetricsPage } from "./vllm-page.testdata.js";

function extract(engine: EngineType, page: string) {
  const spec = engineMetricSpecs[engine];
  const parsed = parsePromText(page, familiesOf(spec));
  if ("error" in parsed) return parsed;
  return extractEngineMetrics(parsed.value, spec, 42);
}

describe("extractEngineMetrics()", () => {
  it("reads vLLM gauges, cache config and the newest LoRA series", () => {
    const r = extract(
      "vllm",
      vllmMetricsPage({ waiting: 3, running: 7, kv: 0.5, loras: { running: "a,b", waiting: "c", max: 4 } }),
    );
    expect(r).toEqual({
      value: {
        waitingQueueSize: 3,
        runningRequests: 7,
        kvCacheUsage: 0.5,
        activeModels: new Set(["a", "b"]),
        waitingModels: new Set(["c"]),
        maxActiveModels: 4,
        blockSizeTokens: 16,
        numGpuBlocks: 27000,
        updatedAtMs: 42,
      },
    });
  });

  it("reads SGLang names", () => {
    const r = extract(
      "sglang",
      'sglang:num_queue_reqs{model_name="m"} 2\nsglang:num_running_reqs{model_name="m"} 5\nsglang:token_usage{model_name="m"} 0.25\nsglang:cache_config_info{page_size="1",num_pages="50000"} 1\n',
    );
    expect(
      "value" in r && [
        r.value.waitingQueueSize,
        r.value.runningRequests,
        r.value.kvCacheUsage,
        r.value.blockSizeTokens,
        r.value.numGpuBlocks,
      ],
    ).toEqual([2, 5, 0.25, 1, 50000]);
  });

  it("reads trtllm-serve names", () => {
    const r = extract(
      "trtllm-serve",
      "trtllm_num_requests_waiting 1\ntrtllm_num_requests_running 4\ntrtllm_kv_cache_utilization 0.6\ntrtllm_kv_cache_tokens_per_block 32\ntrtllm_kv_cache_max_blocks 1000\n",
    );
    expect(
      "value" in r && [
        r.value.waitingQueueSize,
        r.value.runningRequests,
        r.value.kvCacheUsage,
        r.value.blockSizeTokens,
        r.value.numGpuBlocks,
      ],
    ).toEqual([1, 4, 0.6, 32, 1000]);
  });

  it("reads Triton TRT-LLM names by label", () => {
    const r = extract(
      "triton-trtllm",
      [
        'nv_trt_llm_request_metrics{model="e",request_type="waiting",version="1"} 6',
        'nv_trt_llm_request_metrics{model="e",request_type="scheduled",version="1"} 9',
        'nv_trt_llm_request_metrics{model="e",request_type="max",version="1"} 512',
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction",model="e",version="1"} 0.3',
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per",model="e",version="1"} 64',
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="e",version="1"} 2000',
        "",
      ].join("\n"),
    );
    expect(
      "value" in r && [
        r.value.waitingQueueSize,
        r.value.runningRequests,
        r.value.kvCacheUsage,
        r.value.blockSizeTokens,
        r.value.numGpuBlocks,
      ],
    ).toEqual([6, 9, 0.3, 64, 2000]);
  });

  it("reports a page without the required gauges", () => {
    expect(extract("vllm", "vllm:num_requests_waiting 1\n")).toEqual({ error: "missing vllm:num_requests_running" });
  });
});

describe("metric specs (GIE flags, llm-d engineConfigs)", () => {
  it("parses family and label matchers, quoted or not, and names a malformed spec", () => {
    expect(parseMetricSpec("vllm:num_requests_waiting")).toEqual({ family: "vllm:num_requests_waiting" });
    expect(parseMetricSpec('nv_trt_llm_request_metrics{request_type=waiting, model="a b"}')).toEqual({
      family: "nv_trt_llm_request_metrics",
      labels: { request_type: "waiting", model: "a b" },
    });
    expect(() => parseMetricSpec("9bad")).toThrow('metric spec "9bad"');
    expect(() => parseMetricSpec("m{=x}")).toThrow("bad label matcher");
  });

  it("applies GIE's --*-metric overrides to a spec, and an empty LoRA spec drops LoRA", () => {
    const spec = specWithOverrides(engineMetricSpecs.vllm, { waiting: "q{kind=w}", lora: "" });
    expect(spec.waiting).toEqual({ family: "q", labels: { kind: "w" } });
    expect(spec.running).toEqual(engineMetricSpecs.vllm.running);
    expect(spec.lora).toBeUndefined();
    expect(spec.cacheInfo).toEqual(engineMetricSpecs.vllm.cacheInfo);
  });

  it("turns core-metrics-extractor parameters into engine settings, as llm-d's chart renders them", () => {
    // llm-d's chart with modelServers.type sglang renders `defaultEngine: "sglang"`.
    expect(engineSettingsFrom({ defaultEngine: "sglang" })).toEqual({
      labelKey: undefined,
      defaultEngine: "sglang",
      specs: {},
    });
    const s = engineSettingsFrom({
      engineLabelKey: "example.com/engine",
      defaultEngine: "triton-tensorrt-llm",
      engineConfigs: [
        {
          name: "vllm",
          queuedRequestsSpec: "custom_waiting",
          runningRequestsSpec: "custom_running",
          kvUsageSpec: "custom_kv{gpu=0}",
          cacheInfoSpec: "custom_cache",
          cacheBlockSizeLabelName: "bs",
        },
      ],
    });
    expect(s.labelKey).toBe("example.com/engine");
    expect(s.defaultEngine).toBe("triton-trtllm");
    expect(s.specs.vllm).toEqual({
      waiting: { family: "custom_waiting" },
      running: { family: "custom_running" },
      kvCacheUsage: { family: "custom_kv", labels: { gpu: "0" } },
      cacheInfo: { selector: { family: "custom_cache" }, blockSizeLabel: "bs", numBlocksLabel: "num_gpu_blocks" },
    });
  });

  it("refuses engines it does not know, missing required specs and customMetrics, by path", () => {
    expect(() => engineSettingsFrom({ defaultEngine: "triton" })).toThrow('defaultEngine "triton"');
    expect(() => engineSettingsFrom({ engineConfigs: [{ name: "mine", queuedRequestsSpec: "a" }] })).toThrow(
      'engineConfigs[0].name "mine"',
    );
    expect(() =>
      engineSettingsFrom({ engineConfigs: [{ name: "vllm", queuedRequestsSpec: "a", runningRequestsSpec: "b" }] }),
    ).toThrow("engineConfigs[0].kvUsageSpec: required");
    expect(() =>
      engineSettingsFrom({
        engineConfigs: [
          {
            name: "sglang",
            queuedRequestsSpec: "a",
            runningRequestsSpec: "b",
            kvUsageSpec: "c",
            customMetrics: [{ attributeKey: "x", metricSpec: "y" }],
          },
        ],
      }),
    ).toThrow("engineConfigs[0].customMetrics");
  });
});
