import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chatCompletionAnswer, createEnvoyClient } from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { embeddingOf } from "@llm-callouts/model-server-sim";
import { createCircuitBreaker } from "@llm-callouts/remote";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dot } from "./cache-store.js";
import { configSchema } from "./config.js";
import { normalize } from "./embedder.js";
import { createSemanticCacheService } from "./service.js";
import { startVertexContractServer, type VertexContractServer } from "./vertex-contract.testdata.js";
import { createVertexEmbedder, type VertexEmbedderOptions } from "./vertex-embedder.js";

let vertex: VertexContractServer;
let keyFile: string;
const dir = mkdtempSync(join(tmpdir(), "vertex-"));
beforeAll(async () => {
  vertex = await startVertexContractServer();
  keyFile = vertex.keyFile(dir);
});
afterAll(async () => {
  await vertex.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  vertex.mode = "ok";
});

const options = (extra: Partial<VertexEmbedderOptions> = {}): VertexEmbedderOptions => ({
  project: vertex.project,
  location: "us-central1",
  model: "text-embedding-005",
  apiEndpoint: vertex.url,
  keyFile,
  dimensions: 64,
  timeoutMs: 2_000,
  ...extra,
});

describe("createVertexEmbedder() against the Vertex AI contract server", () => {
  it("signs in through a Workload Identity Federation token exchange once and returns the model's vectors", async () => {
    const grantsBefore = vertex.grants;
    const embedder = await createVertexEmbedder(options());
    expect([embedder.id, embedder.dimensions]).toEqual(["vertex:text-embedding-005:64", 64]);
    const [a, b] = await Promise.all(["How do I reset my password?", "bake bread"].map((t) => embedder.embed(t)));
    const expected = normalize(Float32Array.from(embeddingOf("How do I reset my password?", 64)));
    expect(dot(a as Float32Array, expected)).toBeCloseTo(1, 5);
    expect(dot(b as Float32Array, b as Float32Array)).toBeCloseTo(1, 5);
    // One grant: the token is cached across the probe and the calls.
    expect(vertex.grants - grantsBefore).toBe(1);
    expect(vertex.predictCalls.at(-1)?.taskTypes.every((t) => t === "SEMANTIC_SIMILARITY")).toBe(true);
  });

  it("batches 64 concurrent lookups into a few predict calls, capped at Vertex's 250", async () => {
    const embedder = await createVertexEmbedder(options({ maxBatch: 1_000, batchWindowMs: 5 }));
    const before = vertex.predictCalls.length;
    await Promise.all(Array.from({ length: 300 }, (_, i) => embedder.embed(`question ${i}`)));
    const calls = vertex.predictCalls.slice(before);
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(Math.max(...calls.map((c) => c.instances))).toBeLessThanOrEqual(250);
    expect(calls.reduce((n, c) => n + c.instances, 0)).toBe(300);
  });

  it.each([
    ["quota", "Vertex AI answered 429 RESOURCE_EXHAUSTED"],
    ["unavailable", "Vertex AI answered 503 UNAVAILABLE"],
    ["hang", /deadline|aborted|timeout/i],
  ] as const)("rejects when Vertex answers %s, and the breaker then rejects at once", async (mode, message) => {
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 60_000 });
    const embedder = await createVertexEmbedder(options({ timeoutMs: 300, breaker }));
    vertex.mode = mode;
    await expect(embedder.embed("anything")).rejects.toThrow(message);
    await expect(embedder.embed("anything")).rejects.toThrow("embedder circuit open");
  });

  it("gets a new token when Vertex no longer accepts the cached one", async () => {
    const embedder = await createVertexEmbedder(options());
    vertex.revokeTokens();
    // google-auth-library refreshes a token on expiry, not on a 401: until then calls fail (MISS).
    await expect(embedder.embed("after revocation")).rejects.toThrow("Vertex AI answered 401 UNAUTHENTICATED");
  });

  it("refuses to start on a project it may not use, or a dimension that disagrees, saying which", async () => {
    await expect(createVertexEmbedder(options({ project: "someone-else" }))).rejects.toThrow(
      /startup probe failed \(Vertex AI answered 403 PERMISSION_DENIED\)/,
    );
    await expect(createVertexEmbedder(options({ keyFile: join(dir, "missing.json") }))).rejects.toThrow(
      /startup probe failed/,
    );
  });
});

describe("the semantic cache with embedder.kind vertex", () => {
  it("answers a reworded repeat from L2 with Vertex's vectors, its credential file relative to the config", async () => {
    const config = configSchema.parse({
      redisUrl: "",
      sweepIntervalMs: 0,
      embedder: { kind: "vertex", project: vertex.project, location: "us-central1", model: "text-embedding-005" },
    });
    // The API endpoint and credential file as a deployment's config would give them.
    const service = await createSemanticCacheService(
      { ...config, embedder: { ...config.embedder, url: vertex.url, keyFile: "credentials.json", dimensions: 64 } },
      createTestRuntime({ configDir: dir }),
    );
    const server = await startService(service, {
      host: "127.0.0.1",
      port: 0,
      adminPort: 0,
      log: createTestRuntime().log,
    });
    const client = createEnvoyClient(`127.0.0.1:${server.port}`);
    const ask = (content: string) =>
      client.exchange(
        {
          processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SEND", responseBodyMode: "NONE" },
          allowModeOverride: true,
          failureModeAllow: true,
        },
        {
          request: {
            headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" },
            body: [JSON.stringify({ model: "m", temperature: 0, messages: [{ role: "user", content }] })],
          },
          upstream: () => chatCompletionAnswer("m", "The Thames."),
        },
      );
    const status = (r: Awaited<ReturnType<typeof ask>>) =>
      r.downstream.headers.find(([n]) => n === "x-cache-status")?.[1];
    try {
      expect(status(await ask("Which river flows through town 7?"))).toBe("MISS");
      expect(status(await ask("Through town 7, which river flows?"))).toBe("HIT-SEMANTIC");
    } finally {
      client.close();
      await server.shutdown();
      await service.close?.();
    }
  });
});
