/**
 * The body-based router's public surface: the service as the CLI runs it, its config, and the
 * base-model source it can be given. Everything else is internal (`service.ts` composes it).
 */
export type { BaseModelEntry, BaseModelIndex } from "./base-model-map.js";
export type { BaseModelFileSourceOptions, BaseModelSource } from "./base-model-source.js";
export { createBaseModelFileSource, createStaticBaseModelSource } from "./base-model-source.js";
export { type BodyRouterConfig, configSchema, defaults } from "./config.js";
export type { RouterErrorCode } from "./error-body.js";
export { type BodyRouterServiceOptions, createBodyRouterService, serviceModule } from "./service.js";
