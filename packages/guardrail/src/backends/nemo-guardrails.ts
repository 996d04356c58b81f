/**
 * An NVIDIA NeMo Guardrails server as a guardrail backend. It runs only the rails of the
 * direction at hand (`options.rails: ["input"]` for a prompt, `["output"]` for an answer)
 * and asks for the activated-rails log; a rail that stopped processing (`stop: true`, as
 * "self check input" or "jailbreak detection" do when they refuse) is a match. Two
 * request shapes, as the server has had them:
 * - `classic`: `POST /v1/chat/completions` `{ config_id, messages, options }` →
 *   `{ messages, log: { activated_rails } }`;
 * - `openai`: `POST /v1/chat/completions` `{ model, messages, guardrails: { config_id,
 *   options } }` → an OpenAI completion with `guardrails.log.activated_rails`.
 * One deadline per call and a circuit breaker; errors are reported by status only.
 */
import { type CircuitBreaker, parseJson, readCapped } from "@llm-callouts/remote";
import type { ScanText } from "../policy/engine.js";
import type { BackendAnswer, BackendFinding, GuardrailBackend } from "./backends.js";

export interface NemoGuardrailsOptions {
  /** Server root, e.g. `http://nemo-guardrails:8000`. */
  readonly url: string;
  readonly apiVersion: "classic" | "openai";
  /** `openai`: the model field the server requires. */
  readonly model?: string;
  readonly timeoutMs: number;
  readonly breaker?: CircuitBreaker;
}

interface ActivatedRail {
  readonly type?: string;
  readonly name?: string;
  readonly stop?: boolean;
}

const maxAnswerBytes = 4 * 1024 * 1024;

/** The backend for one NeMo Guardrails configuration (`configId`). */
export function nemoGuardrailsBackend(options: NemoGuardrailsOptions, configId: string): GuardrailBackend {
  const endpoint = `${options.url.replace(/\/+$/, "")}/v1/chat/completions`;
  const name = "nemo-guardrails";
  return {
    name,
    async inspect(direction, texts): Promise<BackendAnswer> {
      const started = performance.now();
      const index = lastIndex(texts, direction);
      if (index < 0) return { name, durationMs: 0, findings: [] };
      const text = (texts[index] as ScanText).text;
      const messages =
        direction === "request"
          ? [{ role: "user", content: text }]
          : [
              { role: "user", content: "" },
              { role: "assistant", content: text },
            ];
      const generation = { rails: [direction === "request" ? "input" : "output"], log: { activated_rails: true } };
      const body =
        options.apiVersion === "classic"
          ? { config_id: configId, messages, options: generation }
          : { model: options.model ?? "", messages, guardrails: { config_id: configId, options: generation } };
      const fail = (error: string): BackendAnswer => {
        options.breaker?.failure();
        return { name, durationMs: performance.now() - started, error, findings: [] };
      };
      if (options.breaker && !options.breaker.allow())
        return { name, durationMs: 0, error: "CIRCUIT_OPEN", findings: [] };
      let raw: string;
      let status: number;
      try {
        const response = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        status = response.status;
        raw = await readCapped(response, maxAnswerBytes, "NeMo Guardrails answer");
      } catch (error) {
        const n = (error as Error).name;
        return fail(n === "TimeoutError" || n === "AbortError" ? "DEADLINE_EXCEEDED" : "CONNECTION_FAILED");
      }
      if (status !== 200) return fail(`HTTP_${status}`);
      let answer: unknown;
      try {
        answer = parseJson(raw, "NeMo Guardrails answer");
      } catch {
        return fail("MALFORMED_ANSWER");
      }
      const log =
        options.apiVersion === "classic"
          ? (answer as { log?: { activated_rails?: unknown } }).log
          : (answer as { guardrails?: { log?: { activated_rails?: unknown } } }).guardrails?.log;
      const rails = log?.activated_rails;
      if (!Array.isArray(rails)) return fail("MALFORMED_ANSWER");
      options.breaker?.success();
      const findings: BackendFinding[] = (rails as ActivatedRail[])
        .filter((r) => r?.stop === true)
        .map((r) => ({
          filter: /jailbreak|injection/i.test(r.name ?? "") ? ("pi_and_jailbreak" as const) : ("rai" as const),
          type: `NEMO_${(r.name ?? "rail").toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`,
          confidence: "HIGH" as const,
          textIndex: index,
          start: 0,
          end: text.length,
        }));
      return { name, durationMs: performance.now() - started, findings };
    },
  };
}

function lastIndex(texts: readonly ScanText[], direction: "request" | "response"): number {
  for (let i = texts.length - 1; i >= 0; i--) {
    const role = (texts[i] as ScanText).role;
    if (direction === "response" || role === "user" || role === undefined) return i;
  }
  return -1;
}
