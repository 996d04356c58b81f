import { loadConfig } from "@llm-callouts/ext-proc";
import { describe, expect, it } from "vitest";
import { configSchema } from "./config.js";

const issues = (input: unknown) => {
  const result = configSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("configSchema", () => {
  it("gives working defaults for an empty section", () => {
    expect(configSchema.parse({})).toEqual({
      headers: {
        model: "x-gateway-model-name",
        baseModel: "x-gateway-base-model-name",
        target: "x-gateway-model-target",
      },
      stripHeaders: ["x-gateway-destination-endpoint", "x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite"],
      metadataNamespace: "com.llm-callouts.body-router",
      missingModel: "pass",
      duplicateModel: "reject",
      strictJson: false,
      bodyLimitBytes: 16 * 1024 * 1024,
      maxModelBytes: 1024,
      routes: [],
      baseModelsPollIntervalMs: 5000,
      maxModelLabels: 100,
    });
  });

  it("lower-cases header names; loaded as the CLI loads it, the result is frozen", () => {
    const config = configSchema.parse({ headers: { model: "X-Model" }, stickyHeader: "X-Session-Id" });
    expect([config.headers.model, config.stickyHeader]).toEqual(["x-model", "x-session-id"]);
    expect(Object.isFrozen(loadConfig(configSchema, {}, {}).service.headers)).toBe(true);
  });

  it("defaults a target weight to 1", () => {
    expect(configSchema.parse({ routes: [{ model: "a", targets: [{ model: "b" }] }] }).routes).toEqual([
      { model: "a", targets: [{ model: "b", weight: 1 }] },
    ]);
  });

  it.each([
    { name: "unknown key", input: { bodyLimit: 1 }, issue: ': Unrecognized key: "bodyLimit"' },
    {
      name: "bad header name",
      input: { headers: { model: "x model" } },
      issue: "headers.model: must be an HTTP header name",
    },
    { name: "negative limit", input: { bodyLimitBytes: -1 }, issue: "bodyLimitBytes: Too small" },
    {
      name: "zero weights",
      input: { routes: [{ model: "a", targets: [{ model: "b", weight: 0 }] }] },
      issue: "routes.0.targets: needs at least one target with a positive weight",
    },
    {
      name: "duplicate route",
      input: {
        routes: [
          { model: "a", targets: [{ model: "b" }] },
          { model: "a", targets: [{ model: "c" }] },
        ],
      },
      issue: 'routes.1.model: duplicate route for model "a"',
    },
    {
      name: "both mappings",
      input: { baseModels: [], baseModelsFile: "m.yaml" },
      issue: "baseModelsFile: set baseModels or baseModelsFile, not both",
    },
    {
      name: "same headers",
      input: { headers: { target: "x-gateway-model-name" } },
      issue: "headers: model, baseModel and target headers must differ",
    },
    {
      name: "control character in a target",
      input: { routes: [{ model: "a", targets: [{ model: "b\r\nx-evil: 1" }] }] },
      issue: "routes.0.targets.0.model: model name contains control characters",
    },
    { name: "bad missingModel", input: { missingModel: "drop" }, issue: "missingModel: Invalid option" },
  ])("reports $name with its path", ({ input, issue }) => {
    expect(issues(input).join("\n")).toContain(issue);
  });
});
