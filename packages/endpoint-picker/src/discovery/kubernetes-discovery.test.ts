import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { EndpointSpec } from "../datastore.js";
import type { Discovery } from "./file-discovery.js";
import { createKubernetesDiscovery } from "./kubernetes-discovery.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pod = (name: string, ip: string, ready: boolean) => ({
  metadata: { name, labels: { app: "llama" } },
  status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});

/** A fake API server: remembers each watch stream so the test can push events into it. */
async function fakeApiServer() {
  const streams = new Map<string, ServerResponse>();
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    paths.push(`${url.pathname}?${url.searchParams.toString()}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.flushHeaders();
    streams.set(url.pathname.endsWith("/pods") ? "pods" : "pools", res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const send = (stream: "pods" | "pools", type: string, object: unknown) =>
    streams.get(stream)?.write(`${JSON.stringify({ type, object })}\n`);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    send,
    paths,
    ready: () => streams.size === 2,
  };
}

describe("createKubernetesDiscovery()", () => {
  it("watches the InferencePool and its pods and follows events", async () => {
    const api = await fakeApiServer();
    const lists: EndpointSpec[][] = [];
    const errors: string[] = [];
    const d: Discovery = createKubernetesDiscovery({
      namespace: "ml",
      poolName: "llama",
      apiServerUrl: api.url,
      onEndpoints: (l) => lists.push(l),
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => d.stop());
    await d.start();
    await until(api.ready);
    expect(api.paths.sort()).toEqual([
      "/api/v1/namespaces/ml/pods?watch=true",
      "/apis/inference.networking.k8s.io/v1/namespaces/ml/inferencepools?watch=true&fieldSelector=metadata.name%3Dllama",
    ]);

    api.send("pods", "ADDED", pod("a", "10.0.0.1", true));
    api.send("pods", "ADDED", pod("b", "10.0.0.2", false));
    api.send("pools", "ADDED", {
      metadata: { name: "llama", namespace: "ml" },
      spec: { selector: { matchLabels: { app: "llama" } }, targetPorts: [{ number: 8000 }] },
    });
    const ids = () => (lists.at(-1) ?? []).map((e) => `${e.address}:${e.port}`);
    await until(() => ids().join() === "10.0.0.1:8000");

    api.send("pods", "MODIFIED", pod("b", "10.0.0.2", true));
    await until(() => ids().join() === "10.0.0.1:8000,10.0.0.2:8000");

    api.send("pods", "DELETED", pod("a", "10.0.0.1", true));
    await until(() => ids().join() === "10.0.0.2:8000");

    api.send("pools", "DELETED", { metadata: { name: "llama" } });
    await until(() => ids().length === 0);
    expect(errors).toEqual([]);
  });
});
