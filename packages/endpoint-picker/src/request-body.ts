import { type ApiKind, type InferenceRequest, parseInferenceRequest } from "@llm-callouts/llm-api";
import { type InferenceError, inferenceError } from "./picker-error.js";

/** Parses and validates an inference request body (400s with GIE's messages; shapes in llm-api). */
export function parseRequestBody(
  body: Uint8Array,
  api: ApiKind,
): { value: InferenceRequest } | { error: InferenceError } {
  const parsed = parseInferenceRequest(body, api);
  return "error" in parsed ? { error: inferenceError("BadRequest", parsed.error) } : parsed;
}

/** Replaces `"model":"<to>"` occurrences in a response chunk with the client-facing name. */
export function rewriteModelInText(text: string, from: string, to: string): string {
  if (from === to) return text;
  return text.split(`"model":"${jsonEscape(from)}"`).join(`"model":"${jsonEscape(to)}"`);
}

function jsonEscape(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
