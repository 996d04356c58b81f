import { describe, expect, it } from "vitest";
import { floorSchema, templateSchema } from "../config.js";
import { applyFloor, selectTemplateName, stricterConfidence, strongerAction } from "./template.js";

describe("applyFloor()", () => {
  const weak = templateSchema.parse({
    piAndJailbreak: { enabled: false, minConfidence: "HIGH", action: "inspect" },
    sensitiveData: { action: "inspect", infoTypeActions: { PRIVATE_KEY: "inspect" } },
    failMode: "open",
    directions: { response: false },
  });
  const floor = floorSchema.parse({
    piAndJailbreak: { minConfidence: "MEDIUM", action: "block" },
    sensitiveData: { action: "redact", infoTypeActions: { PRIVATE_KEY: "block" } },
    failMode: "closed",
    directions: { response: true },
  });

  it("never lets a template be weaker than the floor", () => {
    const t = applyFloor(weak, floor);
    expect(t.piAndJailbreak).toMatchObject({ enabled: true, minConfidence: "MEDIUM", action: "block" });
    expect(t.sensitiveData.action).toBe("redact");
    expect(t.sensitiveData.infoTypeActions.PRIVATE_KEY).toBe("block");
    expect(t.failMode).toBe("closed");
    expect(t.directions.response).toBe(true);
  });

  it("keeps a template that is already stricter", () => {
    const strict = templateSchema.parse({
      piAndJailbreak: { minConfidence: "LOW" },
      sensitiveData: { action: "block" },
    });
    const t = applyFloor(strict, floor);
    expect(t.piAndJailbreak.minConfidence).toBe("LOW");
    expect(t.sensitiveData.action).toBe("block");
  });

  it("changes nothing with an empty floor", () => {
    expect(applyFloor(weak, floorSchema.parse({}))).toEqual(weak);
  });
});

describe("strongerAction() and stricterConfidence()", () => {
  it.each([
    ["inspect", "redact", "redact"],
    ["block", "redact", "block"],
    ["redact", undefined, "redact"],
  ] as const)("%s vs %s is %s", (a, b, expected) => {
    expect(strongerAction(a, b)).toBe(expected);
  });

  it("picks the lower threshold", () => {
    expect(stricterConfidence("HIGH", "LOW")).toBe("LOW");
    expect(stricterConfidence("LOW", "HIGH")).toBe("LOW");
  });
});

describe("selectTemplateName()", () => {
  const config = {
    defaultTemplate: "default",
    selectors: [
      { tenant: "acme", model: "gpt-4o", template: "acme-gpt" },
      { tenant: "acme", template: "acme" },
      { pathPrefix: "/v1/embeddings", template: "embeddings" },
    ],
  };
  it.each([
    { key: { path: "/v1/chat/completions", model: "gpt-4o", tenant: "acme" }, expected: "acme-gpt" },
    { key: { path: "/v1/chat/completions", model: "llama", tenant: "acme" }, expected: "acme" },
    { key: { path: "/v1/embeddings", model: undefined, tenant: undefined }, expected: "embeddings" },
    { key: { path: "/v1/chat/completions", model: "gpt-4o", tenant: "other" }, expected: "default" },
  ])("selects $expected", ({ key, expected }) => {
    expect(selectTemplateName(config, key)).toBe(expected);
  });
});
