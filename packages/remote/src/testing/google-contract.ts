/**
 * The common part of contract servers for Google Cloud APIs (which cannot run here):
 * - `POST /sts`: Google's Security Token Service exchange (RFC 8693), as Workload Identity
 *   Federation uses it: an `external_account` credential file names it as `token_url` and a
 *   file holding the workload's subject token. Subject token, audience and cloud-platform
 *   scope must match; the answer is `{ access_token, issued_token_type, token_type, expires_in }`.
 *   (google-auth-library sends service-account JWT grants to oauth2.googleapis.com whatever
 *   the key file says, so that grant cannot be pointed at a local server.)
 * - every other request must carry a bearer token it issued (else 401 UNAUTHENTICATED) and
 *   name its project in `/v1/projects/{project}/...` (else 403 PERMISSION_DENIED);
 * - `fault` makes the API answer as Google does when things go wrong: 429
 *   RESOURCE_EXHAUSTED with `retry-after`, 503 UNAVAILABLE, 500 INTERNAL, a hang, a body that
 *   is not JSON, or a closed socket; `delayMs` slows every answer.
 * Errors are Google's `{ error: { code, message, status } }`.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { startJsonServer } from "./json-server.js";

export type GoogleFault = "none" | "quota" | "unavailable" | "internal" | "hang" | "malformed" | "reset";

export interface GoogleApiRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly body: string;
  readonly headers: IncomingMessage["headers"];
}

/** What a route answers: a status and a JSON body. */
export interface GoogleApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface GoogleContractServer {
  readonly url: string;
  readonly project: string;
  /** An `external_account` credential file (and its subject-token file) whose token_url is this server. */
  keyFile(dir: string): string;
  fault: GoogleFault;
  /** How many more API calls get `fault` (then it resets to "none"); default unlimited. */
  faultCount: number;
  /** Added before every API answer. */
  delayMs: number;
  /** `retry-after` seconds sent with the quota fault. */
  retryAfterSeconds: number;
  readonly grants: number;
  /** API requests that reached a route (after auth), in order. */
  readonly calls: readonly GoogleApiRequest[];
  /** Forgets every token issued (the next call gets 401 until a new grant). */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** Google's error envelope. */
export function googleError(code: number, status: string, message: string): GoogleApiAnswer {
  return { status: code, body: { error: { code, message, status } } };
}

const scope = "https://www.googleapis.com/auth/cloud-platform";

/** Starts the server; `route` answers authenticated requests for the project (undefined = 404). */
export async function startGoogleContractServer(
  route: (request: GoogleApiRequest) => GoogleApiAnswer | undefined,
  project = "test-project",
): Promise<GoogleContractServer> {
  const subjectToken = `eyJ.${randomBytes(16).toString("base64url")}.sig`;
  const audience = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gke/providers/callouts";
  const tokens = new Set<string>();
  const calls: GoogleApiRequest[] = [];
  let grants = 0;

  const exchange = (form: URLSearchParams): string | undefined => {
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange") return undefined;
    if (form.get("subject_token") !== subjectToken || form.get("audience") !== audience) return undefined;
    if (!(form.get("scope") ?? "").split(" ").includes(scope)) return undefined;
    const token = `ya29.${randomBytes(24).toString("base64url")}`;
    tokens.add(token);
    grants++;
    return token;
  };

  const server = await startJsonServer(async ({ req, res, path, body, send }) => {
    const reply = (answer: GoogleApiAnswer, headers: Record<string, string> = {}) =>
      send(answer.status, answer.body, headers);
    if (req.method === "POST" && path === "/sts") {
      const token = exchange(new URLSearchParams(body));
      return reply(
        token
          ? {
              status: 200,
              body: {
                access_token: token,
                issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
                token_type: "Bearer",
                expires_in: 3599,
              },
            }
          : { status: 400, body: { error: "invalid_grant", error_description: "The subject token is invalid." } },
      );
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !tokens.has(bearer)) {
      return reply(googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."));
    }
    const named = /^\/v1\/projects\/([^/]+)\//.exec(path)?.[1];
    if (named !== undefined && decodeURIComponent(named) !== project) {
      return reply(googleError(403, "PERMISSION_DENIED", "Permission denied on resource project."));
    }
    if (state.delayMs > 0) await new Promise((done) => setTimeout(done, state.delayMs));
    const fault = state.fault;
    if (fault !== "none" && --state.faultCount <= 0) {
      state.fault = "none";
      state.faultCount = Number.POSITIVE_INFINITY;
    }
    switch (fault) {
      case "hang":
        return;
      case "reset":
        return req.socket.destroy();
      case "quota":
        return reply(googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded."), {
          "retry-after": String(state.retryAfterSeconds),
        });
      case "unavailable":
        return reply(googleError(503, "UNAVAILABLE", "The service is currently unavailable."));
      case "internal":
        return reply(googleError(500, "INTERNAL", "Internal error encountered."));
      case "malformed":
        res.writeHead(200, { "content-type": "application/json" });
        return res.end('{"sanitizationResult": {"filterMatchState": ');
      default:
    }
    const request = { method: req.method ?? "GET", path, body, headers: req.headers };
    const answer = route(request);
    if (!answer) return reply(googleError(404, "NOT_FOUND", "Requested entity was not found."));
    calls.push(request);
    reply(answer);
  });
  const url = server.url;
  const state: GoogleContractServer = {
    url,
    project,
    fault: "none",
    faultCount: Number.POSITIVE_INFINITY,
    delayMs: 0,
    retryAfterSeconds: 1,
    get grants() {
      return grants;
    },
    calls,
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
    close: () => server.close(),
  };
  return state;
}
