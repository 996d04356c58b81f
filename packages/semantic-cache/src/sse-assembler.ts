import { createSseFramer, type SseFrame } from "@llm-callouts/llm-api";
import { type CompletionResult, isRecord } from "./completion-parser.js";
import type { StoredChoice, StoredToolCall } from "./stored-completion.js";

/** Folds OpenAI `chat.completion.chunk` SSE bytes into one completion while they pass through. */
export interface SseAssembler {
  /** Feeds the next bytes (any split, even inside a UTF-8 sequence or a line). */
  push(bytes: Uint8Array): void;
  /**
   * The completion, only when the stream was complete: `data: [DONE]` seen, every
   * choice has a finish_reason, and no error event arrived.
   */
  finish(): CompletionResult;
}

interface ChoiceState {
  role: string;
  content: string;
  hasContent: boolean;
  refusal: string | undefined;
  finishReason: string | undefined;
  toolCalls: { id: string; type: string; name: string; arguments: string }[];
}

export function createSseAssembler(): SseAssembler {
  const framer = createSseFramer();
  let done = false;
  let error: string | undefined;
  let meta: { id: string; model: string; created: number; fingerprint?: string } | undefined;
  let usage: Record<string, unknown> | undefined;
  const choices = new Map<number, ChoiceState>();

  const onData = (data: string): void => {
    if (done || error) return;
    if (data === "[DONE]") {
      done = true;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      error = "event data is not JSON";
      return;
    }
    if (!isRecord(json) || "error" in json) {
      error = "error event";
      return;
    }
    meta ??= {
      id: String(json.id ?? "chatcmpl-cache"),
      model: String(json.model ?? ""),
      created: typeof json.created === "number" ? json.created : 0,
      ...(typeof json.system_fingerprint === "string" ? { fingerprint: json.system_fingerprint } : {}),
    };
    if (isRecord(json.usage)) usage = json.usage;
    for (const raw of Array.isArray(json.choices) ? json.choices : []) {
      if (!isRecord(raw)) continue;
      const index = typeof raw.index === "number" ? raw.index : 0;
      const state = choices.get(index) ?? {
        role: "assistant",
        content: "",
        hasContent: false,
        refusal: undefined,
        finishReason: undefined,
        toolCalls: [],
      };
      choices.set(index, state);
      const delta = isRecord(raw.delta) ? raw.delta : {};
      if (typeof delta.role === "string") state.role = delta.role;
      if (typeof delta.content === "string") {
        state.content += delta.content;
        state.hasContent = true;
      }
      if (typeof delta.refusal === "string") state.refusal = (state.refusal ?? "") + delta.refusal;
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        if (!isRecord(call)) continue;
        const at = typeof call.index === "number" ? call.index : state.toolCalls.length;
        const slot = state.toolCalls[at] ?? { id: "", type: "function", name: "", arguments: "" };
        state.toolCalls[at] = slot;
        if (typeof call.id === "string") slot.id = call.id;
        if (typeof call.type === "string") slot.type = call.type;
        const fn = isRecord(call.function) ? call.function : {};
        if (typeof fn.name === "string") slot.name += fn.name;
        if (typeof fn.arguments === "string") slot.arguments += fn.arguments;
      }
      if (typeof raw.finish_reason === "string") state.finishReason = raw.finish_reason;
    }
  };

  // Only the `data` fields matter here.
  const consume = (frames: readonly SseFrame[]): void => {
    for (const frame of frames) if (frame.data) onData(frame.data);
  };

  return {
    push(bytes) {
      consume(framer.push(bytes));
    },
    finish() {
      consume(framer.end());
      if (error) return { error };
      if (!done) return { error: "stream ended without [DONE]" };
      if (!meta || choices.size === 0) return { error: "no choices" };
      const out: StoredChoice[] = [];
      for (const [index, state] of [...choices].sort(([a], [b]) => a - b)) {
        if (!state.finishReason) return { error: "choice without finish_reason" };
        const toolCalls: StoredToolCall[] = state.toolCalls.map((c) => ({
          id: c.id,
          type: c.type,
          function: { name: c.name, arguments: c.arguments },
        }));
        out.push({
          index,
          role: state.role,
          content: state.hasContent || toolCalls.length === 0 ? state.content : null,
          ...(toolCalls.length ? { toolCalls } : {}),
          ...(state.refusal !== undefined ? { refusal: state.refusal } : {}),
          finishReason: state.finishReason,
        });
      }
      return {
        value: {
          id: meta.id,
          model: meta.model,
          created: meta.created,
          ...(meta.fingerprint ? { systemFingerprint: meta.fingerprint } : {}),
          choices: out,
          ...(usage ? { usage } : {}),
        },
      };
    },
  };
}
