import { loadConfig } from "@llm-callouts/ext-proc";
import { describe, expect, it } from "vitest";
import { configSchema, defaults, resolveSimilarityThreshold } from "./config.js";

describe("configSchema", () => {
  it("gives working defaults for an empty section, frozen once loaded as the CLI loads it", () => {
    const config = configSchema.parse({ redisUrl: "" });
    expect(config).toMatchObject({ ttlSeconds: defaults.ttlSeconds, storeTimeoutMs: 50, semantic: true });
    expect(config.headers).toEqual({
      status: "x-cache-status",
      similarity: "x-cache-similarity",
      bypass: "x-cache-bypass",
      purge: "x-cache-purge",
    });
    expect(Object.isFrozen(loadConfig(configSchema, {}, {}).service.headers)).toBe(true);
  });

  it("reports every problem with its path", () => {
    const result = configSchema.safeParse({ ttlSeconds: -1, tenant: { header: "bad header" }, extra: 1 });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join(".") || i.code).sort();
    expect(paths).toEqual(["tenant.header", "ttlSeconds", "unrecognized_keys"]);
  });

  it("needs url and model for the openai embedder, and an http(s) url", () => {
    expect(configSchema.safeParse({ embedder: { kind: "openai" } }).error?.issues[0]?.message).toBe(
      "kind openai needs url and model",
    );
    expect(configSchema.safeParse({ embedder: { kind: "openai", url: "file:///x", model: "m" } }).success).toBe(false);
    expect(
      configSchema.safeParse({ embedder: { kind: "openai", url: "http://tei:8080/v1", model: "m" } }).success,
    ).toBe(true);
  });

  it("needs project, location and model for the vertex embedder", () => {
    expect(
      configSchema.safeParse({ embedder: { kind: "vertex", model: "text-embedding-005" } }).error?.issues[0]?.message,
    ).toBe("kind vertex needs project, location and model");
    expect(
      configSchema.safeParse({ embedder: { kind: "vertex", project: "p", location: "us central", model: "m" } })
        .success,
    ).toBe(false);
    expect(
      configSchema.safeParse({ embedder: { kind: "vertex", project: "p", location: "europe-west4", model: "m" } })
        .success,
    ).toBe(true);
  });

  it("checks Redis Cluster seeds and keeps braces out of the key prefix", () => {
    const cluster = (redisUrl: string) => configSchema.safeParse({ redisUrl, redisCluster: true });
    expect(cluster("redis://10.0.0.1:6379, rediss://user:pw@10.0.0.2:6380").success).toBe(true);
    const bad = cluster("redis://10.0.0.1:6379,http://x:1");
    expect(bad.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["redisUrl", "redisUrl seed protocol http: is not redis: or rediss:"],
    ]);
    // A seed that is no URL is named without its credentials.
    expect(cluster("redis://u:secret@[bad").error?.issues[0]?.message).toBe(
      'redisUrl seed "redis://***@[bad" is not a URL',
    );
    expect(configSchema.safeParse({ keyPrefix: "{tenant}:" }).error?.issues[0]?.path).toEqual(["keyPrefix"]);
  });
});

describe("resolveSimilarityThreshold()", () => {
  const embedder = { id: "e", dimensions: 2, defaultThreshold: 0.93, embed: async () => new Float32Array(2) };
  it("uses the configured threshold, or the embedder's tuned default for 0", () => {
    expect(resolveSimilarityThreshold({ similarityThreshold: 0.8 }, embedder)).toBe(0.8);
    expect(resolveSimilarityThreshold({ similarityThreshold: 0 }, embedder)).toBe(0.93);
  });
});

describe("verifier config", () => {
  it("defaults to auto and refuses the learned model with an embedder it was not trained for", () => {
    expect(configSchema.parse({}).verifier).toEqual({ mode: "auto", threshold: 0, modelFile: "" });
    const result = configSchema.safeParse({
      verifier: { mode: "learned" },
      embedder: { kind: "openai", url: "http://127.0.0.1:1/v1", model: "bge" },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ["verifier", "mode"] });
    expect(result.error?.issues[0]?.message).toMatch(/trained on the word-vectors embedder/);
    // With a model trained for that embedder it is allowed (checked against the embedder at startup).
    expect(
      configSchema.safeParse({
        verifier: { mode: "learned", modelFile: "verifier.json" },
        embedder: { kind: "openai", url: "http://127.0.0.1:1/v1", model: "bge" },
      }).success,
    ).toBe(true);
  });
});
