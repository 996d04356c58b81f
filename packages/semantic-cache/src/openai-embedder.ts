/**
 * A remote embedder speaking OpenAI's `POST /v1/embeddings` (Text Embeddings Inference, vLLM,
 * Ollama, LiteLLM and OpenAI all serve it): `input: [...]` in, `data[i].embedding` out.
 * Batching, deadline, breaker and dimension checks: `remote-embedder.ts`.
 */
import { parseJson, readCapped } from "@llm-callouts/remote";
import type { Embedder } from "./embedder.js";
import { createBatchedEmbedder, maxAnswerBytes, type RemoteEmbedderOptions } from "./remote-embedder.js";

export interface OpenAiEmbedderOptions extends RemoteEmbedderOptions {
  /** Base URL up to `/v1`, e.g. `http://tei:8080/v1`; `/embeddings` is appended. */
  readonly url: string;
  /** Sent as `authorization: Bearer <apiKey>` when set. Never logged. */
  readonly apiKey?: string;
}

export async function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Promise<Embedder> {
  const endpoint = `${options.url.replace(/\/+$/, "")}/embeddings`;
  const timeoutMs = options.timeoutMs ?? 1_000;
  return createBatchedEmbedder({
    ...options,
    kind: "openai",
    endpoint,
    async call(texts, dimensions) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      const response = await fetch(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: options.model, input: texts }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const raw = await readCapped(response, maxAnswerBytes(texts.length, dimensions), "embeddings answer");
      if (!response.ok) throw new Error(`embeddings endpoint answered ${response.status}`);
      return vectorsOf(parseJson(raw, "embeddings answer"), texts.length);
    },
  });
}

/** `data[i].embedding` for each text, in `index` order. */
function vectorsOf(parsed: unknown, count: number): unknown[] {
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length !== count)
    throw new Error(`embeddings answer has no data for ${count} inputs`);
  const out = new Array<unknown>(count);
  data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
    const index = typeof item?.index === "number" ? item.index : position;
    if (index < 0 || index >= count || out[index] !== undefined)
      throw new Error("embeddings answer has a malformed item");
    out[index] = item?.embedding;
  });
  return out;
}
