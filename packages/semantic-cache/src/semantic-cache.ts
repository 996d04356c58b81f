import { exactKeyOf, partitionOf } from "./cache-key.js";
import type { CacheEntry, CacheStore, Clock } from "./cache-store.js";
import type { ChatRequest } from "./chat-request.js";
import type { Embedder } from "./embedder.js";
import type { StoreGuard } from "./store-guard.js";
import type { StoredCompletion } from "./stored-completion.js";
import { createVerifier, type RejectReason, type Verifier } from "./verifier.js";

/** Options of {@link createSemanticCache}. */
export interface SemanticCacheOptions {
  readonly store: CacheStore;
  /** Every store call goes through it: timeouts, circuit breaker, fail open. */
  readonly guard: StoreGuard;
  /** The semantic layer: an embedder and the cosine similarity a candidate needs; undefined = exact layer only. */
  readonly semantic: { readonly embedder: Embedder; readonly threshold: number } | undefined;
  /** Checks each semantic candidate above the threshold (see verifier.ts). Default: the guards alone. */
  readonly verifier?: Verifier;
  /** Nearest neighbours checked per lookup. Default 3. */
  readonly candidates?: number;
  readonly ttlMs: number;
  readonly maxEntryBytes: number;
  /** Embedding calls slower than this fail (MISS, exact-only fill). Default 200 ms. */
  readonly embedTimeoutMs?: number;
  /** How long a generation read is reused locally. Default 1 000 ms. */
  readonly generationCacheMs?: number;
  /** How many tenants' generation reads are kept (oldest read evicted first). Default 10 000. */
  readonly maxCachedGenerations?: number;
  readonly now?: Clock;
  readonly onReject?: (reason: RejectReason) => void;
  readonly onEmbedderFailure?: (error: unknown) => void;
}

export interface LookupInput {
  readonly request: ChatRequest;
  /** Hashed tenant id (see tenantOf). */
  readonly tenant: string;
  /** Semantic layer allowed by policy. */
  readonly semantic: boolean;
  /** false for `Cache-Control: no-cache`: prepare the fill only. */
  readonly lookup: boolean;
}

export type LookupOutcome =
  | { readonly status: "HIT-EXACT"; readonly entry: CacheEntry }
  | { readonly status: "HIT-SEMANTIC"; readonly entry: CacheEntry; readonly similarity: number }
  | { readonly status: "MISS"; readonly ticket: FillTicket | undefined };

/** What a miss needs to store its answer later. Undefined ticket = the store is unreachable: skip the fill. */
export interface FillTicket {
  readonly id: string;
  readonly partition: string;
  readonly prompt: string;
  readonly vector: Float32Array | undefined;
}

export type FillOutcome = "stored" | "too-large" | "store-error";

export interface SemanticCache {
  lookup(input: LookupInput): Promise<LookupOutcome>;
  fill(ticket: FillTicket, completion: StoredCompletion): Promise<FillOutcome>;
  /** Bumps the tenant's generation: every entry written before becomes unreachable. */
  purge(tenant: string): Promise<boolean>;
}

/** The two-layer lookup (L1 exact, L2 semantic + verification) and the fill, over any store. */
export function createSemanticCache(options: SemanticCacheOptions): SemanticCache {
  const { store, guard } = options;
  const embedder = options.semantic?.embedder;
  const threshold = options.semantic?.threshold ?? 1;
  const now = options.now ?? Date.now;
  const candidates = options.candidates ?? 3;
  const verifier = options.verifier ?? createVerifier({ mode: "guards" });
  const embedTimeoutMs = options.embedTimeoutMs ?? 200;
  const generationCacheMs = options.generationCacheMs ?? 1_000;
  // Tenant -> generation read within generationCacheMs. Tenants come from client credentials, so
  // the map is bounded: a client rotating keys must not grow it (oldest read evicted first).
  const generations = new Map<string, { value: number; readAtMs: number }>();
  const maxCachedGenerations = options.maxCachedGenerations ?? 10_000;

  const generationOf = async (tenant: string): Promise<number | undefined> => {
    const cached = generations.get(tenant);
    if (cached && now() - cached.readAtMs < generationCacheMs) return cached.value;
    const read = await guard.run("generation", () => store.generation(tenant), store.shardOf?.(tenant));
    if (!read.ok) return undefined;
    generations.delete(tenant); // re-inserted last: the map stays in read order
    generations.set(tenant, { value: read.value, readAtMs: now() });
    while (generations.size > maxCachedGenerations) generations.delete(generations.keys().next().value!);
    return read.value;
  };

  const embed = async (text: string): Promise<Float32Array | undefined> => {
    if (!embedder) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        embedder.embed(text),
        new Promise<never>((_, fail) => {
          timer = setTimeout(() => fail(new Error(`embedding took over ${embedTimeoutMs} ms`)), embedTimeoutMs);
        }),
      ]);
    } catch (error) {
      options.onEmbedderFailure?.(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async lookup({ request, tenant, semantic, lookup }) {
      const generation = await generationOf(tenant);
      if (generation === undefined) return { status: "MISS", ticket: undefined };
      const partition = partitionOf(request, { tenant, generation, embedderId: embedder?.id ?? "none" });
      const id = exactKeyOf(request, partition);
      const prompt = request.lastUserText ?? "";
      if (lookup) {
        const exact = await guard.run("get", () => store.get(partition, id), store.shardOf?.(partition));
        if (!exact.ok) return { status: "MISS", ticket: undefined };
        if (exact.value) return { status: "HIT-EXACT", entry: exact.value };
      }
      const vector = semantic && request.lastUserText !== undefined ? await embed(request.lastUserText) : undefined;
      if (lookup && vector) {
        const found = await guard.run(
          "search",
          () => store.search(partition, vector, candidates),
          store.shardOf?.(partition),
        );
        if (!found.ok) return { status: "MISS", ticket: undefined };
        for (const { entry, similarity } of found.value) {
          if (similarity < threshold) break;
          const verdict = verifier.verify(prompt, entry.prompt, similarity);
          if (verdict.ok) return { status: "HIT-SEMANTIC", entry, similarity };
          options.onReject?.(verdict.reason);
        }
      }
      return { status: "MISS", ticket: { id, partition, prompt, vector } };
    },
    async fill(ticket, completion) {
      const createdAtMs = now();
      const entry: CacheEntry = {
        id: ticket.id,
        partition: ticket.partition,
        prompt: ticket.prompt,
        completion,
        createdAtMs,
        expiresAtMs: createdAtMs + options.ttlMs,
      };
      if (Buffer.byteLength(JSON.stringify(entry)) > options.maxEntryBytes) return "too-large";
      const put = await guard.run("put", () => store.put(entry, ticket.vector), store.shardOf?.(entry.partition));
      return put.ok ? "stored" : "store-error";
    },
    async purge(tenant) {
      const bumped = await guard.run("purge", () => store.bumpGeneration(tenant), store.shardOf?.(tenant));
      if (!bumped.ok) return false;
      generations.set(tenant, { value: bumped.value, readAtMs: now() });
      return true;
    },
  };
}
