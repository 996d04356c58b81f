import { describe, expect, it } from "vitest";
import { guardrailConfigSchema } from "./config.js";
import { attackPrompts, everydayPrompts } from "./default-policy.testdata.js";
import { createGuardrail } from "./guardrail.js";
import { createPlaceholderRegistry } from "./policy/placeholders.js";

const guardrail = createGuardrail(guardrailConfigSchema.parse({}));
const policy = guardrail.resolve({ path: "/v1/chat/completions", model: undefined, tenant: undefined });
const inspect = (content: string) =>
  guardrail.inspectBody(
    "request",
    new TextEncoder().encode(JSON.stringify({ model: "m", messages: [{ role: "user", content }] })),
    policy,
    createPlaceholderRegistry(),
  );

describe("createGuardrail() with the default policy", () => {
  it("has 30+ everyday prompts and 10 attacks to check", () => {
    expect([everydayPrompts.length >= 30, attackPrompts.length]).toEqual([true, 10]);
  });

  it.each(everydayPrompts)("allows the everyday prompt %j unchanged", (prompt) => {
    const outcome = inspect(prompt);
    expect({ action: outcome.inspection.action, findings: outcome.inspection.findings, body: outcome.body }).toEqual({
      action: "allow",
      findings: [],
      body: undefined,
    });
  });

  it.each(attackPrompts)("blocks the attack %j as a prompt attack", (prompt) => {
    const outcome = inspect(prompt);
    expect(outcome.inspection.action).toBe("block");
    expect(outcome.respond?.status).toBe(400);
    expect(outcome.inspection.findings.some((f) => f.filter === "pi_and_jailbreak" && f.action === "block")).toBe(true);
  });
});
