import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dot } from "./cache-store.js";
import { createTransformersEmbedder } from "./transformers-embedder.js";
import { writeTinyBert } from "./transformers-embedder.testdata.js";

const packageName = "@huggingface/transformers";
const installed = await import(packageName).then(
  () => true,
  () => false,
);
const dir = mkdtempSync(join(tmpdir(), "tiny-bert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createTransformersEmbedder()", () => {
  it.skipIf(installed)("explains how to get the optional package when it is missing", async () => {
    await expect(createTransformersEmbedder({ model: dir })).rejects.toThrow(
      /needs the package @huggingface\/transformers/,
    );
  });

  it.skipIf(!installed)("embeds with a tiny BERT-shaped ONNX model built by the test", async () => {
    writeTinyBert(dir);
    const embedder = await createTransformersEmbedder({ model: dir });
    expect([embedder.id, embedder.dimensions]).toEqual([`transformers:${dir}:8`, 8]);
    const [a, b, c] = await Promise.all(
      ["How do I reset my password?", "How can I reset my password?", "bake bread"].map((t) => embedder.embed(t)),
    );
    expect(dot(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 5);
    // Values from runs with @xenova/transformers 2.17.2 and @huggingface/transformers 4.3.2 (mean pooling over Gather embeddings): the same to 4 places.
    expect(dot(a as Float32Array, b as Float32Array)).toBeCloseTo(0.8748, 3);
    expect(dot(a as Float32Array, c as Float32Array)).toBeCloseTo(0.3268, 3);
  });
});
