import { describe, expect, it } from "vitest";
import { parseGoDurationMs, parseQuantity } from "./units.js";

describe("parseGoDurationMs()", () => {
  it.each([
    ["150ms", 150],
    ["2s", 2000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["500us", 0.5],
    ["0", 0],
    ["-1s", -1000],
  ])("%s is %d ms", (text, ms) => expect(parseGoDurationMs(text)).toBeCloseTo(ms));
  it.each(["", "5", "1d", "ms", "1s2", "soon"])("%j is not a Go duration", (text) =>
    expect(parseGoDurationMs(text)).toBeUndefined(),
  );
});

describe("parseQuantity()", () => {
  it.each([
    ["1Gi", 2 ** 30],
    ["64Mi", 64 * 2 ** 20],
    ["2k", 2000],
    ["500M", 5e8],
    ["1e3", 1000],
    ["100m", 0.1],
    [5000, 5000],
  ] as const)("%s is %d", (v, n) => expect(parseQuantity(v)).toBeCloseTo(n));
  it.each(["", "1GB", "lots", "1 Gi"])("%j is not a quantity", (v) => expect(parseQuantity(v)).toBeUndefined());
});
