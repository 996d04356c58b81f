/**
 * A remote embedder speaking OpenAI's `POST /v1/embeddings` (Text Embeddings Inference, vLLM,
 * Ollama, LiteLLM and OpenAI all serve it). Lookups arriving together are micro-batched: the
 * first opens a window of `batchWindowMs`, and the batch goes out when the window closes or
 * `maxBatch` texts are waiting, as one request with `input: [...]`. Every call has a deadline
 * (`timeoutMs`) and a size cap on the answer; after `failureThreshold` failed calls in a row a
 * circuit breaker rejects at once for `cooldownMs`, then lets one call try. A failure rejects
 * every text of its batch, and the cache then answers MISS and fills the exact layer only.
 * The dimension is learnt from a probe at startup (or checked against `dimensions`): a model
 * that answers another length later is a failure, never a vector in the wrong space.
 */
import { type CircuitBreaker, createCircuitBreaker } from "./circuit-breaker.js";
import { type Embedder, normalize } from "./embedder.js";

export interface OpenAiEmbedderOptions {
  /** Base URL up to `/v1`, e.g. `http://tei:8080/v1`; `/embeddings` is appended. */
  readonly url: string;
  readonly model: string;
  /** Sent as `authorization: Bearer <apiKey>` when set. Never logged. */
  readonly apiKey?: string;
  /** Expected dimension; 0 = learn it from the startup probe. */
  readonly dimensions?: number;
  readonly timeoutMs?: number;
  readonly maxBatch?: number;
  readonly batchWindowMs?: number;
  /** The similarity threshold this embedder suggests (model-specific; see the README). */
  readonly threshold?: number;
  readonly breaker?: CircuitBreaker;
  /** Called once per HTTP call with its batch size (metrics, tests). */
  readonly onCall?: (batch: number) => void;
}

/** The largest answer read: 4 bytes of JSON per number would be tight; 32 per number is not. */
const maxAnswerBytes = (texts: number, dimensions: number) => 65_536 + texts * Math.max(dimensions, 4096) * 32;

interface Waiting {
  readonly text: string;
  resolve(vector: Float32Array): void;
  reject(error: Error): void;
}

export async function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Promise<Embedder> {
  const endpoint = `${options.url.replace(/\/+$/, "")}/embeddings`;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const maxBatch = options.maxBatch ?? 32;
  const windowMs = options.batchWindowMs ?? 2;
  const breaker = options.breaker ?? createCircuitBreaker();
  // 0 until the startup probe answered; from then on every vector must have this length.
  let dimensions = 0;
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function call(texts: readonly string[]): Promise<Float32Array[]> {
    options.onCall?.(texts.length);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const response = await fetch(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: options.model, input: texts }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const raw = await readCapped(response, maxAnswerBytes(texts.length, dimensions));
    if (!response.ok) throw new Error(`embeddings endpoint answered ${response.status}`);
    return parseAnswer(raw, texts.length, dimensions);
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
    throw new Error(`embedder.url ${endpoint}: the startup probe failed (${(error as Error).message})`);
  });
  const learnt = probe[0]!.length;
  const expected = options.dimensions ?? 0;
  if (expected !== 0 && learnt !== expected) {
    throw new Error(`embedder.dimensions is ${expected} but ${options.model} at ${endpoint} answers ${learnt}`);
  }
  dimensions = learnt;

  return {
    id: `openai:${options.model}:${dimensions}`,
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

/** The body as text, failing past `limit` bytes (a garbage or hostile endpoint). */
async function readCapped(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await response.body?.cancel();
    throw new Error(`embeddings answer of ${declared} bytes exceeds ${limit}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`embeddings answer exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `data[i].embedding` for each text, in `index` order, checked and scaled to unit length. */
function parseAnswer(raw: string, count: number, dimensions: number): Float32Array[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error("embeddings answer is not JSON");
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length !== count)
    throw new Error(`embeddings answer has no data for ${count} inputs`);
  const out = new Array<Float32Array | undefined>(count);
  data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
    const index = typeof item?.index === "number" ? item.index : position;
    const embedding = item?.embedding;
    if (!Array.isArray(embedding) || embedding.length === 0 || index < 0 || index >= count || out[index]) {
      throw new Error("embeddings answer has a malformed item");
    }
    if (dimensions !== 0 && embedding.length !== dimensions) {
      throw new Error(`embeddings answer has ${embedding.length} dimensions, not ${dimensions}`);
    }
    const vector = Float32Array.from(embedding, (v) => (typeof v === "number" && Number.isFinite(v) ? v : Number.NaN));
    if (vector.some(Number.isNaN)) throw new Error("embeddings answer has a non-number");
    out[index] = normalize(vector);
  });
  return out as Float32Array[];
}
