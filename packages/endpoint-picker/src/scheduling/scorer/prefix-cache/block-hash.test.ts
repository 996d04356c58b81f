import { describe, expect, it } from "vitest";
import { blockHashes, hashBlock, modelSeed } from "./block-hash.js";

const opts = { blockSizeChars: 4, maxBlocks: 256 };

describe("hashBlock()", () => {
  it("is deterministic and a 53-bit integer", () => {
    const h = hashBlock("abcd", 0, 4, 0);
    expect(h).toBe(hashBlock("xabcdx", 1, 5, 0));
    expect(Number.isSafeInteger(h)).toBe(true);
  });

  it("depends on the seed", () => {
    expect(hashBlock("abcd", 0, 4, 1)).not.toBe(hashBlock("abcd", 0, 4, 2));
  });
});

describe("blockHashes()", () => {
  it("returns no hashes for text shorter than one block", () => {
    expect(blockHashes("abc", 0, opts)).toEqual([]);
  });

  it("hashes full blocks and the trailing partial block", () => {
    expect(blockHashes("abcdefghij", 0, opts)).toHaveLength(3);
  });

  it("chains: equal prefixes give equal leading hashes, a different first block changes all", () => {
    const a = blockHashes("aaaabbbbcccc", 0, opts);
    const b = blockHashes("aaaabbbbdddd", 0, opts);
    const c = blockHashes("zaaabbbbcccc", 0, opts);
    expect(b.slice(0, 2)).toEqual(a.slice(0, 2));
    expect(b[2]).not.toBe(a[2]);
    expect(c.filter((h, i) => h === a[i])).toEqual([]);
  });

  it("truncates to maxBlocks", () => {
    expect(blockHashes("a".repeat(100), 0, { blockSizeChars: 4, maxBlocks: 5 })).toHaveLength(5);
  });

  it("seeds per model so the same prompt to two models shares nothing", () => {
    const a = blockHashes("aaaabbbb", modelSeed("m1"), opts);
    const b = blockHashes("aaaabbbb", modelSeed("m2"), opts);
    expect(a.filter((h, i) => h === b[i])).toEqual([]);
  });
});
