import { createCircuitBreaker } from "@llm-callouts/remote";
import { describe, expect, it } from "vitest";
import { type ChatRequest, parseChatRequest } from "./chat-request.js";
import { createMemoryStore } from "./memory-store.js";
import { probePairs } from "./probe-pairs.testdata.js";
import { createSemanticCache, type LookupOutcome } from "./semantic-cache.js";
import { createStoreGuard } from "./store-guard.js";
import type { StoredCompletion } from "./stored-completion.js";
import { createVerifier, type VerifierMode } from "./verifier.js";
import { offlineVerifierModel } from "./verifier-model.js";
import { createWordVectorEmbedder } from "./word-vector-embedder.js";
import { loadWinkWordVectors } from "./word-vectors.js";

const words = loadWinkWordVectors();
const embedder = createWordVectorEmbedder({ vectors: words });

function setup(threshold?: number, mode: VerifierMode = "learned") {
  const guard = createStoreGuard({ timeoutMs: 1_000, breaker: createCircuitBreaker() });
  return createSemanticCache({
    store: createMemoryStore(),
    guard,
    semantic: { embedder, threshold: threshold ?? embedder.defaultThreshold },
    verifier: createVerifier({ mode, model: offlineVerifierModel, words }),
    ttlMs: 60_000,
    maxEntryBytes: 10_000,
  });
}

function request(...messages: string[]): ChatRequest {
  const parsed = parseChatRequest(
    Buffer.from(
      JSON.stringify({
        model: "m",
        temperature: 0,
        messages: messages.map((content, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content })),
      }),
    ),
  );
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.value;
}

const answer: StoredCompletion = {
  id: "c",
  model: "m",
  created: 1,
  choices: [{ index: 0, role: "assistant", content: "cached", finishReason: "stop" }],
};

async function store(cache: ReturnType<typeof setup>, req: ChatRequest, tenant = "t1"): Promise<void> {
  const miss = await cache.lookup({ request: req, tenant, semantic: true, lookup: true });
  if (miss.status !== "MISS" || !miss.ticket) throw new Error(`expected a MISS, got ${miss.status}`);
  expect(await cache.fill(miss.ticket, answer)).toBe("stored");
}

const statusOf = (o: LookupOutcome) => o.status;

describe("createSemanticCache()", () => {
  it.each(["learned", "guards"] as const)(
    `gives zero hits on the ${probePairs.length} probe pairs even at a threshold of 0.5 (%s)`,
    async (mode) => {
      const hits: string[] = [];
      for (const [, a, b] of probePairs) {
        // A cache per pair: at 0.5 one probe's prompt would find another pair's answer when stored.
        const cache = setup(0.5, mode);
        await store(cache, request(a));
        const outcome = await cache.lookup({ request: request(b), tenant: "t1", semantic: true, lookup: true });
        if (outcome.status !== "MISS") hits.push(`${a} -> ${b}`);
      }
      expect(hits).toEqual([]);
    },
  );

  it("gives zero hits across tenants, even for the identical request", async () => {
    const cache = setup();
    await store(cache, request("What is the capital of France?"), "tenant-a");
    const outcome = await cache.lookup({
      request: request("What is the capital of France?"),
      tenant: "tenant-b",
      semantic: true,
      lookup: true,
    });
    expect(statusOf(outcome)).toBe("MISS");
  });

  it("finds a verified paraphrase and reports its similarity", async () => {
    const cache = setup();
    await store(cache, request("How do I reset my password?"));
    const outcome = await cache.lookup({
      request: request("How can I reset my password?"),
      tenant: "t1",
      semantic: true,
      lookup: true,
    });
    expect(outcome.status).toBe("HIT-SEMANTIC");
    expect(outcome.status === "HIT-SEMANTIC" && outcome.similarity).toBeCloseTo(0.985, 2);
  });

  it("uses only the exact layer when the policy turns semantic off", async () => {
    const cache = setup();
    await store(cache, request("How do I reset my password?"));
    const outcome = await cache.lookup({
      request: request("How can I reset my password?"),
      tenant: "t1",
      semantic: false,
      lookup: true,
    });
    expect(outcome.status).toBe("MISS");
  });

  it("keeps conversations with different prior turns in different partitions", async () => {
    const cache = setup();
    await store(cache, request("Hi", "Hello!", "What is 2+2?"));
    const same = await cache.lookup({
      request: request("Hi", "Hello!", "What is 2+2?"),
      tenant: "t1",
      semantic: false,
      lookup: true,
    });
    const other = await cache.lookup({
      request: request("Hey", "Hello!", "What is 2+2?"),
      tenant: "t1",
      semantic: false,
      lookup: true,
    });
    expect([same.status, other.status]).toEqual(["HIT-EXACT", "MISS"]);
  });

  it("refuses to store an entry over the size limit", async () => {
    const guard = createStoreGuard({ timeoutMs: 1_000, breaker: createCircuitBreaker() });
    const cache = createSemanticCache({
      store: createMemoryStore(),
      guard,
      semantic: { embedder, threshold: embedder.defaultThreshold },
      ttlMs: 1_000,
      maxEntryBytes: 100,
    });
    const miss = await cache.lookup({ request: request("Big answer?"), tenant: "t", semantic: true, lookup: true });
    expect(miss.status === "MISS" && miss.ticket && (await cache.fill(miss.ticket, answer))).toBe("too-large");
  });

  it("keeps at most maxCachedGenerations tenants' generation reads (a client rotating keys cannot grow it)", async () => {
    const store = createMemoryStore();
    const reads: string[] = [];
    const counting = {
      ...store,
      generation: (tenant: string) => {
        reads.push(tenant);
        return store.generation(tenant);
      },
    };
    const cache = createSemanticCache({
      store: counting,
      guard: createStoreGuard({ timeoutMs: 1_000, breaker: createCircuitBreaker() }),
      semantic: { embedder, threshold: embedder.defaultThreshold },
      ttlMs: 60_000,
      maxEntryBytes: 10_000,
      maxCachedGenerations: 3,
      now: () => 0, // every read stays fresh: only eviction makes the store be asked again
    });
    const ask = (tenant: string) => cache.lookup({ request: request("Q?"), tenant, semantic: false, lookup: true });
    for (const tenant of ["a", "b", "c", "a", "d", "a", "b"]) await ask(tenant);
    // a, b, c read; a reused; d evicts a (the oldest read); a evicts b; b evicts c.
    expect(reads).toEqual(["a", "b", "c", "d", "a", "b"]);
  });

  it("answers MISS without a ticket when the store is down", async () => {
    const store = createMemoryStore();
    const down = { ...store, generation: () => Promise.reject(new Error("ECONNREFUSED")) };
    const guard = createStoreGuard({ timeoutMs: 1_000, breaker: createCircuitBreaker() });
    const cache = createSemanticCache({
      store: down,
      guard,
      semantic: { embedder, threshold: embedder.defaultThreshold },
      ttlMs: 1_000,
      maxEntryBytes: 10_000,
    });
    expect(await cache.lookup({ request: request("Up?"), tenant: "t", semantic: true, lookup: true })).toEqual({
      status: "MISS",
      ticket: undefined,
    });
  });
});
