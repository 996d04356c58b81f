/**
 * Client-error replies in OpenAI's error envelope, which every OpenAI-compatible client (the
 * `openai` SDKs, LiteLLM, LangChain) parses: `{"error":{"message","type","code"}}`.
 */

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

/** The type a status maps to (`server_error` for anything not listed). */
export function openAiErrorType(status: number): OpenAiErrorType {
  return typeByStatus[status] ?? "server_error";
}

/** The JSON body `{"error":{"message","type","code"}}` that OpenAI clients parse. */
export function openAiErrorBody(message: string, type: OpenAiErrorType, code: string): string {
  return JSON.stringify({ error: { message, type, code } });
}

/** A local reply as plain data: the SDK's `ImmediateResponse` has this shape. */
export interface ErrorReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Envoy's %RESPONSE_CODE_DETAILS%. */
  readonly details: string;
}

/**
 * A local reply with an OpenAI-style error body; the type follows the status unless given, and
 * `details` defaults to the code.
 */
export function openAiErrorResponse(
  status: number,
  code: string,
  message: string,
  options: { type?: OpenAiErrorType; headers?: Readonly<Record<string, string>>; details?: string } = {},
): ErrorReply {
  return {
    status,
    headers: { "content-type": "application/json", ...options.headers },
    body: openAiErrorBody(message, options.type ?? openAiErrorType(status), code),
    details: options.details ?? code,
  };
}
