import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TokenEvent } from "../engine/engine.js";
import { createEngine } from "../engine/engine.js";
import type { EngineConfig } from "../engine/engine-config.js";
import { createRealtimeEngine } from "./realtime-engine.js";

const config: EngineConfig = {
  blockSize: 4,
  numGpuBlocks: 16,
  maxNumSeqs: 4,
  maxNumBatchedTokens: 64,
  maxLoras: 1,
  enablePrefixCaching: true,
  latency: { stepOverheadMs: 10, prefillMsPerToken: 1, decodeMsPerSeq: 0, kvReadMsPerToken: 0, loraLoadMs: 0 },
};

describe("createRealtimeEngine()", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sleeps each step's modelled duration divided by speedUp and records virtual latencies", async () => {
    let wall = 0;
    const rt = createRealtimeEngine({ engine: createEngine(config), speedUp: 2, nowMs: () => wall });
    const got: TokenEvent[] = [];
    rt.submit({ id: "a", promptTokenIds: [1, 2, 3, 4, 5, 6, 7, 8], maxTokens: 2 }, "length", (t) => got.push(t));
    // Step 1: 10 + 8 = 18 virtual ms = 9 wall ms.
    wall = 8;
    await vi.advanceTimersByTimeAsync(8);
    expect(got).toHaveLength(0);
    wall = 9;
    await vi.advanceTimersByTimeAsync(1);
    expect(got.map((t) => t.index)).toEqual([0]);
    // Step 2: 10 virtual ms = 5 wall ms.
    wall = 14;
    await vi.advanceTimersByTimeAsync(5);
    expect(got.map((t) => [t.index, t.finished])).toEqual([
      [0, false],
      [1, true],
    ]);
    expect(rt.ttft.sum()).toBeCloseTo(0.018, 9);
    expect(rt.itl.sum()).toBeCloseTo(0.01, 9);
    expect(rt.e2e.sum()).toBeCloseTo(0.028, 9);
    expect(rt.successByReason()).toEqual({ length: 1, stop: 0, abort: 0 });
    rt.close();
  });

  it("reports modelled latencies even when timers fire late", async () => {
    let wall = 0;
    const rt = createRealtimeEngine({ engine: createEngine(config), speedUp: 1000, nowMs: () => wall });
    const got: TokenEvent[] = [];
    rt.submit({ id: "a", promptTokenIds: [1, 2, 3, 4, 5, 6, 7, 8], maxTokens: 2 }, "length", (t) => got.push(t));
    // Steps of 18 and 10 virtual ms should take 0.018 and 0.01 wall ms; the timers fire 5 ms late.
    wall = 5;
    await vi.advanceTimersByTimeAsync(5);
    wall = 10;
    await vi.advanceTimersByTimeAsync(5);
    expect(got).toHaveLength(2);
    expect(rt.ttft.sum()).toBeCloseTo(0.018, 9);
    expect(rt.itl.sum()).toBeCloseTo(0.01, 9);
    rt.close();
  });

  it("counts an abort and stops delivering tokens", async () => {
    const engine = createEngine(config);
    const rt = createRealtimeEngine({ engine, speedUp: 1 });
    const got: TokenEvent[] = [];
    const abort = rt.submit({ id: "a", promptTokenIds: [1, 2, 3, 4], maxTokens: 5 }, "stop", (t) => got.push(t));
    abort();
    abort();
    await vi.advanceTimersByTimeAsync(100);
    expect(got).toEqual([]);
    expect(rt.successByReason().abort).toBe(1);
    expect(engine.hasWork()).toBe(false);
    rt.close();
  });
});
