import { describe, expect, it } from "vitest";
import { createHeaderMap } from "./headers.js";

describe("createHeaderMap()", () => {
  it("lower-cases names and keeps repeated values in order", () => {
    const headers = createHeaderMap([
      ["X-A", "1"],
      ["x-a", "2"],
      ["b", "3"],
    ]);
    expect(headers.get("x-a")).toBe("1");
    expect(headers.getAll("X-A")).toEqual(["1", "2"]);
    expect(headers.toRecord()).toEqual({ "x-a": "1, 2", b: "3" });
    expect(headers.size).toBe(3);
  });

  it("accepts a record", () => {
    expect(createHeaderMap({ Host: "h" }).get("host")).toBe("h");
  });
});
