/**
 * Which LLM API a request path addresses, and the model when the path carries it
 * (Gemini / Vertex AI: `.../models/{model}:generateContent`). Pure string functions; the one
 * place every service learns an API, so a new one (a path, a kind) is added here once.
 */

/** Bounded API label, also used as a metric label. */
export type ApiKind =
  | "chat_completions"
  | "completions"
  | "embeddings"
  | "responses"
  | "conversations"
  | "messages"
  | "audio"
  | "images"
  | "path_addressed"
  | "other";

/** A model named in the path: percent-decoded value and the raw segment's `[start, end)` in the path. */
export interface PathModel {
  readonly model: string;
  readonly start: number;
  readonly end: number;
}

export interface ApiMatch {
  readonly api: ApiKind;
  /** Present for path-addressed APIs. */
  readonly pathModel?: PathModel;
}

// Suffixes, longest first, so `/chat/completions` wins over `/completions`. Prefixes vary
// (`/v1`, `/openai/v1`, Azure `/openai/deployments/{d}`), so only the suffix is matched.
const BODY_APIS: readonly (readonly [suffix: string, api: ApiKind])[] = [
  ["/chat/completions", "chat_completions"],
  ["/completions", "completions"],
  ["/embeddings", "embeddings"],
  ["/responses", "responses"],
  ["/conversations", "conversations"],
  ["/messages", "messages"],
  ["/audio/transcriptions", "audio"],
  ["/audio/translations", "audio"],
  ["/audio/speech", "audio"],
  ["/images/generations", "images"],
  ["/images/edits", "images"],
  ["/images/variations", "images"],
];

/**
 * Gemini API (`/v1beta/models/gemini-2.0-flash:generateContent`), Vertex AI
 * (`/v1/projects/p/locations/l/publishers/google/models/gemini-1.5-pro:streamGenerateContent`)
 * and Vertex partner models (`.../publishers/anthropic/models/claude-x@2024:streamRawPredict`).
 */
const PATH_MODEL =
  /\/models\/([^/:?#]+):(?:generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents|predict|rawPredict|streamRawPredict)$/;

/** Classifies a request `:path` (query and fragment ignored). */
export function detectApi(path: string): ApiMatch {
  const cut = path.search(/[?#]/);
  let clean = cut === -1 ? path : path.slice(0, cut);
  const match = PATH_MODEL.exec(clean);
  if (match?.[1] !== undefined) {
    const start = match.index + "/models/".length;
    const raw = match[1];
    return { api: "path_addressed", pathModel: { model: percentDecode(raw), start, end: start + raw.length } };
  }
  if (clean.length > 1 && clean.endsWith("/")) clean = clean.slice(0, -1);
  for (const [suffix, api] of BODY_APIS) {
    if (clean.endsWith(suffix)) return { api };
  }
  return { api: "other" };
}

/** Replaces the model segment of a path-addressed `:path`, keeping the method suffix and query. */
export function rewritePathModel(path: string, pathModel: PathModel, model: string): string {
  return path.slice(0, pathModel.start) + encodeURIComponent(model) + path.slice(pathModel.end);
}

function percentDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed escapes: keep the bytes as sent
  }
}
