import { describe, expect, it } from "vitest";
import {
  type InferencePoolLike,
  inferencePoolEndpoints,
  isPodReady,
  matchesSelector,
  type PodLike,
} from "./inference-pool.js";

const pool: InferencePoolLike = {
  metadata: { name: "llama", namespace: "default" },
  spec: { selector: { matchLabels: { app: "vllm-llama" } }, targetPorts: [{ number: 8000 }] },
};

function pod(
  name: string,
  ip: string,
  overrides: { labels?: Record<string, string>; phase?: string; ready?: boolean; deleting?: boolean } = {},
): PodLike {
  return {
    metadata: {
      name,
      labels: overrides.labels ?? { app: "vllm-llama" },
      ...(overrides.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    status: {
      phase: overrides.phase ?? "Running",
      podIP: ip,
      conditions: [{ type: "Ready", status: overrides.ready === false ? "False" : "True" }],
    },
  };
}

describe("matchesSelector()", () => {
  it.each([
    [{ app: "a", x: "y" }, { app: "a" }, true],
    [{ app: "b" }, { app: "a" }, false],
    [{ app: "a" }, {}, false],
  ])("%j vs %j -> %s", (labels, selector, want) => {
    expect(matchesSelector(labels, selector)).toBe(want);
  });
});

describe("isPodReady()", () => {
  it.each([
    { name: "running and ready", p: pod("a", "10.0.0.1"), want: true },
    { name: "not ready", p: pod("a", "10.0.0.1", { ready: false }), want: false },
    { name: "pending", p: pod("a", "10.0.0.1", { phase: "Pending" }), want: false },
    { name: "terminating", p: pod("a", "10.0.0.1", { deleting: true }), want: false },
    { name: "no IP", p: pod("a", ""), want: false },
  ])("$name -> $want", ({ p, want }) => {
    expect(isPodReady(p)).toBe(want);
  });
});

describe("inferencePoolEndpoints()", () => {
  it("maps selected ready pods x target ports to endpoints, engine from the pod label", () => {
    const pods = [
      pod("p2", "10.0.0.2", { labels: { app: "vllm-llama", "inference.networking.k8s.io/engine-type": "sglang" } }),
      pod("p1", "10.0.0.1"),
      pod("other", "10.0.0.9", { labels: { app: "other" } }),
      pod("down", "10.0.0.3", { ready: false }),
    ];
    const out = inferencePoolEndpoints(
      { ...pool, spec: { ...pool.spec, targetPorts: [{ number: 8000 }, { number: 8001 }] } },
      pods,
    );
    expect(out.map((e) => [e.address, e.port, e.engine])).toEqual([
      ["10.0.0.1", 8000, "vllm"],
      ["10.0.0.1", 8001, "vllm"],
      ["10.0.0.2", 8000, "sglang"],
      ["10.0.0.2", 8001, "sglang"],
    ]);
  });

  it("falls back to vLLM for an unknown engine label", () => {
    const out = inferencePoolEndpoints(pool, [
      pod("p", "10.0.0.1", { labels: { app: "vllm-llama", "inference.networking.k8s.io/engine-type": "tgi" } }),
    ]);
    expect(out[0]?.engine).toBe("vllm");
  });

  it("reads the engine from core-metrics-extractor's engineLabelKey, llm-d's names, and its defaultEngine", () => {
    const pods = [
      pod("a", "10.0.0.1", { labels: { app: "vllm-llama", "example.com/engine": "triton-tensorrt-llm" } }),
      pod("b", "10.0.0.2", { labels: { app: "vllm-llama", "llm-d.ai/engine-type": "vllm" } }), // not the configured label
    ];
    const out = inferencePoolEndpoints(pool, pods, { labelKey: "example.com/engine", defaultEngine: "sglang" });
    expect(out.map((e) => e.engine)).toEqual(["triton-trtllm", "sglang"]);
    // Default labels: llm-d's first, then GIE's.
    const both = pod("c", "10.0.0.3", {
      labels: {
        app: "vllm-llama",
        "llm-d.ai/engine-type": "sglang",
        "inference.networking.k8s.io/engine-type": "vllm",
      },
    });
    expect(inferencePoolEndpoints(pool, [both])[0]?.engine).toBe("sglang");
  });

  it("yields nothing for a pool without target ports", () => {
    expect(
      inferencePoolEndpoints({ spec: { selector: { matchLabels: { app: "vllm-llama" } } } }, [pod("p", "10.0.0.1")]),
    ).toEqual([]);
  });
});
