import { describe, expect, it } from "vitest";
import { dot } from "./cache-store.js";
import { tokenize } from "./text-tokens.js";
import { createWordVectorEmbedder } from "./word-vector-embedder.js";
import { loadWinkWordVectors } from "./word-vectors.js";

const vectors = loadWinkWordVectors();
const embedder = createWordVectorEmbedder({ vectors });

describe("createWordVectorEmbedder()", () => {
  it("returns unit vectors of the declared dimension", async () => {
    const v = await embedder.embed("How do I bake bread?");
    expect(v.length).toBe(embedder.dimensions);
    expect(dot(v, v)).toBeCloseTo(1, 5);
  });

  it("ranks a paraphrase above an unrelated question", async () => {
    const [a, b, c] = await Promise.all(
      ["How do I bake bread at home?", "How can I make bread at home?", "What is the tallest mountain?"].map((t) =>
        embedder.embed(t),
      ),
    );
    expect(dot(a as Float32Array, b as Float32Array)).toBeGreaterThan(dot(a as Float32Array, c as Float32Array) + 0.2);
  });

  it("is deterministic", async () => {
    expect(await embedder.embed("same text")).toEqual(await embedder.embed("same text"));
  });
});

describe("loadWinkWordVectors()", () => {
  it("ranks words by frequency", () => {
    expect(vectors.rank("the")).toBe(0);
    expect(vectors.rank("zzzzqqq")).toBeUndefined();
  });
});

describe("tokenize()", () => {
  it("splits clitics and keeps c++ apart from c", () => {
    expect(tokenize("What's C++? Doesn't 3,000 matter?")).toEqual([
      "what",
      "'s",
      "c++",
      "does",
      "n't",
      "3,000",
      "matter",
    ]);
  });
});
