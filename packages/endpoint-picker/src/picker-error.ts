import type { ImmediateResponse } from "@llm-callouts/ext-proc";
import { type OpenAiErrorType, openAiErrorResponse } from "@llm-callouts/llm-api";

/** Error codes of GIE `pkg/common/error/error.go` and their HTTP statuses. */
export const inferenceErrorStatus = {
  BadRequest: 400,
  ResourceExhausted: 429,
  ServiceUnavailable: 503,
  Internal: 500,
} as const;

export type InferenceErrorCode = keyof typeof inferenceErrorStatus;

/** A request the picker answers itself. */
export interface InferenceError {
  readonly code: InferenceErrorCode;
  readonly status: number;
  /** `inference error: <Code> - <msg>` (GIE wording). */
  readonly message: string;
}

export function inferenceError(code: InferenceErrorCode, msg: string): InferenceError {
  return { code, status: inferenceErrorStatus[code], message: `inference error: ${code} - ${msg}` };
}

const openAiType: Record<InferenceErrorCode, OpenAiErrorType> = {
  BadRequest: "invalid_request_error",
  ResourceExhausted: "rate_limit_error",
  ServiceUnavailable: "server_error",
  Internal: "server_error",
};

/** The picker's local reply: OpenAI's error envelope carrying GIE's message and code. */
export function errorReply(err: InferenceError): ImmediateResponse {
  return openAiErrorResponse(err.status, err.code, err.message, {
    type: openAiType[err.code],
    details: `endpoint_picker_${err.code}`,
  });
}
