import { describe, expect, it } from "vitest";
import { createPrefixIndex } from "./prefix-index.js";

describe("createPrefixIndex()", () => {
  it("counts consecutive matched blocks from block 0 per endpoint", () => {
    const index = createPrefixIndex();
    index.add("a", [1, 2, 3], 100);
    index.add("b", [1, 2], 100);
    expect(Object.fromEntries(index.match([1, 2, 3, 4], ["a", "b", "c"]))).toEqual({ a: 3, b: 2, c: 0 });
  });

  it("stops at the first block no endpoint holds", () => {
    const index = createPrefixIndex();
    index.add("a", [1, 3], 100);
    expect(index.match([1, 2, 3], ["a"]).get("a")).toBe(1);
  });

  it("does not count an endpoint after it missed a block", () => {
    const index = createPrefixIndex();
    index.add("a", [1, 3], 100);
    index.add("b", [1, 2, 3], 100);
    expect(Object.fromEntries(index.match([1, 2, 3], ["a", "b"]))).toEqual({ a: 1, b: 3 });
  });

  it("evicts least recently used blocks beyond capacity and unlinks them", () => {
    const index = createPrefixIndex();
    index.add("a", [1, 2, 3], 3);
    index.add("a", [1], 3); // refresh 1
    index.add("a", [4], 3); // evicts 2 (oldest)
    expect(index.size("a")).toBe(3);
    expect(index.match([1, 2], ["a"]).get("a")).toBe(1);
    expect(index.match([4], ["a"]).get("a")).toBe(1);
  });

  it("forgets a removed endpoint", () => {
    const index = createPrefixIndex();
    index.add("a", [1, 2], 10);
    index.remove("a");
    expect(index.match([1, 2], ["a"]).get("a")).toBe(0);
    expect(index.endpoints()).toEqual([]);
  });
});
