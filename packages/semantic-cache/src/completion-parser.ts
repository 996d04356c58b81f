import type { StoredChoice, StoredCompletion, StoredToolCall } from "./stored-completion.js";

export type CompletionResult = { readonly value: StoredCompletion } | { readonly error: string };

/**
 * A non-streamed `chat.completion` body as a stored completion, or why it must not
 * be stored (not JSON, an error object, a choice without finish_reason).
 */
export function parseCompletionJson(body: Uint8Array): CompletionResult {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return { error: "response is not UTF-8 JSON" };
  }
  if (!isRecord(json) || json.object !== "chat.completion") return { error: "not a chat.completion" };
  if (!Array.isArray(json.choices) || json.choices.length === 0) return { error: "no choices" };
  const choices: StoredChoice[] = [];
  for (const raw of json.choices) {
    if (!isRecord(raw) || !isRecord(raw.message)) return { error: "malformed choice" };
    if (typeof raw.finish_reason !== "string") return { error: "choice without finish_reason" };
    const message = raw.message;
    const content = typeof message.content === "string" ? message.content : null;
    const toolCalls = Array.isArray(message.tool_calls) ? parseToolCalls(message.tool_calls) : undefined;
    choices.push({
      index: typeof raw.index === "number" ? raw.index : choices.length,
      role: typeof message.role === "string" ? message.role : "assistant",
      content,
      ...(toolCalls ? { toolCalls } : {}),
      ...(typeof message.refusal === "string" ? { refusal: message.refusal } : {}),
      finishReason: raw.finish_reason,
    });
  }
  return {
    value: {
      id: typeof json.id === "string" ? json.id : "chatcmpl-cache",
      model: typeof json.model === "string" ? json.model : "",
      created: typeof json.created === "number" ? json.created : 0,
      ...(typeof json.system_fingerprint === "string" ? { systemFingerprint: json.system_fingerprint } : {}),
      choices,
      ...(isRecord(json.usage) ? { usage: json.usage } : {}),
    },
  };
}

function parseToolCalls(raw: unknown[]): StoredToolCall[] {
  return raw.filter(isRecord).map((call) => {
    const fn = isRecord(call.function) ? call.function : {};
    return {
      id: String(call.id ?? ""),
      type: String(call.type ?? "function"),
      function: { name: String(fn.name ?? ""), arguments: String(fn.arguments ?? "") },
    };
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
