/**
 * `POST /v1/embeddings` (OpenAI's shape, as TEI, vLLM and Ollama serve it) with deterministic
 * vectors: each lower-cased word is hashed (FNV-1a) into one of `dimensions` signed buckets and
 * the sum is scaled to unit length. Texts sharing most words are close; the same text always
 * gives the same vector. For tests of remote-embedder clients, not a model.
 */
export const simEmbeddingDimensions = 64;

export function embeddingOf(text: string, dimensions = simEmbeddingDimensions): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
    vector[hash % dimensions]! += hash & 0x80000000 ? -1 : 1;
  }
  const norm = Math.hypot(...vector);
  return norm > 0 ? vector.map((v) => v / norm) : vector;
}

/** The response to an embeddings request body, or an OpenAI error (status, message). */
export function embeddingsResponse(
  body: unknown,
): { status: 200; body: Record<string, unknown> } | { status: 400; message: string } {
  const b = (body ?? {}) as { input?: unknown; model?: unknown };
  const inputs = typeof b.input === "string" ? [b.input] : b.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((t) => typeof t === "string")) {
    return { status: 400, message: "input must be a string or a non-empty array of strings" };
  }
  const data = inputs.map((text: string, index) => ({ object: "embedding", index, embedding: embeddingOf(text) }));
  const tokens = inputs.reduce((n: number, t: string) => n + Math.ceil(t.length / 4), 0);
  return {
    status: 200,
    body: {
      object: "list",
      model: typeof b.model === "string" ? b.model : "",
      data,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}
