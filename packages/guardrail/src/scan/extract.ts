import type { ScanText } from "../policy/engine.js";

/** A JSON path as keys, for writing a redacted text back. */
export type JsonKeys = readonly (string | number)[];

/** A text found in a body, with its location. */
export interface LocatedText extends ScanText {
  readonly keys: JsonKeys;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const maxDepth = 32;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pathOf(keys: JsonKeys): string {
  return `$${keys.map((k) => (typeof k === "number" ? `[${k}]` : /^[A-Za-z_]\w*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join("")}`;
}

function push(out: LocatedText[], keys: JsonKeys, text: unknown, role?: string): void {
  if (typeof text === "string" && text.length > 0)
    out.push({ keys, path: pathOf(keys), text, ...(role ? { role } : {}) });
}

/** Every string leaf under a value (tool arguments given as objects), depth-bounded. */
function leaves(out: LocatedText[], keys: JsonKeys, value: unknown, role: string | undefined, depth = 0): void {
  if (depth > maxDepth) return;
  if (typeof value === "string") push(out, keys, value, role);
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) leaves(out, [...keys, i], v, role, depth + 1);
  } else if (isObject(value)) for (const [k, v] of Object.entries(value)) leaves(out, [...keys, k], v, role, depth + 1);
}

/** Content given as a string or as parts (OpenAI content parts, Anthropic blocks, Responses items). */
function content(out: LocatedText[], keys: JsonKeys, value: unknown, role: string | undefined): void {
  if (typeof value === "string") {
    push(out, keys, value, role);
    return;
  }
  if (!Array.isArray(value)) return;
  value.forEach((part, i) => {
    if (typeof part === "string") {
      push(out, [...keys, i], part, role);
      return;
    }
    if (!isObject(part)) return;
    const at = [...keys, i];
    if (typeof part.text === "string") push(out, [...at, "text"], part.text, role);
    // Anthropic tool_result blocks and Responses function_call_output items carry tool output.
    if (part.type === "tool_result") content(out, [...at, "content"], part.content, "tool");
    if (typeof part.output === "string") push(out, [...at, "output"], part.output, "tool");
    if (part.type === "tool_use" && part.input !== undefined) leaves(out, [...at, "input"], part.input, "assistant");
    if (typeof part.arguments === "string") push(out, [...at, "arguments"], part.arguments, role);
    if (part.content !== undefined && part.type !== "tool_result")
      content(out, [...at, "content"], part.content, (part.role as string) ?? role);
  });
}

/**
 * Texts a model will read, from OpenAI chat (`messages`, every turn, tool calls
 * and results), completions (`prompt`), Responses (`input`, `instructions`),
 * Anthropic Messages (`system`, `messages` blocks) and embeddings (`input`).
 */
export function extractRequestTexts(body: unknown): LocatedText[] {
  const out: LocatedText[] = [];
  if (!isObject(body)) return out;
  if (Array.isArray(body.messages)) {
    body.messages.forEach((message, i) => {
      if (!isObject(message)) return;
      const role = typeof message.role === "string" ? message.role : undefined;
      content(out, ["messages", i, "content"], message.content, role);
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls.forEach((call, j) => {
          if (isObject(call) && isObject(call.function))
            push(out, ["messages", i, "tool_calls", j, "function", "arguments"], call.function.arguments, role);
        });
      }
    });
  }
  content(out, ["system"], body.system, "system");
  content(out, ["instructions"], body.instructions, "system");
  content(out, ["prompt"], body.prompt, "user");
  content(out, ["input"], body.input, "user");
  return out;
}

/** Texts a model wrote in a JSON response (chat, completions, Responses, Anthropic). */
export function extractResponseTexts(body: unknown): LocatedText[] {
  const out: LocatedText[] = [];
  if (!isObject(body)) return out;
  if (Array.isArray(body.choices)) {
    body.choices.forEach((choice, i) => {
      if (!isObject(choice)) return;
      push(out, ["choices", i, "text"], choice.text, "assistant");
      if (!isObject(choice.message)) return;
      const message = choice.message;
      content(out, ["choices", i, "message", "content"], message.content, "assistant");
      push(out, ["choices", i, "message", "refusal"], message.refusal, "assistant");
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls.forEach((call, j) => {
          if (isObject(call) && isObject(call.function))
            push(
              out,
              ["choices", i, "message", "tool_calls", j, "function", "arguments"],
              call.function.arguments,
              "assistant",
            );
        });
      }
    });
  }
  content(out, ["content"], body.content, "assistant");
  content(out, ["output"], body.output, "assistant");
  return out;
}

/** Returns a copy of `body` with each text replaced at its keys. */
export function replaceTexts(body: unknown, replacements: ReadonlyMap<JsonKeys, string>): unknown {
  const copy = structuredClone(body) as Json;
  for (const [keys, text] of replacements) {
    let node: Json = copy;
    for (let i = 0; i < keys.length - 1; i++) node = (node as Record<string | number, Json>)[keys[i] as string] as Json;
    (node as Record<string | number, Json>)[keys[keys.length - 1] as string] = text;
  }
  return copy;
}

/** Parses a JSON body; expected failures are values. */
export function parseJsonBody(bytes: Uint8Array): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(new TextDecoder("utf-8", { fatal: false }).decode(bytes)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
