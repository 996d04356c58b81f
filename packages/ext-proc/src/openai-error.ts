import type { ImmediateResponse } from "./processor.js";

/** OpenAI's error types, as clients (the `openai` SDKs) map them. */
export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error";

const typeByStatus: Record<number, OpenAiErrorType> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_error",
};

/** The JSON body `{"error":{"message","type","code"}}` that OpenAI clients parse. */
export function openAiErrorBody(message: string, type: OpenAiErrorType, code: string): string {
  return JSON.stringify({ error: { message, type, code } });
}

/**
 * A local reply with an OpenAI-style error body; `details` (Envoy's
 * %RESPONSE_CODE_DETAILS%) defaults to the code.
 */
export function openAiErrorResponse(
  status: number,
  code: string,
  message: string,
  options: { type?: OpenAiErrorType; headers?: Record<string, string>; details?: string } = {},
): ImmediateResponse {
  const type = options.type ?? typeByStatus[status] ?? "server_error";
  return {
    status,
    headers: { "content-type": "application/json", ...options.headers },
    body: openAiErrorBody(message, type, code),
    details: options.details ?? code,
  };
}
