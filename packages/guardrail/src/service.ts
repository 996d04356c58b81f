import { isAbsolute, resolve } from "node:path";
import { defineServiceModule, type Service, type ServiceRuntime } from "@llm-callouts/ext-proc";
import { createCircuitBreaker } from "@llm-callouts/remote";
import { createModelArmorClient } from "./backends/model-armor.js";
import { type GuardrailConfig, guardrailConfigSchema } from "./config.js";
import { createServedAttackModel } from "./detect/attack/served-model.js";
import { createTransformersAttackModel } from "./detect/attack/transformers-model.js";
import { createGuardrail } from "./guardrail.js";
import { createGuardrailMetrics } from "./metrics.js";
import type { DetectorOverrides } from "./policy/detectors.js";
import { authorizeRequest, createGuardrailProcessor } from "./processor.js";

/** Builds the guardrail service; `overrides` swaps detectors (tests, custom models). */
export function createGuardrailService(
  config: GuardrailConfig,
  runtime: ServiceRuntime,
  overrides: DetectorOverrides = {},
): Service {
  const armor = config.backends.modelArmor;
  const modelArmor =
    overrides.modelArmor ??
    (armor
      ? createModelArmorClient({
          project: armor.project,
          location: armor.location,
          endpoint: armor.endpoint,
          // A relative credential file is relative to the config file, like the model folder.
          ...(armor.keyFile
            ? { keyFile: isAbsolute(armor.keyFile) ? armor.keyFile : resolve(runtime.configDir, armor.keyFile) }
            : {}),
          timeoutMs: Math.min(armor.timeoutMs, config.backends.budgetMs),
          retries: armor.retries,
          breaker: createCircuitBreaker({
            failureThreshold: armor.breakerFailureThreshold,
            cooldownMs: armor.breakerCooldownMs,
          }),
        })
      : undefined);
  const nemo = config.backends.nemoGuardrails;
  const nemoGuardrails =
    overrides.nemoGuardrails ??
    (nemo
      ? {
          url: nemo.url,
          apiVersion: nemo.apiVersion,
          model: nemo.model,
          timeoutMs: Math.min(nemo.timeoutMs, config.backends.budgetMs),
          breaker: createCircuitBreaker({
            failureThreshold: nemo.breakerFailureThreshold,
            cooldownMs: nemo.breakerCooldownMs,
          }),
        }
      : undefined);
  const deps = {
    config,
    guardrail: createGuardrail(config, {
      ...overrides,
      ...(modelArmor ? { modelArmor } : {}),
      ...(nemoGuardrails ? { nemoGuardrails } : {}),
    }),
    metrics: createGuardrailMetrics(runtime.metrics),
  };
  return {
    name: "guardrail",
    processor: (context) => createGuardrailProcessor(deps, context),
    authorize: (request, context) => authorizeRequest(deps, request, context.log, context.requestId),
    failure: { mode: "closed", status: 503 },
  };
}

/** The guardrail as the CLI runs it (`serve guardrail`). */
export const serviceModule = defineServiceModule<GuardrailConfig>({
  name: "guardrail",
  description:
    "Prompt-injection, jailbreak, PII, secret, content-policy and URL guardrail for requests and (streamed) responses, with redaction, templates and a floor",
  configSchema: guardrailConfigSchema,
  create: async (config, runtime) => {
    const served = config.servedModel;
    if (served) {
      const apiKey = served.apiKeyEnv ? process.env[served.apiKeyEnv] : undefined;
      if (served.apiKeyEnv && !apiKey) throw new Error(`servedModel.apiKeyEnv: ${served.apiKeyEnv} is not set`);
      const model = createServedAttackModel({
        ...served,
        ...(served.model ? { model: served.model } : {}),
        ...(apiKey ? { apiKey } : {}),
        breaker: createCircuitBreaker({
          failureThreshold: served.breakerFailureThreshold,
          cooldownMs: served.breakerCooldownMs,
        }),
      });
      runtime.log.info({ model: model.id }, "guardrail served prompt-attack model configured");
      return createGuardrailService(config, runtime, { model });
    }
    const t = config.transformersModel;
    if (!t) return createGuardrailService(config, runtime);
    const modelDir = isAbsolute(t.modelDir) ? t.modelDir : resolve(runtime.configDir, t.modelDir);
    const model = await createTransformersAttackModel({ ...t, modelDir });
    runtime.log.info({ model: model.id }, "guardrail transformers prompt-attack model loaded");
    return createGuardrailService(config, runtime, { model });
  },
});
