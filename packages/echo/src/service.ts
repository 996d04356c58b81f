import { defineServiceModule } from "@llm-callouts/ext-proc";
import { type EchoConfig, echoConfigSchema } from "./config.js";
import { createEchoProcessor } from "./processor.js";

/** The echo callout: passes everything through; configurable test behaviours. */
export const serviceModule = defineServiceModule<EchoConfig>({
  name: "echo",
  description: "Pass-through callout for SDK conformance: add headers, replace bodies, answer from any phase.",
  configSchema: echoConfigSchema,
  create(config) {
    return { name: "echo", processor: createEchoProcessor(config) };
  },
});
