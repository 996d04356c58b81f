import { describe, expect, it } from "vitest";
import { clientError } from "./error-body.js";

describe("clientError()", () => {
  it("defaults to 400", () => {
    expect(clientError("missing_model", "no model")).toEqual({
      status: 400,
      code: "missing_model",
      message: "no model",
    });
  });
});
