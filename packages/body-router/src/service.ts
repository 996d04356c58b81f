import { resolve } from "node:path";
import { defineServiceModule, type Service, type ServiceRuntime } from "@llm-callouts/ext-proc";
import { buildBaseModelIndex } from "./base-model-map.js";
import { type BaseModelSource, createBaseModelFileSource, createStaticBaseModelSource } from "./base-model-source.js";
import { type BodyRouterConfig, configSchema } from "./config.js";
import { createBodyRouterMetrics } from "./metrics.js";
import { createModelRouter } from "./model-router.js";
import { createBodyRouterProcessor } from "./processor.js";
import { createRequestRouter } from "./request-router.js";

export interface BodyRouterServiceOptions {
  /** Uniform in [0, 1) for weighted splits; injected for deterministic tests. */
  readonly random?: () => number;
}

/** Builds the body router: loads the base model mapping (failing on a bad one) and wires the processor. */
export async function createBodyRouterService(
  config: BodyRouterConfig,
  runtime: ServiceRuntime,
  options: BodyRouterServiceOptions = {},
): Promise<Service> {
  const metrics = createBodyRouterMetrics(runtime.metrics, config.maxModelLabels);
  const baseModels = await loadBaseModels(config, runtime, metrics.baseModelReload);
  runtime.signal.addEventListener("abort", () => baseModels?.close(), { once: true });
  const router = createRequestRouter({
    config,
    models: createModelRouter({ routes: config.routes, ...(options.random ? { random: options.random } : {}) }),
    baseModels,
    onExtraction: metrics.extraction,
  });
  return {
    name: "body-router",
    processor: createBodyRouterProcessor({ config, router, metrics }),
    close: () => baseModels?.close(),
    // The model is in the request body; responses are not needed.
    assumedModes: { requestBody: "BUFFERED", responseBody: "NONE", sendBodyWithoutWaitingForHeaderResponse: false },
  };
}

async function loadBaseModels(
  config: BodyRouterConfig,
  runtime: ServiceRuntime,
  onReload: (result: "ok" | "error") => void,
): Promise<BaseModelSource | undefined> {
  if (config.baseModelsFile !== undefined) {
    return createBaseModelFileSource({
      path: resolve(runtime.configDir, config.baseModelsFile),
      log: runtime.log,
      pollIntervalMs: config.baseModelsPollIntervalMs,
      onReload,
    });
  }
  if (config.baseModels !== undefined) {
    const index = buildBaseModelIndex(config.baseModels);
    if ("error" in index) throw new Error(`baseModels${index.error}`);
    return createStaticBaseModelSource(index.value);
  }
  return undefined;
}

/** The body-based router as the CLI runs it (`serve body-router`). */
export const serviceModule = defineServiceModule<BodyRouterConfig>({
  name: "body-router",
  description:
    "Body-based model routing: reads `model` from OpenAI/Anthropic bodies or Gemini/Vertex paths, sets the model, target and base-model headers, applies aliases and weighted splits",
  configSchema,
  create: (config, runtime) => createBodyRouterService(config, runtime),
});
