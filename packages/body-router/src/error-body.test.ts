import { describe, expect, it } from "vitest";
import { clientError, openAiErrorBody } from "./error-body.js";

describe("openAiErrorBody()", () => {
  it("serialises the OpenAI error envelope", () => {
    expect(JSON.parse(openAiErrorBody('bad "json"', "invalid_json"))).toEqual({
      error: { message: 'bad "json"', type: "invalid_request_error", code: "invalid_json" },
    });
  });
});

describe("clientError()", () => {
  it("defaults to 400", () => {
    expect(clientError("missing_model", "no model")).toEqual({
      status: 400,
      code: "missing_model",
      message: "no model",
    });
  });
});
