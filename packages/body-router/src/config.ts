import { headerNameSchema } from "@llm-callouts/ext-proc";
import { z } from "zod";
import { baseModelEntrySchema } from "./base-model-map.js";
import { modelNameProblem } from "./model-name.js";

/**
 * The `service:` section of the body router's config. Strict (unknown keys are errors),
 * every default in `defaults`, units in names; parsed once and frozen.
 */

/** Every default in one place. */
export const defaults = {
  headers: {
    model: "x-gateway-model-name",
    baseModel: "x-gateway-base-model-name",
    target: "x-gateway-model-target",
  },
  /**
   * Client-sent copies are removed from every request: the endpoint picker's output (a
   * client must not pick its pod) and GIE's model rewrite input (a client must not swap the
   * model after routing and policy decisions were made on the body's model).
   */
  stripHeaders: ["x-gateway-destination-endpoint", "x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite"],
  metadataNamespace: "com.llm-callouts.body-router",
  missingModel: "pass",
  duplicateModel: "reject",
  strictJson: false,
  bodyLimitBytes: 16 * 1024 * 1024, // 16 MiB, encoded and decoded
  maxModelBytes: 1024,
  baseModelsPollIntervalMs: 5_000,
  maxModelLabels: 100,
} as const;

/** A model name that can be a header value. */
const modelName = z
  .string()
  .min(1)
  .superRefine((name, ctx) => {
    const problem = modelNameProblem(name, 16_384);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: `model name ${problem}` });
  });

const targetSchema = z.strictObject({
  model: modelName,
  weight: z.number().min(0).default(1),
});

const routeSchema = z
  .strictObject({
    /** Incoming model name. */
    model: modelName,
    targets: z.array(targetSchema).min(1),
  })
  .refine((route) => route.targets.some((t) => t.weight > 0), {
    message: "needs at least one target with a positive weight",
    path: ["targets"],
  });

export const configSchema = z
  .strictObject({
    headers: z
      .strictObject({
        model: headerNameSchema.default(defaults.headers.model),
        baseModel: headerNameSchema.default(defaults.headers.baseModel),
        target: headerNameSchema.default(defaults.headers.target),
      })
      .prefault({}),
    stripHeaders: z.array(headerNameSchema).default([...defaults.stripHeaders]),
    metadataNamespace: z.string().min(1).default(defaults.metadataNamespace),
    /** `pass`: no model header (like GIE); `reject`: 400. Also applies to empty and undecodable bodies. */
    missingModel: z.enum(["pass", "reject"]).default(defaults.missingModel),
    /** `reject`: 400 for two top-level `model` keys (parsers disagree on which wins); `last`: JSON.parse semantics. */
    duplicateModel: z.enum(["reject", "last"]).default(defaults.duplicateModel),
    /**
     * `false` (default): every structural rule of JSON is checked (brackets, quotes, commas,
     * escapes, numbers, literals, the `model` value byte by byte), but other strings are skipped
     * with indexOf, so raw control characters inside them are not rejected (the model server's
     * own parser still sees them). `true`: exactly JSON.parse's grammar, every byte checked.
     */
    strictJson: z.boolean().default(defaults.strictJson),
    bodyLimitBytes: z.number().int().positive().default(defaults.bodyLimitBytes),
    /** Longer model names are rejected (a header value must stay small). */
    maxModelBytes: z.number().int().positive().max(16_384).default(defaults.maxModelBytes),
    routes: z.array(routeSchema).default([]),
    /** Requests with the same value of this header get the same split target. */
    stickyHeader: headerNameSchema.optional(),
    baseModels: z.array(baseModelEntrySchema).optional(),
    /** YAML/JSON file of `{baseModel, adapters}` entries; relative to the config file's directory. */
    baseModelsFile: z.string().min(1).optional(),
    baseModelsPollIntervalMs: z.number().int().min(0).default(defaults.baseModelsPollIntervalMs),
    /** Distinct model/target label values in metrics before new ones count as `other`. */
    maxModelLabels: z.number().int().min(0).default(defaults.maxModelLabels),
  })
  .superRefine((config, ctx) => {
    if (config.baseModels && config.baseModelsFile) {
      ctx.addIssue({ code: "custom", message: "set baseModels or baseModelsFile, not both", path: ["baseModelsFile"] });
    }
    const seen = new Set<string>();
    for (const [k, route] of config.routes.entries()) {
      if (seen.has(route.model)) {
        ctx.addIssue({
          code: "custom",
          message: `duplicate route for model "${route.model}"`,
          path: ["routes", k, "model"],
        });
      }
      seen.add(route.model);
    }
    const owned = [config.headers.model, config.headers.baseModel, config.headers.target];
    if (new Set(owned).size !== owned.length) {
      ctx.addIssue({ code: "custom", message: "model, baseModel and target headers must differ", path: ["headers"] });
    }
  });

/** The parsed, frozen body router config. */
export type BodyRouterConfig = z.output<typeof configSchema>;
