import { describe, expect, it } from "vitest";
import { openAiErrorBody, openAiErrorResponse } from "./client-error.js";

describe("openAiErrorBody()", () => {
  it("serialises the OpenAI error envelope", () => {
    expect(JSON.parse(openAiErrorBody('bad "json"', "invalid_request_error", "invalid_json"))).toEqual({
      error: { message: 'bad "json"', type: "invalid_request_error", code: "invalid_json" },
    });
  });
});

describe("openAiErrorResponse()", () => {
  it.each([
    [400, "invalid_request_error"],
    [413, "invalid_request_error"],
    [429, "rate_limit_error"],
    [503, "server_error"],
  ])("maps status %i to type %s with a JSON content type", (status, type) => {
    const reply = openAiErrorResponse(status, "code_x", "message");
    expect(reply.status).toBe(status);
    expect(reply.headers).toEqual({ "content-type": "application/json" });
    expect(JSON.parse(String(reply.body))).toEqual({ error: { message: "message", type, code: "code_x" } });
    expect(reply.details).toBe("code_x");
  });
});
