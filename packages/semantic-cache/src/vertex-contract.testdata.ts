/**
 * A contract server for Vertex AI text embeddings, reproducing the documented shapes and
 * failure modes the cache meets (Vertex AI cannot run here):
 * - `POST /sts`: Google's Security Token Service exchange (RFC 8693), as Workload Identity
 *   Federation uses it: an `external_account` credential file names it as `token_url` and a
 *   file holding the workload's subject token. The subject token, audience and cloud-platform
 *   scope must match; the answer is `{ access_token, issued_token_type, token_type, expires_in }`.
 *   (google-auth-library sends service-account JWT grants to oauth2.googleapis.com whatever the
 *   key file says, so that grant cannot be pointed at a local server.)
 * - `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:predict`: a bearer token
 *   it issued (else 401 UNAUTHENTICATED), its project (else 403 PERMISSION_DENIED), at most 250
 *   instances (else 400 INVALID_ARGUMENT), each `{ content, task_type }`; answers
 *   `predictions[i].embeddings.values` (the simulator's hashed vectors, `outputDimensionality`
 *   long) with `statistics`. Errors are Google's `{ error: { code, message, status } }`.
 * `mode` makes it answer 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, or hang.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { embeddingOf } from "@llm-callouts/model-server-sim";

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

const scope = "https://www.googleapis.com/auth/cloud-platform";

export async function startVertexContractServer(project = "test-project"): Promise<VertexContractServer> {
  const subjectToken = `eyJ.${randomBytes(16).toString("base64url")}.sig`;
  const audience = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gke/providers/cache";
  const tokens = new Set<string>();
  const predictCalls: { instances: number; taskTypes: string[] }[] = [];
  let grants = 0;
  let url = "";

  const error = (res: ServerResponse, code: number, status: string, message: string) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code, message, status } }));
  };
  const bodyOf = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  };

  const exchange = (form: URLSearchParams): string | undefined => {
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange") return undefined;
    if (form.get("subject_token") !== subjectToken || form.get("audience") !== audience) return undefined;
    if (!(form.get("scope") ?? "").split(" ").includes(scope)) return undefined;
    const token = `ya29.${randomBytes(24).toString("base64url")}`;
    tokens.add(token);
    grants++;
    return token;
  };

  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    if (req.method === "POST" && req.url === "/sts") {
      const token = exchange(new URLSearchParams(body));
      res.writeHead(token ? 200 : 400, { "content-type": "application/json" });
      const answer = token
        ? {
            access_token: token,
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
            token_type: "Bearer",
            expires_in: 3599,
          }
        : { error: "invalid_grant", error_description: "The subject token is invalid." };
      return res.end(JSON.stringify(answer));
    }
    const match = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):predict$/.exec(
      req.url ?? "",
    );
    if (req.method !== "POST" || !match) return error(res, 404, "NOT_FOUND", "not found");
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !tokens.has(bearer)) {
      return error(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    }
    if (decodeURIComponent(match[1] ?? "") !== project) {
      return error(res, 403, "PERMISSION_DENIED", "Permission denied on resource project.");
    }
    if (state.mode === "hang") return;
    if (state.mode === "quota") return error(res, 429, "RESOURCE_EXHAUSTED", "Quota exceeded.");
    if (state.mode === "unavailable") return error(res, 503, "UNAVAILABLE", "The service is currently unavailable.");
    let request: {
      instances?: { content?: unknown; task_type?: unknown }[];
      parameters?: { outputDimensionality?: unknown };
    };
    try {
      request = JSON.parse(body);
    } catch {
      return error(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const instances = request.instances;
    if (!Array.isArray(instances) || instances.length === 0 || instances.some((i) => typeof i?.content !== "string")) {
      return error(res, 400, "INVALID_ARGUMENT", "instances must be a list of { content }.");
    }
    if (instances.length > 250) return error(res, 400, "INVALID_ARGUMENT", "Too many instances (max 250).");
    predictCalls.push({ instances: instances.length, taskTypes: instances.map((i) => String(i.task_type)) });
    const dimensions = Number(request.parameters?.outputDimensionality ?? 768);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        predictions: instances.map((i) => ({
          embeddings: {
            values: embeddingOf(i.content as string, dimensions),
            statistics: { truncated: false, token_count: Math.ceil((i.content as string).length / 4) },
          },
        })),
        metadata: { billableCharacterCount: instances.reduce((n, i) => n + (i.content as string).length, 0) },
      }),
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const state = {
    url,
    project,
    mode: "ok" as VertexMode,
    get grants() {
      return grants;
    },
    predictCalls,
    keyFile(dir: string) {
      const tokenFile = join(dir, "subject-token");
      writeFileSync(tokenFile, subjectToken);
      const file = join(dir, "credentials.json");
      writeFileSync(
        file,
        JSON.stringify({
          type: "external_account",
          audience,
          subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
          token_url: `${url}/sts`,
          credential_source: { file: tokenFile },
        }),
      );
      return file;
    },
    revokeTokens() {
      tokens.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  return state;
}
