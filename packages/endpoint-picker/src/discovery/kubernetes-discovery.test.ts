import { afterEach, describe, expect, it } from "vitest";
import type { EndpointSpec } from "../datastore.js";
import { type FakeKubeApi, readyPod, startFakeKubeApi } from "./fake-kube-api.testdata.js";
import type { Discovery } from "./file-discovery.js";
import { createKubernetesDiscovery, type KubernetesDiscoveryOptions } from "./kubernetes-discovery.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const podsPath = "/api/v1/namespaces/ml/pods";
const poolsPath = "/apis/inference.networking.k8s.io/v1/namespaces/ml/inferencepools";
const v1Pool = {
  metadata: { name: "llama", namespace: "ml" },
  spec: { selector: { matchLabels: { app: "llama" } }, targetPorts: [{ number: 8000 }] },
};

async function follow(api: FakeKubeApi, options: Partial<KubernetesDiscoveryOptions>) {
  const lists: EndpointSpec[][] = [];
  const errors: string[] = [];
  const d: Discovery = createKubernetesDiscovery({
    namespace: "ml",
    apiServerUrl: api.url,
    onEndpoints: (l) => lists.push(l),
    onError: (e) => errors.push(e),
    ...options,
  });
  cleanups.push(() => d.stop());
  await d.start();
  const ids = () => (lists.at(-1) ?? []).map((e) => `${e.address}:${e.port}`).join();
  return { ids, errors, lists };
}

describe("createKubernetesDiscovery()", () => {
  it("lists, then watches the InferencePool and its pods, and follows events", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.put(podsPath, readyPod("a", "10.0.0.1", { app: "llama" }));
    api.put(podsPath, readyPod("b", "10.0.0.2", { app: "llama" }, false));
    api.put(poolsPath, v1Pool);
    const { ids, errors } = await follow(api, { poolName: "llama" });
    await expect.poll(ids).toBe("10.0.0.1:8000");
    const gets = api.requests.map((r) => `${r.path}?${r.query}`);
    expect(gets).toContain(`${poolsPath}?fieldSelector=metadata.name%3Dllama`);
    await expect.poll(() => api.watchers(podsPath) + api.watchers(poolsPath)).toBe(2);
    // The watch starts at the list's resourceVersion.
    expect(api.requests.find((r) => r.path === podsPath && r.query.includes("watch=true"))?.query).toMatch(
      /resourceVersion=\d+/,
    );

    api.put(podsPath, readyPod("b", "10.0.0.2", { app: "llama" }));
    await expect.poll(ids).toBe("10.0.0.1:8000,10.0.0.2:8000");
    api.remove(podsPath, "a");
    await expect.poll(ids).toBe("10.0.0.2:8000");
    api.remove(poolsPath, "llama");
    await expect.poll(ids).toBe("");
    expect(errors).toEqual([]);
  });

  it("relists after a watch ends, so a deletion missed meanwhile is not kept", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.put(podsPath, readyPod("a", "10.0.0.1", { app: "llama" }));
    api.put(podsPath, readyPod("b", "10.0.0.2", { app: "llama" }));
    api.put(poolsPath, v1Pool);
    const { ids } = await follow(api, { poolName: "llama" });
    await expect.poll(ids).toBe("10.0.0.1:8000,10.0.0.2:8000");
    await expect.poll(() => api.watchers(podsPath)).toBe(1);
    api.dropWatches();
    await expect.poll(() => api.watchers(podsPath)).toBe(0);
    api.remove(podsPath, "a"); // while nobody watches
    await expect.poll(ids, { timeout: 5000 }).toBe("10.0.0.2:8000");
  });

  it("reads a v1alpha2 pool of inference.networking.x-k8s.io (selector map, targetPortNumber)", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.put(podsPath, readyPod("a", "10.0.0.1", { app: "llama", "llm-d.ai/engine-type": "sglang" }));
    api.put("/apis/inference.networking.x-k8s.io/v1alpha2/namespaces/ml/inferencepools", {
      metadata: { name: "llama" },
      spec: { selector: { app: "llama" }, targetPortNumber: 8001 },
    });
    const { ids, lists } = await follow(api, { poolName: "llama", group: "inference.networking.x-k8s.io" });
    await expect.poll(ids).toBe("10.0.0.1:8001");
    expect(lists.at(-1)?.[0]?.engine).toBe("sglang"); // llm-d's engine-type label
  });

  it("follows pods by selector and target ports without a pool (--endpoint-selector)", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.put(podsPath, readyPod("a", "10.0.0.1", { app: "llama", tier: "gpu" }));
    api.put(podsPath, readyPod("b", "10.0.0.2", { app: "llama" }));
    const { ids } = await follow(api, { selector: { app: "llama", tier: "gpu" }, targetPorts: [8000, 8001] });
    await expect.poll(ids).toBe("10.0.0.1:8000,10.0.0.1:8001");
    expect(api.requests.some((r) => r.path.endsWith("/inferencepools"))).toBe(false);
    expect(api.requests.find((r) => r.path === podsPath)?.query).toContain("labelSelector=app%3Dllama%2Ctier%3Dgpu");
  });
});
