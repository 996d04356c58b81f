import { once } from "node:events";
import { createServer, type Server } from "node:http";
import {
  embeddingOf,
  type SimulatorHandle,
  simEmbeddingDimensions,
  startSimulator,
} from "@llm-callouts/model-server-sim";
import { createCircuitBreaker } from "@llm-callouts/remote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAiEmbedder } from "./openai-embedder.js";

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ host: "127.0.0.1", port: 0, model: "meta-llama/Llama-3.1-8B-Instruct" });
});
afterAll(() => sim.close());

/** A /v1/embeddings that answers as `reply` says, after the startup probe was answered properly. */
async function faultyServer(reply: (res: import("node:http").ServerResponse) => void) {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    calls++;
    req.resume();
    if (calls === 1) {
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify({ data: [{ index: 0, embedding: [1, 0, 0, 0] }] }));
    }
    reply(res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  const close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  };
  return { url, close };
}

describe("createOpenAiEmbedder() over real HTTP", () => {
  it("learns the dimension from its probe and returns the server's vectors at unit length", async () => {
    const embedder = await createOpenAiEmbedder({ url: `${sim.url}/v1`, model: "bge-small" });
    expect([embedder.id, embedder.dimensions]).toEqual([`openai:bge-small:${simEmbeddingDimensions}`, 64]);
    const vector = await embedder.embed("How do I reset my password?");
    expect(Array.from(vector)).toEqual(Array.from(Float32Array.from(embeddingOf("How do I reset my password?"))));
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
  });

  it("batches 64 concurrent lookups into a few calls, each text getting its own vector", async () => {
    const batches: number[] = [];
    const embedder = await createOpenAiEmbedder({
      url: `${sim.url}/v1`,
      model: "bge-small",
      maxBatch: 16,
      onCall: (n) => batches.push(n),
    });
    batches.length = 0; // the probe
    const texts = Array.from({ length: 64 }, (_, i) => `question number ${i} about caches`);
    const vectors = await Promise.all(texts.map((t) => embedder.embed(t)));
    expect(batches).toEqual([16, 16, 16, 16]);
    vectors.forEach((v, i) => {
      expect(Array.from(v)).toEqual(Array.from(Float32Array.from(embeddingOf(texts[i]!))));
    });
  });

  it("refuses to start when the dimension disagrees or the endpoint is down, saying which", async () => {
    await expect(createOpenAiEmbedder({ url: `${sim.url}/v1`, model: "m", dimensions: 384 })).rejects.toThrow(
      /embedder.dimensions is 384 but m at .* answers 64/,
    );
    await expect(createOpenAiEmbedder({ url: "http://127.0.0.1:1/v1", model: "m" })).rejects.toThrow(
      /startup probe failed/,
    );
  });

  it.each([
    ["a 500", (res: import("node:http").ServerResponse) => res.writeHead(500).end("boom"), /answered 500/],
    ["garbage", (res: import("node:http").ServerResponse) => res.end("\u0000\u0001 not json"), /not JSON/],
    [
      "another dimension",
      (res: import("node:http").ServerResponse) => res.end(JSON.stringify({ data: [{ index: 0, embedding: [1, 2] }] })),
      /2 dimensions, not 4/,
    ],
    [
      "a non-number",
      (res: import("node:http").ServerResponse) =>
        res.end(JSON.stringify({ data: [{ index: 0, embedding: [1, "x", 0, 0] }] })),
      /non-number/,
    ],
    [
      "a 50 MB answer",
      (res: import("node:http").ServerResponse) => res.end(Buffer.alloc(50 * 1024 * 1024, 32)),
      /exceeds/,
    ],
    ["no answer within timeoutMs", () => {}, /timeout|aborted/i],
  ])("rejects on %s, and the breaker then rejects at once", async (_name, reply, message) => {
    const server = await faultyServer(reply);
    try {
      const embedder = await createOpenAiEmbedder({
        url: server.url,
        model: "m",
        timeoutMs: 300,
        breaker: createCircuitBreaker({ failureThreshold: 1, cooldownMs: 60_000 }),
      });
      await expect(embedder.embed("hello")).rejects.toThrow(message);
      const started = performance.now();
      await expect(embedder.embed("hello")).rejects.toThrow(/circuit open/);
      expect(performance.now() - started).toBeLessThan(50);
    } finally {
      await server.close();
    }
  });
});
