import { describe, expect, it } from "vitest";
import { blockHashes } from "./block-hash.js";

const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe("blockHashes()", () => {
  it("hashes only full blocks", () => {
    expect(blockHashes(seq(15), 4)).toHaveLength(3);
    expect(blockHashes(seq(3), 4)).toEqual([]);
  });

  it("gives equal prefixes equal hashes and chains a difference into every later block", () => {
    const a = blockHashes(seq(12), 4);
    const b = [...seq(4), 99, ...seq(7, 5)];
    const hb = blockHashes(b, 4);
    expect(hb[0]).toBe(a[0]);
    expect(hb[1]).not.toBe(a[1]);
    expect(hb[2]).not.toBe(a[2]);
  });

  it("depends on block position, not only block content", () => {
    const h = blockHashes([1, 1, 1, 1, 1, 1, 1, 1], 4);
    expect(h[0]).not.toBe(h[1]);
  });

  it("separates adapters through the extra key", () => {
    expect(blockHashes(seq(4), 4, "lora-a")[0]).not.toBe(blockHashes(seq(4), 4, "lora-b")[0]);
    expect(blockHashes(seq(4), 4, "lora-a")).toEqual(blockHashes(seq(4), 4, "lora-a"));
  });

  it("returns safe integers", () => {
    for (const h of blockHashes(seq(64), 4)) expect(Number.isSafeInteger(h)).toBe(true);
  });
});
