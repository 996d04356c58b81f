import { describe, expect, it } from "vitest";
import { guardrailConfigSchema } from "./config.js";

describe("guardrailConfigSchema", () => {
  it("gives working defaults for an empty section", () => {
    const config = guardrailConfigSchema.parse({});
    expect(config.defaultTemplate).toBe("default");
    expect(config.templates.default?.piAndJailbreak).toEqual({
      enabled: true,
      minConfidence: "MEDIUM",
      action: "block",
      scanConversation: true,
    });
    expect(config.templates.default?.sensitiveData.action).toBe("redact");
    expect(config.templates.default?.failMode).toBe("closed");
    expect(config.stream.holdBackChars).toBe(256);
  });

  it("fills defaults inside a partially given template", () => {
    const config = guardrailConfigSchema.parse({ templates: { default: { sensitiveData: { redaction: "mask" } } } });
    expect(config.templates.default?.sensitiveData).toMatchObject({
      redaction: "mask",
      action: "redact",
      minConfidence: "MEDIUM",
    });
    expect(config.templates.default?.requestBlock).toEqual({
      status: 400,
      code: "content_policy_violation",
      message: "The request was blocked by the content policy.",
    });
  });

  it.each([
    { name: "an unknown key", input: { templatess: {} }, path: "" },
    { name: "an unknown default template", input: { defaultTemplate: "strict" }, path: "defaultTemplate" },
    {
      name: "a selector naming an unknown template",
      input: { selectors: [{ tenant: "a", template: "nope" }] },
      path: "selectors.0.template",
    },
    {
      name: "a block status below 400",
      input: { templates: { default: { requestBlock: { status: 200 } } } },
      path: "templates.default.requestBlock.status",
    },
    {
      name: "a pattern RE2 cannot run in linear time",
      input: { templates: { default: { customPatterns: { patterns: [{ name: "x", pattern: "(a)\\1" }] } } } },
      path: "templates.default.customPatterns.patterns",
    },
  ])("rejects $name", ({ input, path }) => {
    const result = guardrailConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("refuses more than 10,000 terms in one template, and terms over 200 characters", () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
    const template = (lists: { category: string; terms: string[] }[]) => ({
      templates: { default: { responsibleAi: { termLists: lists } } },
    });
    expect(guardrailConfigSchema.safeParse(template([{ category: "a", terms: terms(10_000) }])).success).toBe(true);
    const over = guardrailConfigSchema.safeParse(
      template([
        { category: "a", terms: terms(6000) },
        { category: "b", terms: terms(4001) },
      ]),
    );
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]?.message).toMatch(/10001 terms; at most 10000 per template/);
    expect(guardrailConfigSchema.safeParse(template([{ category: "a", terms: ["x".repeat(201)] }])).success).toBe(
      false,
    );
  });
});
