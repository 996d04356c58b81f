/**
 * OpenAI-shaped client errors (`{"error":{"message","type","code"}}`), the shape SDKs
 * for OpenAI-compatible servers parse. Only whitelisted statuses are produced.
 */

/** Stable, matchable error codes of the body router. */
export type RouterErrorCode =
  | "invalid_json"
  | "invalid_body"
  | "invalid_model"
  | "missing_model"
  | "duplicate_model"
  | "request_too_large"
  | "unsupported_content_encoding"
  | "corrupt_body";

/** A local reply as plain data (mapped to an immediate response by the processor). */
export interface ClientError {
  /** 400 or 413. */
  readonly status: 400 | 413;
  readonly code: RouterErrorCode;
  readonly message: string;
}

/** Builds a ClientError; `status` defaults to 400. */
export function clientError(code: RouterErrorCode, message: string, status: 400 | 413 = 400): ClientError {
  return { status, code, message };
}
