import { describe, expect, it } from "vitest";
import { createEngine, type Engine, type TokenEvent } from "./engine.js";
import type { EngineConfig } from "./engine-config.js";

const config: EngineConfig = {
  blockSize: 4,
  numGpuBlocks: 8,
  maxNumSeqs: 2,
  maxNumBatchedTokens: 16,
  maxLoras: 1,
  enablePrefixCaching: true,
  latency: { stepOverheadMs: 10, prefillMsPerToken: 1, decodeMsPerSeq: 2, kvReadMsPerToken: 0, loraLoadMs: 50 },
};
const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** Runs one step; returns its duration and events. */
function step(engine: Engine): { ms: number | undefined; events: TokenEvent[] } {
  const ms = engine.beginStep(0);
  return { ms, events: ms === undefined ? [] : engine.endStep() };
}

/** Runs until idle; returns every step duration. */
function drain(engine: Engine): number[] {
  const out: number[] = [];
  for (let s = step(engine); s.ms !== undefined; s = step(engine)) out.push(s.ms);
  return out;
}

describe("createEngine()", () => {
  it("prefills the prompt in one step, then decodes one token per step", () => {
    const e = createEngine(config);
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 3 });
    expect(step(e)).toEqual({ ms: 18, events: [{ requestId: "a", index: 0, finished: false, cachedPromptTokens: 0 }] });
    expect(step(e)).toEqual({ ms: 12, events: [{ requestId: "a", index: 1, finished: false, cachedPromptTokens: 0 }] });
    expect(step(e)).toEqual({ ms: 12, events: [{ requestId: "a", index: 2, finished: true, cachedPromptTokens: 0 }] });
    expect(e.hasWork()).toBe(false);
    expect(e.beginStep(0)).toBeUndefined();
    expect(e.counters()).toEqual({
      steps: 3,
      promptTokens: 8,
      generationTokens: 3,
      prefixQueryTokens: 8,
      prefixHitTokens: 0,
      preemptions: 0,
      evictions: 0,
      loraLoads: 0,
      finished: 1,
    });
    expect(e.snapshot().kvCacheUsage).toBe(0);
  });

  it("chunks a prefill that exceeds the step token budget", () => {
    const e = createEngine({ ...config, maxNumBatchedTokens: 6 });
    e.add({ id: "a", promptTokenIds: seq(10), maxTokens: 1 });
    expect(step(e)).toEqual({ ms: 16, events: [] });
    expect(step(e)).toEqual({ ms: 14, events: [{ requestId: "a", index: 0, finished: true, cachedPromptTokens: 0 }] });
  });

  it("batches up to maxNumSeqs and queues the rest FCFS", () => {
    const e = createEngine(config);
    for (const id of ["a", "b", "c"]) e.add({ id, promptTokenIds: seq(4, id.charCodeAt(0) * 10), maxTokens: 2 });
    expect(e.beginStep(0)).toBe(18);
    expect(e.snapshot()).toMatchObject({ running: 2, waiting: 1 });
    expect(e.endStep().map((t) => t.requestId)).toEqual(["a", "b"]);
    expect(step(e).events.map((t) => [t.requestId, t.finished])).toEqual([
      ["a", true],
      ["b", true],
    ]);
    expect(e.snapshot()).toMatchObject({ running: 0, waiting: 1 });
    expect(step(e).events.map((t) => t.requestId)).toEqual(["c"]);
  });

  it("serves a cached prefix and prefills only the rest", () => {
    const e = createEngine(config);
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 1 });
    drain(e);
    e.add({ id: "b", promptTokenIds: seq(12), maxTokens: 1 });
    expect(step(e)).toEqual({ ms: 14, events: [{ requestId: "b", index: 0, finished: true, cachedPromptTokens: 8 }] });
    expect(e.counters()).toMatchObject({ prefixQueryTokens: 20, prefixHitTokens: 8 });
  });

  it("recomputes the last block of a fully cached prompt (so there is a token to sample)", () => {
    const e = createEngine(config);
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 1 });
    drain(e);
    e.add({ id: "b", promptTokenIds: seq(8), maxTokens: 1 });
    expect(step(e)).toEqual({ ms: 14, events: [{ requestId: "b", index: 0, finished: true, cachedPromptTokens: 4 }] });
  });

  it("does not share cached blocks across LoRA adapters", () => {
    const e = createEngine({ ...config, maxLoras: 2 });
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 1, lora: "x" });
    drain(e);
    e.add({ id: "b", promptTokenIds: seq(12), maxTokens: 1, lora: "y" });
    expect(step(e).events[0]?.cachedPromptTokens).toBe(0);
  });

  it("evicts the least recently freed cached blocks when it needs space", () => {
    const e = createEngine(config);
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 2 });
    drain(e);
    // a freed blocks [0, 1, 2] tail first: free queue is 3..7, 2, 1, 0; block 2 holds no prompt hash.
    e.add({ id: "d", promptTokenIds: seq(28, 100), maxTokens: 1 });
    drain(e);
    expect(e.counters().evictions).toBe(1);
    e.add({ id: "b", promptTokenIds: seq(12), maxTokens: 1 });
    expect(step(e).events[0]?.cachedPromptTokens).toBe(4);
  });

  it("preempts the newest running request when the KV cache runs out, then recomputes it", () => {
    const e = createEngine({ ...config, numGpuBlocks: 4 });
    e.add({ id: "e", promptTokenIds: seq(7), maxTokens: 5 });
    e.add({ id: "f", promptTokenIds: seq(7, 50), maxTokens: 5 });
    expect(step(e).ms).toBe(24);
    expect(step(e).ms).toBe(14);
    expect(e.snapshot().kvCacheUsage).toBe(1);
    expect(step(e)).toEqual({ ms: 12, events: [{ requestId: "e", index: 2, finished: false, cachedPromptTokens: 0 }] });
    expect(e.snapshot()).toMatchObject({ running: 1, waiting: 1 });
    expect(e.counters().preemptions).toBe(1);
    drain(e);
    expect(e.counters()).toMatchObject({ finished: 2, generationTokens: 10, preemptions: 1 });
  });

  it("limits distinct adapters per batch to maxLoras and charges a swap for each load", () => {
    const e = createEngine(config);
    e.add({ id: "g", promptTokenIds: seq(4), maxTokens: 2, lora: "a" });
    e.add({ id: "h", promptTokenIds: seq(4, 10), maxTokens: 1, lora: "b" });
    expect(e.beginStep(0)).toBe(64);
    expect(e.snapshot()).toMatchObject({
      running: 1,
      waiting: 1,
      runningLoras: ["a"],
      waitingLoras: ["b"],
      maxLoras: 1,
    });
    e.endStep();
    expect(step(e)).toEqual({ ms: 12, events: [{ requestId: "g", index: 1, finished: true, cachedPromptTokens: 0 }] });
    expect(step(e)).toEqual({ ms: 64, events: [{ requestId: "h", index: 0, finished: true, cachedPromptTokens: 0 }] });
    expect(e.counters().loraLoads).toBe(2);
  });

  it("lets base-model requests join a batch whose adapter slots are full", () => {
    const e = createEngine(config);
    e.add({ id: "g", promptTokenIds: seq(4), maxTokens: 1, lora: "a" });
    e.add({ id: "h", promptTokenIds: seq(4, 10), maxTokens: 1 });
    expect(step(e).events.map((t) => t.requestId)).toEqual(["g", "h"]);
  });

  it("releases an aborted request's blocks", () => {
    const e = createEngine(config);
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 5 });
    step(e);
    expect(e.snapshot().kvCacheUsage).toBe(0.25);
    expect(e.abort("a")).toBe(true);
    expect(e.abort("a")).toBe(false);
    expect(e.snapshot()).toMatchObject({ running: 0, waiting: 0, kvCacheUsage: 0 });
  });

  it("adds KV read cost per context token to the step time", () => {
    const e = createEngine({ ...config, latency: { ...config.latency, kvReadMsPerToken: 0.5 } });
    e.add({ id: "a", promptTokenIds: seq(8), maxTokens: 2 });
    expect(drain(e)).toEqual([10 + 8 + 4, 10 + 2 + 4.5]);
  });
});
