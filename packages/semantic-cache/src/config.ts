import { headerNameSchema } from "@llm-callouts/ext-proc";
import { z } from "zod";
import type { Embedder } from "./embedder.js";
import { parseSeed } from "./redis-store.js";

/**
 * The `service:` section of the semantic cache's config. Strict (unknown keys are
 * errors), every default in `defaults`, units in names; parsed once and frozen.
 */

/** Every default in one place. */
export const defaults = {
  /** Redis 8 URL; empty = embedded in-memory store. Default: env REDIS_URL. */
  redisUrl: "",
  /** Treat `redisUrl` as Redis Cluster seeds (comma-separated). Default: env REDIS_CLUSTER=true. */
  redisCluster: false,
  keyPrefix: "sc:",
  /** Store calls slower than this fail open (MISS, no fill). */
  storeTimeoutMs: 50,
  breakerFailureThreshold: 5,
  breakerCooldownMs: 5_000,
  sweepIntervalMs: 60_000,
  memoryMaxEntries: 10_000,
  ttlSeconds: 3_600, // 1 h
  maxEntryBytes: 256 * 1024, // 256 KiB serialised
  maxRequestBytes: 1024 * 1024, // 1 MiB; larger bodies bypass the cache
  maxTemperature: 1,
  /** Conversations with more user turns than this use the exact layer only. */
  maxSemanticTurns: 1,
  semantic: true,
  /** Similarity threshold; 0 = the embedder's tuned default. */
  similarityThreshold: 0,
  candidates: 3,
  embedder: {
    kind: "word-vectors" as const,
    modelPath: "",
    maxWords: 200_000,
    url: "",
    model: "",
    apiKeyEnv: "",
    project: "",
    location: "",
    taskType: "",
    keyFile: "",
    dimensions: 0,
    timeoutMs: 1_000,
    maxBatch: 32,
    batchWindowMs: 2,
    threshold: 0.9,
  },
  /** `auto`: `learned` with the word-vectors embedder (its model is trained for it), `guards` with any other. */
  verifier: { mode: "auto" as const, threshold: 0, modelFile: "" },
  tenant: { header: "", hashHeaders: ["authorization", "x-api-key"] },
  headers: {
    status: "x-cache-status",
    similarity: "x-cache-similarity",
    bypass: "x-cache-bypass",
    purge: "x-cache-purge",
  },
  /** Shared secret a purge request must carry in the purge header; empty = purge disabled. */
  purgeToken: "",
  /** Embedding calls slower than this count as embedder failures (MISS). */
  embedTimeoutMs: 200,
} as const;

export const configSchema = z
  .strictObject({
    redisUrl: z.string().default(() => process.env.REDIS_URL ?? defaults.redisUrl),
    redisCluster: z.boolean().default(() => process.env.REDIS_CLUSTER === "true" || defaults.redisCluster),
    /** No braces: the store puts each partition in a Redis Cluster hash tag of its own. */
    keyPrefix: z
      .string()
      .min(1)
      .regex(/^[^{}]*$/, "must not contain { or } (the store's hash tags)")
      .default(defaults.keyPrefix),
    storeTimeoutMs: z.number().int().positive().default(defaults.storeTimeoutMs),
    breakerFailureThreshold: z.number().int().positive().default(defaults.breakerFailureThreshold),
    breakerCooldownMs: z.number().int().positive().default(defaults.breakerCooldownMs),
    /** 0 disables the periodic sweep of expired vector elements. */
    sweepIntervalMs: z.number().int().min(0).default(defaults.sweepIntervalMs),
    memoryMaxEntries: z.number().int().positive().default(defaults.memoryMaxEntries),
    ttlSeconds: z.number().positive().default(defaults.ttlSeconds),
    maxEntryBytes: z.number().int().positive().default(defaults.maxEntryBytes),
    maxRequestBytes: z.number().int().positive().default(defaults.maxRequestBytes),
    /** Requests with a higher temperature are not cached (a missing temperature counts as 1). */
    maxTemperature: z.number().min(0).default(defaults.maxTemperature),
    maxSemanticTurns: z.number().int().min(1).default(defaults.maxSemanticTurns),
    /** false = exact layer only. */
    semantic: z.boolean().default(defaults.semantic),
    similarityThreshold: z.number().min(0).max(1).default(defaults.similarityThreshold),
    candidates: z.number().int().min(1).max(20).default(defaults.candidates),
    embedder: z
      .strictObject({
        /**
         * `word-vectors`: offline default; `transformers`: @huggingface/transformers from `modelPath`;
         * `openai`: a remote OpenAI-compatible `/v1/embeddings` (TEI, vLLM, Ollama, LiteLLM, OpenAI);
         * `vertex`: Vertex AI text embeddings (`project`, `location`, `model`; `url` overrides the API endpoint).
         */
        kind: z.enum(["word-vectors", "transformers", "openai", "vertex"]).default(defaults.embedder.kind),
        /** Local model folder (or Hub id where downloads are possible) for `transformers`. */
        modelPath: z.string().default(defaults.embedder.modelPath),
        maxWords: z.number().int().positive().default(defaults.embedder.maxWords),
        /** `openai`: base URL up to `/v1`, the model name, and the environment variable holding the API key. */
        url: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(defaults.embedder.url),
        model: z.string().default(defaults.embedder.model),
        apiKeyEnv: z.string().default(defaults.embedder.apiKeyEnv),
        /** `vertex`: Google Cloud project and region; `task_type` (default SEMANTIC_SIMILARITY); a credential file (default ADC). */
        project: z.string().default(defaults.embedder.project),
        location: z
          .string()
          .regex(/^([a-z]+-[a-z]+[0-9]+|global)?$/, "a region such as us-central1")
          .default(defaults.embedder.location),
        taskType: z.string().default(defaults.embedder.taskType),
        keyFile: z.string().default(defaults.embedder.keyFile),
        /** `openai`: expected dimension (0 = learn it from the startup probe). */
        dimensions: z.number().int().min(0).default(defaults.embedder.dimensions),
        timeoutMs: z.number().int().positive().default(defaults.embedder.timeoutMs),
        maxBatch: z.number().int().min(1).max(2048).default(defaults.embedder.maxBatch),
        batchWindowMs: z.number().min(0).max(50).default(defaults.embedder.batchWindowMs),
        /** `openai`: the similarity threshold when `similarityThreshold` is 0 (model-specific: tune it). */
        threshold: z.number().min(0).max(1).default(defaults.embedder.threshold),
      })
      .refine((e) => e.kind !== "openai" || (e.url !== "" && e.model !== ""), {
        message: "kind openai needs url and model",
      })
      .refine((e) => e.kind !== "vertex" || (e.project !== "" && e.location !== "" && e.model !== ""), {
        message: "kind vertex needs project, location and model",
      })
      .prefault({}),
    verifier: z
      .strictObject({
        /** `learned` (guards + the trained pair model), `guards` (negation, numbers, antonyms, swapped entities), `off`. */
        mode: z.enum(["auto", "learned", "guards", "off"]).default(defaults.verifier.mode),
        /** The learned model's probability threshold; 0 = the one shipped with the model. */
        threshold: z.number().min(0).max(1).default(defaults.verifier.threshold),
        /**
         * A model trained for this embedder by scripts/train-verifier.ts (JSON; relative to the
         * config file); empty = the shipped model, which is for the offline embedder only.
         */
        modelFile: z.string().default(defaults.verifier.modelFile),
      })
      .prefault({}),
    tenant: z
      .strictObject({
        /** Header naming the tenant (trusted, set by the gateway); empty = hash of `hashHeaders`. */
        header: z.union([headerNameSchema, z.literal("")]).default(defaults.tenant.header),
        hashHeaders: z.array(headerNameSchema).default([...defaults.tenant.hashHeaders]),
      })
      .prefault({}),
    headers: z
      .strictObject({
        status: headerNameSchema.default(defaults.headers.status),
        similarity: headerNameSchema.default(defaults.headers.similarity),
        bypass: headerNameSchema.default(defaults.headers.bypass),
        purge: headerNameSchema.default(defaults.headers.purge),
      })
      .prefault({}),
    purgeToken: z.string().default(defaults.purgeToken),
    embedTimeoutMs: z.number().int().positive().default(defaults.embedTimeoutMs),
  })
  .superRefine((config, ctx) => {
    if (config.verifier.mode === "learned" && config.embedder.kind !== "word-vectors" && !config.verifier.modelFile) {
      ctx.addIssue({
        code: "custom",
        path: ["verifier", "mode"],
        message: `the shipped model is trained on the word-vectors embedder's similarities, not ${config.embedder.kind}'s: use guards (or auto), or train one for it (verifier.modelFile)`,
      });
    }
    if (!config.redisCluster || config.redisUrl === "") return;
    for (const seed of config.redisUrl.split(",").filter((s) => s.trim() !== "")) {
      try {
        parseSeed(seed.trim());
      } catch (error) {
        ctx.addIssue({ code: "custom", path: ["redisUrl"], message: (error as Error).message });
      }
    }
  });

/** The parsed, frozen `service:` section. */
export type SemanticCacheConfig = z.output<typeof configSchema>;

/**
 * The similarity threshold the semantic layer uses: `similarityThreshold`, or the embedder's
 * tuned default when it is 0. Decided here and nowhere else.
 */
export function resolveSimilarityThreshold(
  config: Pick<SemanticCacheConfig, "similarityThreshold">,
  embedder: Embedder,
): number {
  return config.similarityThreshold > 0 ? config.similarityThreshold : embedder.defaultThreshold;
}
