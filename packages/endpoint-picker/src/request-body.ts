import { type InferenceError, inferenceError } from "./picker-error.js";

/** OpenAI API kinds, by path suffix (GIE openai-parser). */
export type ApiKind = "chat" | "completions" | "responses" | "conversations" | "embeddings";

/** Path from `:path`, else `x-original-path`, else `x-forwarded-path`; suffix match; default completions. */
export function detectApi(path: string | undefined): ApiKind {
  const p = (path ?? "").split("?")[0] ?? "";
  if (p.endsWith("/conversations")) return "conversations";
  if (p.endsWith("/responses")) return "responses";
  if (p.endsWith("/chat/completions")) return "chat";
  if (p.endsWith("/completions")) return "completions";
  if (p.endsWith("/embeddings")) return "embeddings";
  return "completions";
}

export interface ParsedRequestBody {
  readonly json: Record<string, unknown>;
  readonly model: string;
  /** Text hashed for prefix affinity. */
  readonly prompt: string;
}

/** Parses and validates an inference request body (400s with GIE's messages). */
export function parseRequestBody(
  body: Uint8Array,
  api: ApiKind,
): { value: ParsedRequestBody } | { error: InferenceError } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    return { error: inferenceError("BadRequest", `error unmarshaling request bodyMap: ${(err as Error).message}`) };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { error: inferenceError("BadRequest", "error unmarshaling request bodyMap: not a JSON object") };
  }
  const obj = json as Record<string, unknown>;
  if (typeof obj.model !== "string" || obj.model === "") {
    return { error: inferenceError("BadRequest", "model not found in request body") };
  }
  let prompt: unknown;
  if (api === "chat") {
    if (!Array.isArray(obj.messages)) {
      return {
        error: inferenceError("BadRequest", "invalid chat completions request: must have valid messages field"),
      };
    }
    prompt = obj.messages;
  } else if (api === "completions") {
    if (obj.prompt === undefined)
      return { error: inferenceError("BadRequest", "invalid completions request: must have prompt field") };
    prompt = obj.prompt;
  } else if (api === "responses") {
    prompt = [obj.instructions ?? null, obj.tools ?? null, obj.input ?? null];
  } else {
    prompt = obj.input ?? obj.items ?? null;
  }
  return {
    value: { json: obj, model: obj.model, prompt: typeof prompt === "string" ? prompt : JSON.stringify(prompt) },
  };
}

/** Replaces `"model":"<to>"` occurrences in a response chunk with the client-facing name. */
export function rewriteModelInText(text: string, from: string, to: string): string {
  if (from === to) return text;
  return text.split(`"model":"${jsonEscape(from)}"`).join(`"model":"${jsonEscape(to)}"`);
}

function jsonEscape(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
