import { createSseFramer } from "./sse.js";

/** Token usage as OpenAI-compatible servers report it. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
}

/** Usage from a parsed response object (Chat/Completions or Responses API names). */
export function usageFromJson(obj: unknown): TokenUsage | undefined {
  const u = (obj as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u || typeof u !== "object") return undefined;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const details = (u.prompt_tokens_details ?? u.input_tokens_details) as Record<string, unknown> | undefined;
  return {
    promptTokens: num(u.prompt_tokens ?? u.input_tokens),
    completionTokens: num(u.completion_tokens ?? u.output_tokens),
    cachedTokens: num(details?.cached_tokens),
  };
}

/** Usage from a whole JSON response body. */
export function usageFromBody(text: string): TokenUsage | undefined {
  try {
    return usageFromJson(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Incremental SSE reader: feed raw chunks, get the last `usage` seen in event data
 * (vLLM sends it in the final chunk with `stream_options.include_usage`).
 */
export interface SseUsageReader {
  push(chunk: Uint8Array | string): void;
  readonly usage: TokenUsage | undefined;
  readonly done: boolean;
}

export function createSseUsageReader(): SseUsageReader {
  const framer = createSseFramer();
  let usage: TokenUsage | undefined;
  let done = false;
  return {
    push(chunk) {
      for (const frame of framer.push(chunk)) {
        if (frame.done) done = true;
        else if (frame.data?.includes('"usage"')) usage = usageFromBody(frame.data) ?? usage;
      }
    },
    get usage() {
      return usage;
    },
    get done() {
      return done;
    },
  };
}
