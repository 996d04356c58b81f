import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCircuitBreaker } from "@llm-callouts/remote";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sanitizationResultSchema } from "../policy/model-armor-result.js";
import { findingsOf } from "./backends.js";
import { BackendError, createModelArmorClient } from "./model-armor.js";
import { type ModelArmorContractServer, startModelArmorContractServer } from "./model-armor-contract.testdata.js";

let armor: ModelArmorContractServer;
let keyFile: string;
const dir = mkdtempSync(join(tmpdir(), "model-armor-"));
beforeAll(async () => {
  armor = await startModelArmorContractServer();
  keyFile = armor.keyFile(dir);
});
afterAll(async () => {
  await armor.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  armor.fault = "none";
  armor.faultCount = Number.POSITIVE_INFINITY;
  armor.delayMs = 0;
});

const client = (extra: Partial<Parameters<typeof createModelArmorClient>[0]> = {}) =>
  createModelArmorClient({
    project: armor.project,
    location: armor.location,
    endpoint: armor.url,
    keyFile,
    timeoutMs: 1_000,
    retries: 1,
    ...extra,
  });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => "answered",
    (error: unknown) => (error instanceof BackendError ? error.status : `unexpected: ${String(error)}`),
  );

describe("createModelArmorClient() over real HTTP", () => {
  it("sanitizes a prompt through the template's regional path with a token from the STS exchange", async () => {
    const before = armor.sanitized.length;
    const prompt = "My SSN is 123-45-6789 — zx-attack now, please";
    const result = await client().sanitizeUserPrompt("prompt-template", prompt);
    expect(armor.sanitized.slice(before)).toEqual([
      { method: "sanitizeUserPrompt", template: "prompt-template", text: prompt },
    ]);
    expect(armor.calls.at(-1)?.path).toBe(
      `/v1/projects/${armor.project}/locations/us-central1/templates/prompt-template:sanitizeUserPrompt`,
    );
    expect(sanitizationResultSchema(true).safeParse(result).success).toBe(true);
    expect(result).toMatchObject({ filterMatchState: "MATCH_FOUND", invocationResult: "SUCCESS" });
    // Code point ranges become UTF-16 offsets in the text that was sent.
    const findings = findingsOf(result, prompt, 2);
    expect(findings).toEqual([
      {
        filter: "pi_and_jailbreak",
        type: "PI_AND_JAILBREAK",
        confidence: "HIGH",
        textIndex: 2,
        start: 0,
        end: prompt.length,
      },
      { filter: "sdp", type: "US_SOCIAL_SECURITY_NUMBER", confidence: "HIGH", textIndex: 2, start: 10, end: 21 },
    ]);
  });

  it("sends a model response to sanitizeModelResponse and reads SDP ranges past multi-byte text", async () => {
    const answer = "Größe 🚀 card 4111 1111 1111 1111 at https://cdn.malware.test/x";
    const result = await client().sanitizeModelResponse("response-template", answer);
    const findings = findingsOf(result, answer, 0);
    const card = findings.find((f) => f.type === "CREDIT_CARD_NUMBER");
    expect(answer.slice(card?.start, card?.end)).toBe("4111 1111 1111 1111");
    const uri = findings.find((f) => f.type === "MALICIOUS_URI");
    expect(answer.slice(uri?.start, uri?.end)).toBe("https://cdn.malware.test/x");
  });

  it.each([
    ["a template it does not have", undefined, "nope", "NOT_FOUND"],
    ["another project", "other-project", "prompt-template", "PERMISSION_DENIED"],
  ])("reports %s by Google's status", async (_name, project, template, status) => {
    const c = client(project ? { project } : {});
    expect(await failure(c.sanitizeUserPrompt(template, "hello there friend"))).toBe(status);
  });

  it("answers 401 UNAUTHENTICATED when its token is revoked, without retrying", async () => {
    const c = client();
    await c.sanitizeUserPrompt("prompt-template", "hello there friend");
    armor.revokeTokens();
    const calls = armor.calls.length;
    expect(await failure(c.sanitizeUserPrompt("prompt-template", "hello there friend"))).toBe("UNAUTHENTICATED");
    expect(armor.calls.length).toBe(calls);
  });

  it.each([
    ["429 with a short retry-after", "quota"],
    ["503", "unavailable"],
    ["500", "internal"],
    ["a closed socket", "reset"],
  ] as const)("retries once after %s and answers", async (_name, fault) => {
    armor.fault = fault;
    armor.faultCount = 1;
    armor.retryAfterSeconds = 0;
    const result = await client().sanitizeUserPrompt("prompt-template", "hello there friend");
    expect(result.filterMatchState).toBe("NO_MATCH_FOUND");
  });

  it.each([
    ["429 whose retry-after does not fit the deadline", "quota", "RESOURCE_EXHAUSTED"],
    ["503 twice", "unavailable", "UNAVAILABLE"],
    ["a body that is not JSON", "malformed", "MALFORMED_ANSWER"],
    ["a closed socket twice", "reset", "CONNECTION_FAILED"],
  ] as const)("gives up on %s with a status, inside the deadline", async (_name, fault, status) => {
    armor.fault = fault;
    armor.retryAfterSeconds = 5;
    const started = performance.now();
    expect(await failure(client({ timeoutMs: 300 }).sanitizeUserPrompt("prompt-template", "hello there friend"))).toBe(
      status,
    );
    expect(performance.now() - started).toBeLessThan(400);
  });

  it("stops at its deadline when Model Armor hangs or is slow", async () => {
    for (const setup of [() => (armor.fault = "hang"), () => (armor.delayMs = 500)]) {
      armor.fault = "none";
      armor.delayMs = 0;
      setup();
      const started = performance.now();
      expect(
        await failure(client({ timeoutMs: 150 }).sanitizeUserPrompt("prompt-template", "hello there friend")),
      ).toBe("DEADLINE_EXCEEDED");
      expect(performance.now() - started).toBeLessThan(300);
    }
  });

  it("opens its circuit after repeated failures and then refuses at once without calling", async () => {
    const c = client({ retries: 0, breaker: createCircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000 }) });
    armor.fault = "unavailable";
    await failure(c.sanitizeUserPrompt("prompt-template", "hello there friend"));
    await failure(c.sanitizeUserPrompt("prompt-template", "hello there friend"));
    armor.fault = "none";
    const calls = armor.calls.length;
    expect(await failure(c.sanitizeUserPrompt("prompt-template", "hello there friend"))).toBe("CIRCUIT_OPEN");
    expect(armor.calls.length).toBe(calls);
  });
});
