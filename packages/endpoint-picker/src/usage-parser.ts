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
 * Incremental SSE reader: feed raw chunks, get the last `usage` seen in `data:` lines
 * (vLLM sends it in the final chunk with `stream_options.include_usage`).
 */
export interface SseUsageReader {
  push(chunk: string): void;
  readonly usage: TokenUsage | undefined;
  readonly done: boolean;
}

export function createSseUsageReader(): SseUsageReader {
  let pending = "";
  let usage: TokenUsage | undefined;
  let done = false;
  return {
    push(chunk) {
      pending += chunk;
      let nl = pending.indexOf("\n");
      while (nl !== -1) {
        const line = pending.slice(0, nl).replace(/\r$/, "");
        pending = pending.slice(nl + 1);
        if (line.startsWith("data:")) {
          const data = line.slice(5).trim();
          if (data === "[DONE]") done = true;
          else if (data.includes('"usage"')) {
            const u = usageFromBody(data);
            if (u) usage = u;
          }
        }
        nl = pending.indexOf("\n");
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
