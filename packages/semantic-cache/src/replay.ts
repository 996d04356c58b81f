import type { StoredCompletion } from "./stored-completion.js";

/** A stored completion as a `chat.completion` JSON body. */
export function renderJson(completion: StoredCompletion): string {
  return JSON.stringify({
    id: completion.id,
    object: "chat.completion",
    created: completion.created,
    model: completion.model,
    ...(completion.systemFingerprint ? { system_fingerprint: completion.systemFingerprint } : {}),
    choices: completion.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: choice.role,
        content: choice.content,
        ...(choice.toolCalls ? { tool_calls: choice.toolCalls } : {}),
        ...(choice.refusal !== undefined ? { refusal: choice.refusal } : {}),
      },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    ...(completion.usage ? { usage: completion.usage } : {}),
  });
}

/** Options of {@link renderSse}. */
export interface RenderSseOptions {
  /** Characters of content per chunk event. Default 512 (one event per short answer). */
  readonly chunkChars?: number;
  /** Emit a final usage chunk (as `stream_options.include_usage` asks). Default false. */
  readonly includeUsage?: boolean;
}

/**
 * A stored completion as a valid OpenAI SSE stream: per choice a role chunk,
 * content chunks, tool-call chunks and a finish chunk, then `data: [DONE]`.
 */
export function renderSse(completion: StoredCompletion, options: RenderSseOptions = {}): string {
  const size = options.chunkChars ?? 512;
  const base = {
    id: completion.id,
    object: "chat.completion.chunk",
    created: completion.created,
    model: completion.model,
    ...(completion.systemFingerprint ? { system_fingerprint: completion.systemFingerprint } : {}),
  };
  const events: string[] = [];
  const emit = (choice: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): void => {
    events.push(`data: ${JSON.stringify({ ...base, choices: choice ? [choice] : [], ...extra })}\n\n`);
  };
  for (const choice of completion.choices) {
    const delta = (d: Record<string, unknown>) => ({
      index: choice.index,
      delta: d,
      logprobs: null,
      finish_reason: null,
    });
    emit(delta({ role: choice.role, content: choice.content === null ? null : "" }));
    // Split by code point so no chunk ends inside a surrogate pair.
    const chars = Array.from(choice.content ?? "");
    for (let i = 0; i < chars.length; i += size) emit(delta({ content: chars.slice(i, i + size).join("") }));
    for (const [index, call] of (choice.toolCalls ?? []).entries()) {
      emit(delta({ tool_calls: [{ index, id: call.id, type: call.type, function: call.function }] }));
    }
    if (choice.refusal) emit(delta({ refusal: choice.refusal }));
    emit({ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finishReason });
  }
  if (options.includeUsage && completion.usage) emit(undefined, { usage: completion.usage });
  events.push("data: [DONE]\n\n");
  return events.join("");
}
