/**
 * Google Model Armor as a guardrail backend: `sanitizeUserPrompt` for prompts and
 * `sanitizeModelResponse` for answers (REST,
 * `POST {endpoint}/v1/projects/{p}/locations/{l}/templates/{t}:sanitizeUserPrompt`), on
 * the regional endpoint `https://modelarmor.{location}.rep.googleapis.com` by default.
 * Auth: Application Default Credentials (the GKE metadata server for Workload Identity, a
 * key file or an external account) through `@llm-callouts/remote`. Each call has one
 * deadline covering the token fetch, the request and any retry; sanitize calls change
 * nothing, so 429 (after its `retry-after`, when that fits), 500, 503 and a dropped
 * connection are retried inside that deadline. A circuit breaker stops calling a dead
 * endpoint. Errors are reported by Google's status name, never by their message (which
 * may quote the prompt).
 */
import {
  type CircuitBreaker,
  createGoogleTokenSource,
  type GoogleTokenSource,
  googleErrorStatus,
  parseJson,
  readCapped,
  retryAfterMs,
} from "@llm-callouts/remote";
import { type SanitizationResult, sanitizeResponseSchema } from "../policy/model-armor-result.js";

export interface ModelArmorClientOptions {
  readonly project: string;
  readonly location: string;
  /** Default `https://modelarmor.<location>.rep.googleapis.com` (a Private Service Connect endpoint or a test server otherwise). */
  readonly endpoint?: string;
  /** Credential file; default Application Default Credentials. */
  readonly keyFile?: string;
  /** Deadline per sanitize call, token and retries included. */
  readonly timeoutMs: number;
  /** Retries of a failed call (429, 500, 503, dropped connection) inside the deadline. */
  readonly retries: number;
  readonly breaker?: CircuitBreaker;
  /** Replaces Application Default Credentials (tests). */
  readonly tokens?: GoogleTokenSource;
}

/** Why a Model Armor call gave no verdict: Google's status, or ours for transport failures. */
export class BackendError extends Error {
  constructor(readonly status: string) {
    super(`model armor: ${status}`);
  }
}

export interface ModelArmorClient {
  readonly endpoint: string;
  sanitizeUserPrompt(template: string, text: string): Promise<SanitizationResult>;
  sanitizeModelResponse(template: string, text: string, userPrompt?: string): Promise<SanitizationResult>;
}

/** Answers are small JSON documents; anything far larger is not Model Armor. */
const maxAnswerBytes = 4 * 1024 * 1024;
const retryable = new Set([429, 500, 502, 503, 504]);

export function createModelArmorClient(options: ModelArmorClientOptions): ModelArmorClient {
  const endpoint = (options.endpoint || `https://modelarmor.${options.location}.rep.googleapis.com`).replace(
    /\/+$/,
    "",
  );
  const tokens = options.tokens ?? createGoogleTokenSource(options.keyFile ? { keyFile: options.keyFile } : {});
  const nameOf = (template: string) =>
    template.startsWith("projects/")
      ? template
      : `projects/${encodeURIComponent(options.project)}/locations/${encodeURIComponent(options.location)}/templates/${encodeURIComponent(template)}`;

  const attempt = async (url: string, body: string, deadline: AbortSignal) => {
    const token = await tokens.token(deadline);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
      signal: deadline,
    });
    const raw = await readCapped(response, maxAnswerBytes, "Model Armor answer");
    return { response, raw };
  };

  const call = async (template: string, method: string, request: object): Promise<SanitizationResult> => {
    if (options.breaker && !options.breaker.allow()) throw new BackendError("CIRCUIT_OPEN");
    const url = `${endpoint}/v1/${nameOf(template)}:${method}`;
    const body = JSON.stringify(request);
    const started = Date.now();
    const deadline = AbortSignal.timeout(options.timeoutMs);
    let tries = 0;
    try {
      for (;;) {
        tries++;
        let status: string;
        let wait = 20;
        try {
          const { response, raw } = await attempt(url, body, deadline);
          if (response.ok) {
            const parsed = sanitizeResponseSchema.safeParse(parseJson(raw, "Model Armor answer"));
            if (!parsed.success) throw new BackendError("MALFORMED_ANSWER");
            options.breaker?.success();
            return parsed.data.sanitizationResult;
          }
          status = googleErrorStatus(raw) ?? `HTTP_${response.status}`;
          if (!retryable.has(response.status)) throw new BackendError(status);
          wait = retryAfterMs(response.headers.get("retry-after")) ?? wait;
        } catch (error) {
          if (error instanceof BackendError) throw error;
          if (deadline.aborted) throw new BackendError("DEADLINE_EXCEEDED");
          if (/not JSON/.test((error as Error).message)) throw new BackendError("MALFORMED_ANSWER");
          if (/exceeds/.test((error as Error).message)) throw new BackendError("ANSWER_TOO_LARGE");
          status = "CONNECTION_FAILED";
        }
        // Retry only when the wait and a fresh attempt still fit inside the deadline.
        const left = options.timeoutMs - (Date.now() - started);
        if (tries > options.retries || wait >= left - 5) throw new BackendError(status);
        await new Promise((done) => setTimeout(done, wait));
      }
    } catch (error) {
      // A refusal of our request (bad template, no permission) is not the endpoint failing.
      const status = (error as BackendError).status;
      if (status !== "INVALID_ARGUMENT" && status !== "NOT_FOUND") options.breaker?.failure();
      throw error instanceof BackendError ? error : new BackendError("CONNECTION_FAILED");
    }
  };

  return {
    endpoint,
    sanitizeUserPrompt: (template, text) => call(template, "sanitizeUserPrompt", { userPromptData: { text } }),
    sanitizeModelResponse: (template, text, userPrompt) =>
      call(template, "sanitizeModelResponse", {
        modelResponseData: { text },
        ...(userPrompt !== undefined ? { userPrompt } : {}),
      }),
  };
}
