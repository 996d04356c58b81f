import type { SseFrame } from "@llm-callouts/llm-api";

/** A text delta inside one SSE event, with a setter to write the redacted text back. */
export interface EventDelta {
  /** Stream of text it belongs to (choice / content block / tool call). */
  readonly channel: string;
  readonly text: string;
  set(text: string): void;
}

/** One complete SSE event as received (`raw` includes its blank-line terminator). */
export interface SseEvent {
  readonly raw: string;
  readonly deltas: readonly EventDelta[];
  /** `data: [DONE]` (OpenAI's terminal event). */
  readonly done: boolean;
  /** Serialises the event, with the data JSON rewritten when a delta changed. */
  serialize(): string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function delta(channel: string, holder: Obj, key: string, changed: () => void): EventDelta | undefined {
  const text = holder[key];
  if (typeof text !== "string" || text.length === 0) return undefined;
  return {
    channel,
    text,
    set(next) {
      if (next !== text) {
        holder[key] = next;
        changed();
      }
    },
  };
}

/** Finds streamed text in OpenAI chat/completions, Responses API and Anthropic events. */
function findDeltas(data: Obj, changed: () => void): EventDelta[] {
  const out: (EventDelta | undefined)[] = [];
  if (Array.isArray(data.choices)) {
    data.choices.forEach((choice, i) => {
      if (!isObj(choice)) return;
      const index = typeof choice.index === "number" ? choice.index : i;
      out.push(delta(`choice${index}`, choice, "text", changed));
      if (!isObj(choice.delta)) return;
      out.push(delta(`choice${index}`, choice.delta, "content", changed));
      out.push(delta(`choice${index}.refusal`, choice.delta, "refusal", changed));
      if (Array.isArray(choice.delta.tool_calls)) {
        choice.delta.tool_calls.forEach((call, j) => {
          if (!isObj(call) || !isObj(call.function)) return;
          const callIndex = typeof call.index === "number" ? call.index : j;
          out.push(delta(`choice${index}.tool${callIndex}`, call.function, "arguments", changed));
        });
      }
    });
  }
  if (typeof data.type === "string") {
    // Responses API: response.output_text.delta, response.function_call_arguments.delta, ...
    if (data.type.startsWith("response.") && data.type.endsWith(".delta")) {
      out.push(
        delta(
          `${data.type}:${String(data.output_index ?? 0)}:${String(data.content_index ?? 0)}`,
          data,
          "delta",
          changed,
        ),
      );
    }
    // Anthropic: content_block_delta with text_delta or input_json_delta.
    if (data.type === "content_block_delta" && isObj(data.delta)) {
      const channel = `block${String(data.index ?? 0)}`;
      out.push(delta(channel, data.delta, "text", changed));
      out.push(delta(channel, data.delta, "partial_json", changed));
    }
  }
  return out.filter((d): d is EventDelta => d !== undefined);
}

/** Reads one SSE frame's text deltas. Non-JSON data is passed through untouched. */
export function parseSseEvent(frame: SseFrame): SseEvent {
  const { raw } = frame;
  const payload = frame.data ?? "";
  const unchanged: SseEvent = { raw, deltas: [], done: frame.done, serialize: () => raw };
  if (frame.data === undefined || !payload.trimStart().startsWith("{")) return unchanged;
  let data: unknown;
  try {
    data = JSON.parse(payload);
  } catch {
    return unchanged;
  }
  if (!isObj(data)) return unchanged;
  let dirty = false;
  const deltas = findDeltas(data, () => {
    dirty = true;
  });
  return {
    raw,
    deltas,
    done: false,
    serialize() {
      if (!dirty) return raw;
      // The frame's lines with its data lines replaced by one line of the rewritten JSON.
      const body = raw.replace(/(?:\r\n|\r|\n)+$/, "");
      const terminator = raw.slice(body.length);
      let wrote = false;
      const rebuilt: string[] = [];
      for (const line of body.split(/\r\n|\r|\n/)) {
        if (!line.startsWith("data:") && line !== "data") rebuilt.push(line);
        else if (!wrote) {
          rebuilt.push(`data: ${JSON.stringify(data)}`);
          wrote = true;
        }
      }
      return rebuilt.join("\n") + terminator;
    },
  };
}
