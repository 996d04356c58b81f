/**
 * OpenAI request parsing and response shapes as vLLM's OpenAI server emits
 * them (`vllm/entrypoints/openai/protocol.py`). Pure: no I/O.
 */

/** A parsed completion or chat request. */
export interface ParsedRequest {
  readonly kind: "chat" | "completion";
  readonly model: string;
  /** Prompt text after the chat template. */
  readonly promptText: string;
  readonly maxTokens: number;
  /** "length" when the client set max_tokens (generation runs to it), else "stop". */
  readonly finishReason: "length" | "stop";
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

/** An OpenAI-shaped error with its HTTP status. */
export interface ApiError {
  readonly status: number;
  readonly type: string;
  readonly message: string;
  readonly param?: string;
}

/** The JSON body vLLM returns for an error. */
export function errorBody(e: ApiError): {
  error: { message: string; type: string; param: string | null; code: number };
} {
  return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.status } };
}

const bad = (message: string, param?: string): { error: ApiError } => ({
  error: { status: 400, type: "BadRequestError", message, ...(param ? { param } : {}) },
});

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) =>
        p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string"
          ? (p as { text: string }).text
          : "",
      )
      .join("");
  }
  return "";
}

/** Llama 3 chat template (what the tokenizer of the served model would apply). */
export function applyChatTemplate(messages: readonly { role: string; content: string }[]): string {
  const parts = ["<|begin_of_text|>"];
  for (const m of messages) parts.push(`<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content}<|eot_id|>`);
  parts.push("<|start_header_id|>assistant<|end_header_id|>\n\n");
  return parts.join("");
}

/** Parses the body of `POST /v1/chat/completions` or `/v1/completions`. */
export function parseRequest(
  kind: "chat" | "completion",
  raw: string,
  defaultMaxTokens: number,
): { value: ParsedRequest } | { error: ApiError } {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    return bad(`Invalid JSON body: ${(e as Error).message}`);
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return bad("Request body must be a JSON object");
  const b = body as Record<string, unknown>;
  if (typeof b.model !== "string" || b.model === "") return bad("Field 'model' is required", "model");
  let promptText: string;
  if (kind === "chat") {
    if (!Array.isArray(b.messages) || b.messages.length === 0) return bad("Field 'messages' is required", "messages");
    const messages = b.messages.map((m) => {
      const o = (m ?? {}) as Record<string, unknown>;
      return { role: typeof o.role === "string" ? o.role : "user", content: contentText(o.content) };
    });
    promptText = applyChatTemplate(messages);
  } else {
    const p = b.prompt;
    if (typeof p === "string") promptText = p;
    else if (Array.isArray(p) && p.every((x) => typeof x === "string")) promptText = p.join("");
    else return bad("Field 'prompt' is required", "prompt");
  }
  const requested = b.max_completion_tokens ?? b.max_tokens;
  if (requested !== undefined && requested !== null && (!Number.isInteger(requested) || (requested as number) < 1)) {
    return bad("max_tokens must be at least 1", "max_tokens");
  }
  const hasMax = typeof requested === "number";
  const streamOptions = (b.stream_options ?? {}) as Record<string, unknown>;
  return {
    value: {
      kind,
      model: b.model,
      promptText,
      maxTokens: hasMax ? (requested as number) : defaultMaxTokens,
      finishReason: hasMax ? "length" : "stop",
      stream: b.stream === true,
      includeUsage: b.stream === true && streamOptions.include_usage === true,
    },
  };
}

/** Token usage as vLLM reports it (with `--enable-prompt-tokens-details`). */
export interface Usage {
  readonly prompt_tokens: number;
  readonly total_tokens: number;
  readonly completion_tokens: number;
  readonly prompt_tokens_details: { readonly cached_tokens: number };
}

export function usageOf(promptTokens: number, completionTokens: number, cachedTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

/** Identity of one response: id, creation time (s), model. */
export interface ResponseMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** A non-streaming response body. */
export function fullResponse(
  kind: "chat" | "completion",
  meta: ResponseMeta,
  text: string,
  finishReason: string,
  usage: Usage,
) {
  if (kind === "chat") {
    return {
      id: meta.id,
      object: "chat.completion",
      created: meta.created,
      model: meta.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: text, refusal: null, tool_calls: [] },
          logprobs: null,
          finish_reason: finishReason,
          stop_reason: null,
        },
      ],
      usage,
      prompt_logprobs: null,
    };
  }
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [
      { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null, prompt_logprobs: null },
    ],
    usage,
  };
}

/** One streamed chunk carrying `text` (and the finish reason on the last token). */
export function streamChunk(
  kind: "chat" | "completion",
  meta: ResponseMeta,
  delta: { role?: "assistant"; text: string },
  finishReason: string | null,
) {
  if (kind === "chat") {
    return {
      id: meta.id,
      object: "chat.completion.chunk",
      created: meta.created,
      model: meta.model,
      choices: [
        {
          index: 0,
          delta: delta.role ? { role: delta.role, content: delta.text } : { content: delta.text },
          logprobs: null,
          finish_reason: finishReason,
          ...(finishReason ? { stop_reason: null } : {}),
        },
      ],
    };
  }
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, text: delta.text, logprobs: null, finish_reason: finishReason, stop_reason: null }],
  };
}

/** The final usage-only chunk sent when `stream_options.include_usage` is true. */
export function usageChunk(kind: "chat" | "completion", meta: ResponseMeta, usage: Usage) {
  return {
    id: meta.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage,
  };
}

/** Server-sent event framing of one JSON chunk. */
export const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
/** The terminating event. */
export const sseDone = "data: [DONE]\n\n";
