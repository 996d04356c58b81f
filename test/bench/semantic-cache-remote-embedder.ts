/**
 * The semantic cache's remote embedder (`embedder.kind: openai`) against the project's
 * model-server simulator over real HTTP: L2 lookups (embed + search + verify) issued 64 at a
 * time, with micro-batching on (the shipped default: window 2 ms, maxBatch 32) and off
 * (maxBatch 1, window 0). Reports HTTP calls per lookup and lookup p50/p99, same run.
 *
 *   node --import tsx test/bench/semantic-cache-remote-embedder.ts [--rounds N]
 */
import { parseArgs } from "node:util";
import { startSimulator } from "@llm-callouts/model-server-sim";
import { createCircuitBreaker } from "@llm-callouts/remote";
import { parseChatRequest } from "../../packages/semantic-cache/src/chat-request.js";
import { createMemoryStore } from "../../packages/semantic-cache/src/memory-store.js";
import { createOpenAiEmbedder } from "../../packages/semantic-cache/src/openai-embedder.js";
import { createSemanticCache } from "../../packages/semantic-cache/src/semantic-cache.js";
import { createStoreGuard } from "../../packages/semantic-cache/src/store-guard.js";
import { percentile, printTable } from "./stats.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "30" } } });
const rounds = Number(values.rounds);
const concurrency = 64;

const sim = await startSimulator({ host: "127.0.0.1", port: 0, model: "m" });
// Every HTTP call the embedder makes goes through fetch: count them.
let calls = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  calls++;
  return realFetch(input, init);
};

const request = (content: string) => {
  const parsed = parseChatRequest(
    Buffer.from(JSON.stringify({ model: "m", temperature: 0, messages: [{ role: "user", content }] })),
  );
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.value;
};

const rows: string[][] = [];
for (const [name, maxBatch, batchWindowMs] of [
  ["batching on (window 2 ms, maxBatch 32)", 32, 2],
  ["batching off (maxBatch 1)", 1, 0],
] as const) {
  const embedder = await createOpenAiEmbedder({
    url: `${sim.url}/v1`,
    model: "sim-embed",
    maxBatch,
    batchWindowMs,
    timeoutMs: 5_000,
  });
  const cache = createSemanticCache({
    store: createMemoryStore({ maxEntries: 1_000_000 }),
    guard: createStoreGuard({ timeoutMs: 5_000, breaker: createCircuitBreaker() }),
    semantic: { embedder, threshold: embedder.defaultThreshold },
    ttlMs: 3_600_000,
    maxEntryBytes: 1 << 20,
    embedTimeoutMs: 5_000,
  });
  // Warm-up: connections and the simulator's JIT.
  await Promise.all(
    Array.from({ length: concurrency }, (_, i) =>
      cache.lookup({ request: request(`warm ${i}`), tenant: "t", semantic: true, lookup: true }),
    ),
  );
  calls = 0;
  const latencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const started = performance.now();
        await cache.lookup({
          request: request(`Which river flows through town ${r}-${i}?`),
          tenant: "t",
          semantic: true,
          lookup: true,
        });
        latencies.push(performance.now() - started);
      }),
    );
  }
  const lookups = rounds * concurrency;
  const sorted = latencies.sort((a, b) => a - b);
  rows.push([
    name,
    String(lookups),
    String(calls),
    (calls / lookups).toFixed(3),
    percentile(sorted, 0.5).toFixed(2),
    percentile(sorted, 0.99).toFixed(2),
  ]);
}
globalThis.fetch = realFetch;
await sim.close();

printTable(
  `semantic-cache remote embedder (simulator /v1/embeddings over HTTP), ${concurrency} concurrent lookups`,
  ["embedder", "lookups", "HTTP calls", "calls per lookup", "lookup p50 ms", "lookup p99 ms"],
  rows,
);
