import type { ApiKind } from "./api-kind.js";

/**
 * Request shapes: which fields of a request body carry its model and its prompt, per API, as
 * GIE's OpenAI parser plugin reads them (an unknown path is read as a completions request, as
 * GIE does). The error texts are GIE's, so a client sees the same 400 from either picker.
 */
export interface InferenceRequest {
  readonly json: Record<string, unknown>;
  readonly model: string;
  /** The prompt-bearing fields, serialised (a string prompt as is): the text prefix affinity hashes. */
  readonly prompt: string;
}

export type RequestParse = { readonly value: InferenceRequest } | { readonly error: string };

/** Parses a JSON request body and checks the fields its API needs. */
export function parseInferenceRequest(body: Uint8Array, api: ApiKind): RequestParse {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    return { error: `error unmarshaling request bodyMap: ${(err as Error).message}` };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { error: "error unmarshaling request bodyMap: not a JSON object" };
  }
  const obj = json as Record<string, unknown>;
  if (typeof obj.model !== "string" || obj.model === "") return { error: "model not found in request body" };
  const prompt = promptOf(api, obj);
  if ("error" in prompt) return prompt;
  const value = prompt.value;
  return { value: { json: obj, model: obj.model, prompt: typeof value === "string" ? value : JSON.stringify(value) } };
}

function promptOf(api: ApiKind, obj: Record<string, unknown>): { value: unknown } | { error: string } {
  switch (api) {
    case "chat_completions":
    case "messages":
      if (!Array.isArray(obj.messages)) {
        return { error: "invalid chat completions request: must have valid messages field" };
      }
      // Anthropic Messages keeps the system prompt beside the messages.
      return { value: api === "messages" && obj.system !== undefined ? [obj.system, obj.messages] : obj.messages };
    case "responses":
      return { value: [obj.instructions ?? null, obj.tools ?? null, obj.input ?? null] };
    case "embeddings":
    case "conversations":
      return { value: obj.input ?? obj.items ?? null };
    default:
      if (obj.prompt === undefined) return { error: "invalid completions request: must have prompt field" };
      return { value: obj.prompt };
  }
}
