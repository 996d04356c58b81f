/**
 * What every remote embedder shares, whatever its wire format: lookups arriving together are
 * micro-batched (the first opens a window of `batchWindowMs`, and the batch goes out when the
 * window closes or `maxBatch` texts are waiting, as one call); after `failureThreshold` failed
 * calls in a row a circuit breaker rejects at once for `cooldownMs`, then lets one call try; a
 * failure rejects every text of its batch (the cache then answers MISS and fills the exact
 * layer only). The dimension is learnt from a probe at startup (or checked against
 * `dimensions`): a model that answers another length later is a failure, never a vector in the
 * wrong space. The wire formats: `openai-embedder.ts`, `vertex-embedder.ts`.
 */
import { type CircuitBreaker, createCircuitBreaker } from "@llm-callouts/remote";
import { type Embedder, normalize } from "./embedder.js";

/** One HTTP call of a remote embedder: the raw vectors of `texts`, in order. */
export type EmbeddingCall = (texts: readonly string[], dimensions: number) => Promise<readonly unknown[]>;

/** The settings every remote embedder takes. */
export interface RemoteEmbedderOptions {
  readonly model: string;
  /** Expected dimension; 0 = learn it from the startup probe. */
  readonly dimensions?: number;
  /** Deadline of one call. Default 1 000 ms. */
  readonly timeoutMs?: number;
  readonly maxBatch?: number;
  readonly batchWindowMs?: number;
  /** The similarity threshold this embedder suggests (model-specific; see the README). */
  readonly threshold?: number;
  readonly breaker?: CircuitBreaker;
  /** Called once per call with its batch size (metrics, tests). */
  readonly onCall?: (batch: number) => void;
}

export interface BatchedEmbedderOptions extends RemoteEmbedderOptions {
  /** Where the probe went, for the startup error, e.g. the endpoint URL. */
  readonly endpoint: string;
  /** `openai`, `vertex`: the id is `<kind>:<model>:<dimension>`. */
  readonly kind: string;
  readonly call: EmbeddingCall;
}

interface Waiting {
  readonly text: string;
  resolve(vector: Float32Array): void;
  reject(error: Error): void;
}

export async function createBatchedEmbedder(options: BatchedEmbedderOptions): Promise<Embedder> {
  const maxBatch = options.maxBatch ?? 32;
  const windowMs = options.batchWindowMs ?? 2;
  const breaker = options.breaker ?? createCircuitBreaker();
  // 0 until the startup probe answered; from then on every vector must have this length.
  let dimensions = 0;
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function call(texts: readonly string[]): Promise<Float32Array[]> {
    options.onCall?.(texts.length);
    return checkedVectors(await options.call(texts, dimensions), texts.length, dimensions);
  }

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    call(batch.map((w) => w.text)).then(
      (vectors) => {
        breaker.success();
        for (const [i, w] of batch.entries()) w.resolve(vectors[i]!);
      },
      (error: unknown) => {
        breaker.failure();
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const w of batch) w.reject(failure);
      },
    );
  }

  const probe = await call(["dimension probe"]).catch((error: unknown) => {
    throw new Error(`embedder ${options.endpoint}: the startup probe failed (${(error as Error).message})`);
  });
  const learnt = probe[0]!.length;
  const expected = options.dimensions ?? 0;
  if (expected !== 0 && learnt !== expected) {
    throw new Error(`embedder.dimensions is ${expected} but ${options.model} at ${options.endpoint} answers ${learnt}`);
  }
  dimensions = learnt;

  return {
    id: `${options.kind}:${options.model}:${dimensions}`,
    dimensions,
    defaultThreshold: options.threshold ?? 0.9,
    embed(text) {
      if (!breaker.allow()) return Promise.reject(new Error("embedder circuit open"));
      return new Promise<Float32Array>((resolve, reject) => {
        waiting.push({ text, resolve, reject });
        if (waiting.length >= maxBatch) flush();
        else timer ??= setTimeout(flush, windowMs);
      });
    },
  };
}

/** The largest answer read: 4 bytes of JSON per number would be tight; 32 per number is not. */
export const maxAnswerBytes = (texts: number, dimensions: number) => 65_536 + texts * Math.max(dimensions, 4096) * 32;

/** One vector per text, each a non-empty array of finite numbers of the known length, at unit length. */
function checkedVectors(raw: readonly unknown[], count: number, dimensions: number): Float32Array[] {
  if (raw.length !== count) throw new Error(`embeddings answer has no data for ${count} inputs`);
  return raw.map((embedding) => {
    if (!Array.isArray(embedding) || embedding.length === 0) throw new Error("embeddings answer has a malformed item");
    if (dimensions !== 0 && embedding.length !== dimensions) {
      throw new Error(`embeddings answer has ${embedding.length} dimensions, not ${dimensions}`);
    }
    const vector = Float32Array.from(embedding, (v) => (typeof v === "number" && Number.isFinite(v) ? v : Number.NaN));
    if (vector.some(Number.isNaN)) throw new Error("embeddings answer has a non-number");
    return normalize(vector);
  });
}
