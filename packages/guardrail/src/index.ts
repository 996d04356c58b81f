/**
 * The guardrail's public surface: the service as the CLI runs it, its config, and the seams for
 * custom detectors and models. Everything else is internal (`service.ts` composes it).
 */
export type { GuardrailConfig, PolicyFloor, PolicyTemplate } from "./config.js";
export { floorSchema, guardrailConfigSchema, templateSchema } from "./config.js";
export type { AsyncAttackModel, TransformersModelOptions } from "./detect/attack/transformers-model.js";
export { createTransformersAttackModel } from "./detect/attack/transformers-model.js";
export type { Confidence, Finding, TextDetector } from "./detect/finding.js";
export type { DetectorOverrides, FilterName } from "./policy/detectors.js";
export { createGuardrailService, serviceModule } from "./service.js";
