import { afterEach, describe, expect, it } from "vitest";
import { createObjectiveStore } from "../objectives.js";
import { startFakeKubeApi } from "./fake-kube-api.testdata.js";
import { objectiveApis, watchObjectives } from "./objective-watch.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const base = `/apis/${objectiveApis[0]}/namespaces/ml`;
const gieBase = "/apis/inference.networking.x-k8s.io/v1alpha2/namespaces/ml";
const poolRef = { group: "inference.networking.k8s.io", kind: "InferencePool", name: "llama" };

describe("watchObjectives()", () => {
  it("follows InferenceObjectives and InferenceModelRewrites of the pool, and ignores other pools'", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.put(`${base}/inferenceobjectives`, { metadata: { name: "critical" }, spec: { priority: 10, poolRef } });
    api.put(`${base}/inferenceobjectives`, {
      metadata: { name: "elsewhere" },
      spec: { priority: 5, poolRef: { ...poolRef, name: "other" } },
    });
    api.put(`${base}/inferencemodelrewrites`, {
      metadata: { name: "canary", creationTimestamp: "2026-01-01T00:00:00Z" },
      spec: {
        poolRef: { name: "llama" }, // group and kind default
        rules: [{ matches: [{ model: { type: "Exact", value: "llama" } }], targets: [{ modelRewrite: "llama-v2" }] }],
      },
    });
    const store = createObjectiveStore({ objectives: {}, modelRewrites: [] });
    const errors: string[] = [];
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    watchObjectives({
      connection: { server: new URL(api.url), insecureSkipTlsVerify: true },
      namespace: "ml",
      poolName: "llama",
      poolGroup: "inference.networking.k8s.io",
      store,
      onError: (e) => errors.push(e),
      signal: abort.signal,
    });
    await expect.poll(() => store.priorityOf("critical")).toBe(10);
    expect(store.priorityOf("elsewhere")).toBeUndefined();
    expect(store.rewrite("llama", Math.random)).toEqual({ model: "llama-v2", rewriteName: "canary" });

    await expect.poll(() => api.watchers(`${base}/inferenceobjectives`)).toBe(1);
    api.put(`${base}/inferenceobjectives`, { metadata: { name: "critical" }, spec: { poolRef } }); // priority unset
    await expect.poll(() => store.priorityOf("critical")).toBe(0);
    api.put(`${base}/inferenceobjectives`, {
      metadata: { name: "critical" },
      spec: { priority: 1, poolRef: { ...poolRef, name: "other" } },
    });
    await expect.poll(() => store.priorityOf("critical")).toBeUndefined(); // moved away
    await expect.poll(() => api.watchers(`${base}/inferencemodelrewrites`)).toBe(1);
    api.remove(`${base}/inferencemodelrewrites`, "canary");
    await expect.poll(() => store.rewrite("llama", Math.random)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it("also reads GIE v1.x's inference.networking.x-k8s.io objects; llm-d.ai wins a name in both", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.put(`${gieBase}/inferenceobjectives`, { metadata: { name: "gie-only" }, spec: { priority: 7, poolRef } });
    api.put(`${gieBase}/inferenceobjectives`, { metadata: { name: "both" }, spec: { priority: 1, poolRef } });
    api.put(`${base}/inferenceobjectives`, { metadata: { name: "both" }, spec: { priority: 2, poolRef } });
    api.put(`${gieBase}/inferencemodelrewrites`, {
      metadata: { name: "gie-rewrite" },
      spec: { poolRef, rules: [{ targets: [{ modelRewrite: "everything-to-this", weight: 1 }] }] },
    });
    const store = createObjectiveStore({ objectives: {}, modelRewrites: [] });
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    watchObjectives({
      connection: { server: new URL(api.url), insecureSkipTlsVerify: true },
      namespace: "ml",
      poolName: "llama",
      poolGroup: "inference.networking.k8s.io",
      store,
      onError: () => undefined,
      signal: abort.signal,
    });
    await expect.poll(() => store.priorityOf("gie-only")).toBe(7);
    await expect.poll(() => store.priorityOf("both")).toBe(2);
    await expect.poll(() => store.rewrite("any", Math.random)?.model).toBe("everything-to-this");
    await expect.poll(() => api.watchers(`${gieBase}/inferenceobjectives`)).toBe(1);
    api.remove(`${gieBase}/inferenceobjectives`, "gie-only");
    await expect.poll(() => store.priorityOf("gie-only")).toBeUndefined();
    expect(store.priorityOf("both")).toBe(2);
  });

  it("reports a cluster without the CRDs and keeps retrying", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.missing.add(`${base}/inferenceobjectives`);
    const errors: string[] = [];
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    watchObjectives({
      connection: { server: new URL(api.url), insecureSkipTlsVerify: true },
      namespace: "ml",
      poolName: "llama",
      poolGroup: "inference.networking.k8s.io",
      store: createObjectiveStore({ objectives: {}, modelRewrites: [] }),
      onError: (e) => errors.push(e),
      signal: abort.signal,
    });
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/inferenceobjectives: HTTP 404: the server could not find the requested resource/);
  });
});
