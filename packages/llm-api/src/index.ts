/**
 * What the callouts know about LLM APIs, in one place: API kinds by path, request shapes, token
 * usage, an incremental SSE framer and OpenAI-style client-error replies. No dependencies: the
 * SDK and every service build on it.
 */
export { type ApiKind, type ApiMatch, detectApi, type PathModel, rewritePathModel } from "./api-kind.js";
export {
  type ErrorReply,
  type OpenAiErrorType,
  openAiErrorBody,
  openAiErrorResponse,
  openAiErrorType,
} from "./client-error.js";
export { type InferenceRequest, parseInferenceRequest, type RequestParse } from "./request.js";
export { createSseFramer, type SseFrame, type SseFramer } from "./sse.js";
export {
  createSseUsageReader,
  type SseUsageReader,
  type TokenUsage,
  usageFromBody,
  usageFromJson,
} from "./usage.js";
