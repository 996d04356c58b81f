import { defineServiceModule } from "@llm-callouts/ext-proc";
import { type BodyRouterConfig, configSchema } from "./config.js";
import { createBodyRouterService } from "./service.js";

/** The body-based router as the CLI runs it (`serve body-router`). */
export const serviceModule = defineServiceModule<BodyRouterConfig>({
  name: "body-router",
  description:
    "Body-based model routing: reads `model` from OpenAI/Anthropic bodies or Gemini/Vertex paths, sets the model, target and base-model headers, applies aliases and weighted splits",
  configSchema,
  create: (config, runtime) => createBodyRouterService(config, runtime),
});

export type { BaseModelEntry, BaseModelIndex } from "./base-model-map.js";
export { buildBaseModelIndex, parseBaseModelFile } from "./base-model-map.js";
export type { BaseModelFileSourceOptions, BaseModelSource } from "./base-model-source.js";
export { createBaseModelFileSource, createStaticBaseModelSource } from "./base-model-source.js";
export type { BodyRouterConfig } from "./config.js";
export { configSchema, defaults } from "./config.js";
export type { DecodeError, DecodeResult } from "./decode-body.js";
export { decodeBody } from "./decode-body.js";
export type { ClientError, RouterErrorCode } from "./error-body.js";
export { clientError } from "./error-body.js";
export type { BodyFormat, ExtractedModel, Extraction, ExtractionError } from "./extract-model.js";
export { encodeModelToken, extractModel } from "./extract-model.js";
export { modelNameProblem } from "./model-name.js";
export type { ModelRoute, ModelRouter, ModelRouterOptions, ModelTarget, RouteChoice } from "./model-router.js";
export { createModelRouter, stickyFraction } from "./model-router.js";
export type { JsonType, ModelField, ScanError, ScanResult } from "./model-scanner.js";
export { decodeString, scanModel } from "./model-scanner.js";
export type { MultipartError, MultipartField, MultipartResult } from "./multipart-model.js";
export { isMultipart, multipartBoundary, scanMultipartModel } from "./multipart-model.js";
export type { HeaderChanges, PassReason, RequestRouter, RouteOutcome } from "./request-router.js";
export { createRequestRouter } from "./request-router.js";
export { rewriteModel, spliceBytes, type TokenSpan } from "./rewrite-model.js";
export type { BodyRouterServiceOptions } from "./service.js";
export { createBodyRouterService } from "./service.js";
