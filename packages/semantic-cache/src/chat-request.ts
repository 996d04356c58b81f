/** An OpenAI chat-completions request reduced to what the cache decides on. */
export interface ChatRequest {
  readonly model: string;
  /** Messages with text content flattened; non-text parts kept as canonical JSON. */
  readonly messages: readonly ChatMessage[];
  readonly stream: boolean;
  /** `stream_options.include_usage`: a streamed answer ends with a usage chunk. */
  readonly includeUsage: boolean;
  /** `n`, default 1. */
  readonly choices: number;
  /** `temperature`, or undefined when absent (the provider default, usually 1). */
  readonly temperature: number | undefined;
  /** Every other generation parameter, canonical (sorted keys): the parameter class. */
  readonly parameters: string;
  /** Text of the last message when it is a user message with text only; else undefined. */
  readonly lastUserText: string | undefined;
  /** Number of user messages. */
  readonly userTurns: number;
}

export interface ChatMessage {
  readonly role: string;
  /** Canonical JSON of everything but the role (content, name, tool calls ...). */
  readonly canonical: string;
}

export type ParseResult = { readonly value: ChatRequest } | { readonly error: string };

/** Fields that never change the answer's content (transport and accounting only). */
const IGNORED = new Set(["messages", "model", "stream", "stream_options", "user", "metadata", "store", "n"]);

/**
 * Parses and normalises a chat-completions body. Expected failures (not JSON, no
 * messages, no model) are values: the cache then simply stays out of the way.
 */
export function parseChatRequest(body: Uint8Array): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return { error: "body is not UTF-8 JSON" };
  }
  if (!isRecord(json)) return { error: "body is not a JSON object" };
  if (typeof json.model !== "string" || json.model === "") return { error: "no model" };
  if (!Array.isArray(json.messages) || json.messages.length === 0) return { error: "no messages" };
  const messages: ChatMessage[] = [];
  for (const message of json.messages) {
    if (!isRecord(message) || typeof message.role !== "string") return { error: "malformed message" };
    const { role, ...rest } = message;
    if (typeof rest.content === "string") rest.content = normalizeText(rest.content);
    else if (Array.isArray(rest.content)) rest.content = flattenParts(rest.content);
    messages.push({ role, canonical: canonicalJson(rest) });
  }
  const parameters: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) if (!IGNORED.has(key) && value !== null) parameters[key] = value;
  const n = json.n ?? 1;
  const temperature = json.temperature;
  if (typeof n !== "number" || (temperature !== undefined && temperature !== null && typeof temperature !== "number"))
    return { error: "malformed n or temperature" };
  const last = json.messages[json.messages.length - 1] as Record<string, unknown>;
  const lastContent = last.role === "user" ? textOnly(last.content) : undefined;
  return {
    value: {
      model: json.model,
      messages,
      stream: json.stream === true,
      includeUsage: isRecord(json.stream_options) && json.stream_options.include_usage === true,
      choices: n,
      temperature: typeof temperature === "number" ? temperature : undefined,
      parameters: canonicalJson(parameters),
      lastUserText: lastContent === undefined ? undefined : normalizeText(lastContent),
      userTurns: messages.filter((m) => m.role === "user").length,
    },
  };
}

/** Trims and collapses runs of whitespace (the only text change that never alters meaning). */
export function normalizeText(text: string): string {
  return text.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** `[{type:"text",text}]` with text only becomes one string; other parts stay as they are. */
function flattenParts(parts: unknown[]): unknown {
  const text = textOnly(parts);
  return text === undefined ? parts : normalizeText(text);
}

function textOnly(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (!isRecord(part) || part.type !== "text" || typeof part.text !== "string") return undefined;
    texts.push(part.text);
  }
  return texts.join("\n");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
