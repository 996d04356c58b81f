/**
 * A contract server for Vertex AI text embeddings (Vertex AI cannot run here), on the shared
 * Google contract server (`@llm-callouts/remote/testing`: STS token exchange, bearer tokens,
 * project check, faults):
 * `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:predict` takes at most 250
 * instances (else 400 INVALID_ARGUMENT), each `{ content, task_type }`, and answers
 * `predictions[i].embeddings.values` (the simulator's hashed vectors, `outputDimensionality`
 * long) with `statistics`. `mode` makes it answer 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, or hang.
 */
import { embeddingOf } from "@llm-callouts/model-server-sim";
import { googleError, startGoogleContractServer } from "@llm-callouts/remote/testing";

export type VertexMode = "ok" | "quota" | "unavailable" | "hang";

export interface VertexContractServer {
  readonly url: string;
  readonly project: string;
  /** An `external_account` credential file (and its subject-token file) whose token_url is this server. */
  keyFile(dir: string): string;
  mode: VertexMode;
  /** Token grants and predict calls (with their instance counts) so far. */
  readonly grants: number;
  readonly predictCalls: readonly { instances: number; taskTypes: readonly string[] }[];
  /** Forgets every token issued (the next predict gets 401 until a new grant). */
  revokeTokens(): void;
  close(): Promise<void>;
}

const predictPath = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/[^/:]+:predict$/;

export async function startVertexContractServer(project = "test-project"): Promise<VertexContractServer> {
  const predictCalls: { instances: number; taskTypes: string[] }[] = [];
  const google = await startGoogleContractServer(({ method, path, body }) => {
    if (method !== "POST" || !predictPath.test(path)) return undefined;
    let request: {
      instances?: { content?: unknown; task_type?: unknown }[];
      parameters?: { outputDimensionality?: unknown };
    };
    try {
      request = JSON.parse(body);
    } catch {
      return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const instances = request.instances;
    if (!Array.isArray(instances) || instances.length === 0 || instances.some((i) => typeof i?.content !== "string")) {
      return googleError(400, "INVALID_ARGUMENT", "instances must be a list of { content }.");
    }
    if (instances.length > 250) return googleError(400, "INVALID_ARGUMENT", "Too many instances (max 250).");
    predictCalls.push({ instances: instances.length, taskTypes: instances.map((i) => String(i.task_type)) });
    const dimensions = Number(request.parameters?.outputDimensionality ?? 768);
    return {
      status: 200,
      body: {
        predictions: instances.map((i) => ({
          embeddings: {
            values: embeddingOf(i.content as string, dimensions),
            statistics: { truncated: false, token_count: Math.ceil((i.content as string).length / 4) },
          },
        })),
        metadata: { billableCharacterCount: instances.reduce((n, i) => n + (i.content as string).length, 0) },
      },
    };
  }, project);
  const faults = { ok: "none", quota: "quota", unavailable: "unavailable", hang: "hang" } as const;
  return {
    url: google.url,
    project,
    keyFile: (dir) => google.keyFile(dir),
    get mode() {
      return (Object.keys(faults) as VertexMode[]).find((m) => faults[m] === google.fault) ?? "ok";
    },
    set mode(mode: VertexMode) {
      google.fault = faults[mode];
    },
    get grants() {
      return google.grants;
    },
    predictCalls,
    revokeTokens: () => google.revokeTokens(),
    close: () => google.close(),
  };
}
