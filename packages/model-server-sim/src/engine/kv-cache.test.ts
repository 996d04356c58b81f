import { describe, expect, it } from "vitest";
import { createKvCache } from "./kv-cache.js";

describe("createKvCache()", () => {
  it("allocates the lowest free block ids first and reports usage", () => {
    const kv = createKvCache(4, 16);
    expect(kv.allocate(3)).toEqual([0, 1, 2]);
    expect(kv.numFreeBlocks()).toBe(1);
    expect(kv.usage()).toBe(0.75);
  });

  it("returns undefined and changes nothing when too few blocks are free", () => {
    const kv = createKvCache(2, 16);
    expect(kv.allocate(3)).toBeUndefined();
    expect(kv.numFreeBlocks()).toBe(2);
  });

  it("keeps freed blocks cached and finds the longest cached prefix", () => {
    const kv = createKvCache(4, 16);
    const blocks = kv.allocate(3)!;
    for (const [i, b] of blocks.entries()) kv.cacheBlock(b, 100 + i);
    kv.free(blocks);
    expect(kv.numFreeBlocks()).toBe(4);
    expect(kv.lookup([100, 101, 102, 103])).toEqual([0, 1, 2]);
    expect(kv.lookup([100, 999, 102])).toEqual([0]);
    expect(kv.lookup([999])).toEqual([]);
  });

  it("takes referenced cached blocks out of the free queue", () => {
    const kv = createKvCache(4, 16);
    const blocks = kv.allocate(2)!;
    kv.cacheBlock(blocks[0]!, 7);
    kv.free(blocks);
    const hits = kv.lookup([7]);
    expect(kv.countFree(hits)).toBe(1);
    kv.touch(hits);
    expect(kv.numFreeBlocks()).toBe(3);
    expect(kv.countFree(hits)).toBe(0);
  });

  it("evicts the tail of a freed request before its head (tail-first free, LRU allocation)", () => {
    const kv = createKvCache(3, 16);
    const blocks = kv.allocate(3)!;
    for (const [i, b] of blocks.entries()) kv.cacheBlock(b, 100 + i);
    kv.free(blocks);
    expect(kv.allocate(1)).toEqual([2]);
    expect(kv.stats()).toEqual({ evictions: 1, allocations: 4 });
    expect(kv.isCached(102)).toBe(false);
    expect(kv.lookup([100, 101, 102])).toEqual([0, 1]);
  });

  it("does not register a second block under a hash that is already cached", () => {
    const kv = createKvCache(2, 16);
    const [a, b] = kv.allocate(2)!;
    kv.cacheBlock(a!, 5);
    kv.cacheBlock(b!, 5);
    expect(kv.lookup([5])).toEqual([a]);
  });
});
