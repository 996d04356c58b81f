import { afterEach, describe, expect, it } from "vitest";
import { createObjectiveStore } from "../objectives.js";
import { startFakeKubeApi } from "./fake-kube-api.testdata.js";
import { objectiveApi, watchObjectives } from "./objective-watch.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const base = `/apis/${objectiveApi}/namespaces/ml`;
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
