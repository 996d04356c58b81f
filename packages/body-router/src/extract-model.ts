import { scanModel } from "./model-scanner.js";
import { isMultipart, multipartBoundary, scanMultipartModel } from "./multipart-model.js";

/**
 * Finds the model in a (decoded) request body by its content type: `multipart/form-data`
 * fields (audio, image edits), JSON for everything else (clients such as `curl -d` send
 * JSON with other content types). Client errors come back as values with a message that
 * never quotes the body.
 */

export type BodyFormat = "json" | "multipart";

/** The model and the raw bytes `[start, end)` a rewrite replaces. */
export interface ExtractedModel {
  readonly format: BodyFormat;
  readonly model: string;
  readonly start: number;
  readonly end: number;
  readonly duplicate: boolean;
}

export type ExtractionError = {
  readonly code: "invalid_json" | "invalid_body" | "invalid_model";
  readonly message: string;
};

export type Extraction =
  | { readonly value: ExtractedModel }
  | { readonly error: ExtractionError }
  /** No model; `inPrefix` when only a prefix of the body was scanned. */
  | { readonly missing: BodyFormat; readonly inPrefix?: boolean };

const encoder = new TextEncoder();

/**
 * Extracts the model of `body` sent with `contentType`. With `truncated` (JSON only) the
 * body is a prefix and a model complete before the cut is enough.
 */
export function extractModel(
  body: Uint8Array,
  contentType: string | undefined,
  options: { readonly truncated?: boolean; readonly strict?: boolean } = {},
): Extraction {
  if (isMultipart(contentType)) {
    const result = scanMultipartModel(body, multipartBoundary(contentType));
    if ("value" in result) return { value: { format: "multipart", ...result.value } };
    const { error } = result;
    if (error.kind === "missing") return { missing: "multipart" };
    const detail = error.kind === "no-boundary" ? "content-type has no boundary" : error.message;
    return { error: { code: "invalid_body", message: `malformed multipart/form-data body: ${detail}` } };
  }
  const result = scanModel(body, options);
  if ("value" in result) return { value: { format: "json", ...result.value } };
  const { error } = result;
  switch (error.kind) {
    case "invalid-json":
      return {
        error: {
          code: "invalid_json",
          message: `request body is not valid JSON: ${error.message} at byte ${error.offset}`,
        },
      };
    case "not-object":
      return { error: { code: "invalid_body", message: `request body must be a JSON object, got ${error.type}` } };
    case "not-string":
      return { error: { code: "invalid_model", message: `'model' must be a string, got ${error.type}` } };
    case "missing":
      return { missing: "json" };
    case "truncated":
      return { missing: "json", inPrefix: true };
  }
}

/** The bytes that replace the model token: a JSON string, or the raw multipart field value. */
export function encodeModelToken(format: BodyFormat, model: string): Uint8Array {
  return encoder.encode(format === "json" ? JSON.stringify(model) : model);
}
