import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createHistogram } from "./histogram.js";
import { formatPromFloat, renderVllmMetrics, type VllmMetricsState } from "./metrics-text.js";

describe("formatPromFloat()", () => {
  it.each([
    { v: 0, want: "0.0" },
    { v: 1, want: "1.0" },
    { v: 16, want: "16.0" },
    { v: 0.25, want: "0.25" },
    { v: 0.001, want: "0.001" },
    { v: 0.00001, want: "1e-05" },
    { v: 2560, want: "2560.0" },
    { v: 123456, want: "123456.0" },
    { v: 1234567, want: "1.234567e+06" },
    { v: 1763700000.5, want: "1.7637000005e+09" },
    { v: Number.POSITIVE_INFINITY, want: "+Inf" },
    { v: Number.NaN, want: "NaN" },
  ])("formats $v as $want (prometheus_client floatToGoString)", ({ v, want }) => {
    expect(formatPromFloat(v)).toBe(want);
  });
});

function state(): VllmMetricsState {
  const ttft = createHistogram([0.1, 1]);
  ttft.observe(0.05);
  ttft.observe(0.5);
  const itl = createHistogram([0.01, 0.1]);
  itl.observe(0.02);
  const e2e = createHistogram([1]);
  e2e.observe(2);
  return {
    modelName: "meta-llama/Llama-3.1-8B-Instruct",
    waiting: 3,
    running: 7,
    kvCacheUsage: 0.4375,
    runningLoras: ["sql-lora", "chat-lora"],
    waitingLoras: ["math-lora"],
    maxLoras: 4,
    loraInfoTimestampS: 1763700000.5,
    blockSize: 16,
    numGpuBlocks: 27000,
    enablePrefixCaching: true,
    promptTokens: 1200,
    generationTokens: 340,
    prefixQueryTokens: 1200,
    prefixHitTokens: 512,
    preemptions: 1,
    successByReason: { length: 2, stop: 1 },
    ttft,
    itl,
    e2e,
  };
}

describe("renderVllmMetrics()", () => {
  it("matches the golden exposition", () => {
    const golden = readFileSync(new URL("./testdata/metrics.golden.txt", import.meta.url), "utf8");
    expect(renderVllmMetrics(state())).toBe(golden);
  });

  it("escapes label values", () => {
    const text = renderVllmMetrics({ ...state(), modelName: 'a"b\\c' });
    expect(text).toContain('vllm:num_requests_running{engine="0",model_name="a\\"b\\\\c"} 7.0');
  });
});
