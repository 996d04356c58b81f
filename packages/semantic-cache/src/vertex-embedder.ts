/**
 * Vertex AI text embeddings (`text-embedding-005`, `text-multilingual-embedding-002`, ...):
 * `POST {apiEndpoint}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:predict`
 * with `instances: [{ content, task_type }]` and `parameters: { autoTruncate, outputDimensionality }`;
 * the vectors come back as `predictions[i].embeddings.values`; `dimensions` > 0 is sent as
 * `outputDimensionality`. Auth is google-auth-library's
 * Application Default Credentials (Workload Identity on GKE, GOOGLE_APPLICATION_CREDENTIALS, or
 * `keyFile`), scope cloud-platform; the token is cached and refreshed by the library and never
 * logged. Batching, deadline, breaker and dimension checks: `remote-embedder.ts`. A Vertex
 * request takes at most 250 texts (the cap on `maxBatch`); `gemini-embedding-001` takes one
 * (set `maxBatch: 1`).
 */
import { createGoogleTokenSource, googleErrorStatus, parseJson, readCapped } from "@llm-callouts/remote";
import type { Embedder } from "./embedder.js";
import { createBatchedEmbedder, maxAnswerBytes, type RemoteEmbedderOptions } from "./remote-embedder.js";

/** Texts per Vertex AI embeddings request, at most. */
export const vertexMaxBatch = 250;

export interface VertexEmbedderOptions extends RemoteEmbedderOptions {
  readonly project: string;
  /** Region, e.g. `us-central1`. */
  readonly location: string;
  /** Default `https://<location>-aiplatform.googleapis.com` (a Private Service Connect endpoint or a test server otherwise). */
  readonly apiEndpoint?: string;
  /** `task_type` of every instance. Default `SEMANTIC_SIMILARITY`. */
  readonly taskType?: string;
  /** A credential file (service account or external account); default Application Default Credentials. */
  readonly keyFile?: string;
}

export async function createVertexEmbedder(options: VertexEmbedderOptions): Promise<Embedder> {
  const base = (options.apiEndpoint ?? `https://${options.location}-aiplatform.googleapis.com`).replace(/\/+$/, "");
  const endpoint = `${base}/v1/projects/${encodeURIComponent(options.project)}/locations/${encodeURIComponent(options.location)}/publishers/google/models/${encodeURIComponent(options.model)}:predict`;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const auth = createGoogleTokenSource(options.keyFile ? { keyFile: options.keyFile } : {});
  const taskType = options.taskType ?? "SEMANTIC_SIMILARITY";
  const parameters: Record<string, unknown> = { autoTruncate: true };
  if ((options.dimensions ?? 0) > 0) parameters.outputDimensionality = options.dimensions;
  return createBatchedEmbedder({
    ...options,
    maxBatch: Math.min(options.maxBatch ?? 32, vertexMaxBatch),
    kind: "vertex",
    endpoint,
    async call(texts, dimensions) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const token = await auth.token(deadline);
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ instances: texts.map((content) => ({ content, task_type: taskType })), parameters }),
        signal: deadline,
      });
      const raw = await readCapped(response, maxAnswerBytes(texts.length, dimensions), "embeddings answer");
      if (!response.ok) {
        const status = googleErrorStatus(raw);
        throw new Error(`Vertex AI answered ${response.status}${status ? ` ${status}` : ""}`);
      }
      const predictions = (parseJson(raw, "embeddings answer") as { predictions?: unknown }).predictions;
      if (!Array.isArray(predictions)) throw new Error("Vertex AI answer has no predictions");
      return predictions.map((p: { embeddings?: { values?: unknown } }) => p?.embeddings?.values);
    },
  });
}
