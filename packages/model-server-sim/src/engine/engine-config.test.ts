import { describe, expect, it } from "vitest";
import { enginePresets, stepDurationMs } from "./engine-config.js";

describe("stepDurationMs()", () => {
  it("sums overhead, prefill, decode, KV reads and LoRA loads", () => {
    const p = {
      stepOverheadMs: 5,
      prefillMsPerToken: 0.1,
      decodeMsPerSeq: 0.5,
      kvReadMsPerToken: 0.001,
      loraLoadMs: 20,
    };
    expect(stepDurationMs({ prefillTokens: 100, decodeSeqs: 4, contextTokens: 2000, loraLoads: 1 }, p)).toBeCloseTo(
      5 + 10 + 2 + 2 + 20,
      9,
    );
  });

  it.each(Object.entries(enginePresets))("gives %s an ITL of 10-20 ms at batch 32 x 1k context", (_name, preset) => {
    const ms = stepDurationMs(
      { prefillTokens: 0, decodeSeqs: 32, contextTokens: 32_000, loraLoads: 0 },
      preset.latency,
    );
    expect(ms).toBeGreaterThan(8);
    expect(ms).toBeLessThan(20);
  });
});
