import { z } from "zod";
import { type ApproxPrefixSettings, approxPrefixProducerType, settingsOf } from "../../config-plugins.js";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type {
  Endpoint,
  EndpointLifecycleHook,
  PluginFactory,
  PreRequestHook,
  SchedulingRequest,
  Scorer,
} from "../../types.js";
import { blockHashes, modelSeed } from "./block-hash.js";
import { createPrefixIndex, type PrefixIndex } from "./prefix-index.js";

export const prefixCacheScorerType = "prefix-cache-scorer";

/** GIE defaults (approximateprefix). */
export const prefixCacheDefaults = {
  blockSizeTokens: 16,
  charsPerToken: 4,
  maxPrefixBlocksToMatch: 256,
  lruCapacityPerServer: 31_250,
  autoTune: true,
  matchLengthWeight: 0,
  matchLengthScaleTokens: 8192,
} as const;

export interface PrefixCacheScorerOptions {
  /** Hash block size in tokens (ignored when autoTune finds `cache_config_info{block_size}`). */
  readonly blockSizeTokens?: number;
  /** Characters per token for the character-based block size. */
  readonly charsPerToken?: number;
  /** Longer prompts are truncated to this many blocks. */
  readonly maxPrefixBlocksToMatch?: number;
  /** LRU blocks per endpoint when the engine does not report `num_gpu_blocks`. */
  readonly lruCapacityPerServer?: number;
  /** Read block size and capacity from the engine's `cache_config_info`. */
  readonly autoTune?: boolean;
  /** llm-d: weight in [0, 1] of the absolute match length in the score (default 0: match ratio only). */
  readonly matchLengthWeight?: number;
  /** llm-d: matched tokens that count as a full-length match (default 8192). */
  readonly matchLengthScaleTokens?: number;
}

/**
 * `matchedBlocks / totalBlocks`, 0 when the prompt has no blocks. With a match-length weight
 * w > 0 (llm-d): `w * min(1, matchedTokens / scale)^2 + (1 - w) * ratio`.
 */
export function scorePrefixMatch(
  matchedBlocks: number,
  totalBlocks: number,
  lengthWeight = 0,
  matchedTokens = 0,
  scaleTokens: number = prefixCacheDefaults.matchLengthScaleTokens,
): number {
  if (totalBlocks === 0) return 0;
  const ratio = matchedBlocks / totalBlocks;
  if (lengthWeight <= 0) return ratio;
  const length = Math.min(1, matchedTokens / scaleTokens);
  return lengthWeight * length * length + (1 - lengthWeight) * ratio;
}

/** Per-endpoint prefix match of one request. */
export interface PrefixMatch {
  readonly matchedBlocks: number;
  readonly totalBlocks: number;
  readonly blockSizeChars: number;
}

/** The scorer plus the index hooks other plugins consume. */
export interface PrefixCacheScorer extends Scorer, PreRequestHook, EndpointLifecycleHook {
  /** Matched blocks per endpoint for `request` (computed once per request). */
  matches(request: SchedulingRequest, endpoints: readonly Endpoint[]): Map<Endpoint, PrefixMatch>;
  readonly index: PrefixIndex;
}

/**
 * Approximate prefix-cache affinity: chained block hashes of the prompt (per-model
 * seed), an LRU of blocks per endpoint sized from `cache_config_info` when autoTune is
 * on, and the pick recorded before the request is forwarded.
 */
export function createPrefixCacheScorer(
  name: string = prefixCacheScorerType,
  options: PrefixCacheScorerOptions = {},
): PrefixCacheScorer {
  const o = { ...prefixCacheDefaults, ...options };
  const index = createPrefixIndex();
  const hashCache = new WeakMap<SchedulingRequest, { hashes: number[]; blockSizeChars: number }>();

  function blockSizeTokensFor(endpoints: readonly Endpoint[]): number {
    if (o.autoTune) {
      for (const e of endpoints) if (e.metrics.blockSizeTokens) return e.metrics.blockSizeTokens;
    }
    return o.blockSizeTokens;
  }

  function hashesOf(request: SchedulingRequest, endpoints: readonly Endpoint[]) {
    let entry = hashCache.get(request);
    if (!entry) {
      const blockSizeChars = blockSizeTokensFor(endpoints) * o.charsPerToken;
      const seed = modelSeed(request.targetModel, request.headers["x-cache-salt"] ?? "");
      entry = {
        hashes: blockHashes(request.prompt, seed, { blockSizeChars, maxBlocks: o.maxPrefixBlocksToMatch }),
        blockSizeChars,
      };
      hashCache.set(request, entry);
    }
    return entry;
  }

  function capacityOf(endpoint: Endpoint, blockSizeChars: number): number {
    const { numGpuBlocks, blockSizeTokens } = endpoint.metrics;
    if (o.autoTune && numGpuBlocks && blockSizeTokens) {
      // Engine blocks hold blockSizeTokens tokens; ours hold blockSizeChars / charsPerToken.
      return Math.max(1, Math.round((numGpuBlocks * blockSizeTokens * o.charsPerToken) / blockSizeChars));
    }
    return o.lruCapacityPerServer;
  }

  const scorer: PrefixCacheScorer = {
    kind: "scorer",
    typedName: { type: prefixCacheScorerType, name },
    category: "affinity",
    index,
    matches(request, endpoints) {
      const { hashes, blockSizeChars } = hashesOf(request, endpoints);
      const matched = index.match(
        hashes,
        endpoints.map((e) => e.id),
      );
      const result = new Map<Endpoint, PrefixMatch>();
      for (const e of endpoints) {
        result.set(e, { matchedBlocks: matched.get(e.id) ?? 0, totalBlocks: hashes.length, blockSizeChars });
      }
      return result;
    },
    score(_ctx, _state, request, endpoints) {
      const m = scorer.matches(request, endpoints);
      return toScoreMap(
        endpoints,
        endpoints.map((e) => {
          const x = m.get(e);
          if (!x) return 0;
          const tokens = (x.matchedBlocks * x.blockSizeChars) / o.charsPerToken;
          return scorePrefixMatch(
            x.matchedBlocks,
            x.totalBlocks,
            o.matchLengthWeight,
            tokens,
            o.matchLengthScaleTokens,
          );
        }),
      );
    },
    preRequest(request, targets) {
      // Only the primary will serve the request; fallbacks are used on retry only.
      const primary = targets[0];
      if (!primary) return;
      const { hashes, blockSizeChars } = hashesOf(request, targets);
      if (hashes.length > 0) index.add(primary.id, hashes, capacityOf(primary, blockSizeChars));
    },
    endpointRemoved(endpointId) {
      index.remove(endpointId);
    },
  };
  return scorer;
}

const paramsSchema = z.strictObject({
  blockSizeTokens: z.number().int().positive().optional(),
  charsPerToken: z.number().positive().optional(),
  maxPrefixBlocksToMatch: z.number().int().positive().optional(),
  lruCapacityPerServer: z.number().int().positive().optional(),
  autoTune: z.boolean().optional(),
  /** llm-d: the producer whose index settings to use (default: an `approx-prefix-cache-producer` if configured). */
  prefixMatchInfoProducerName: z.string().min(1).optional(),
  matchLengthWeight: z.number().min(0).max(1).optional(),
  matchLengthScaleTokens: z.number().int().positive().optional(),
});

/** No cap on matched blocks (llm-d: both caps 0 match the whole prompt). */
const unlimitedBlocks = 1 << 20;

/** The index options an `approx-prefix-cache-producer`'s parameters give (llm-d semantics). */
export function prefixOptionsFromProducer(p: ApproxPrefixSettings): PrefixCacheScorerOptions {
  const blockSizeTokens =
    p.blockSizeTokens ??
    (p.blockSize ? Math.max(1, Math.ceil(p.blockSize / prefixCacheDefaults.charsPerToken)) : undefined);
  const size = blockSizeTokens ?? prefixCacheDefaults.blockSizeTokens;
  let maxPrefixBlocksToMatch: number | undefined;
  if (p.maxPrefixTokensToMatch !== undefined && p.maxPrefixTokensToMatch > 0) {
    maxPrefixBlocksToMatch = Math.max(1, Math.floor(p.maxPrefixTokensToMatch / size));
  } else if (p.maxPrefixBlocksToMatch !== undefined) {
    maxPrefixBlocksToMatch = p.maxPrefixBlocksToMatch > 0 ? p.maxPrefixBlocksToMatch : unlimitedBlocks;
  }
  return {
    ...(blockSizeTokens === undefined ? {} : { blockSizeTokens }),
    ...(maxPrefixBlocksToMatch === undefined ? {} : { maxPrefixBlocksToMatch }),
    ...(p.lruCapacityPerServer === undefined ? {} : { lruCapacityPerServer: p.lruCapacityPerServer }),
    ...(p.autoTune === undefined ? {} : { autoTune: p.autoTune }),
  };
}

export const prefixCacheScorerFactory: PluginFactory = (name, params, handle) => {
  const parsed = parsePluginParams(paramsSchema, params);
  if ("error" in parsed) return parsed;
  const { prefixMatchInfoProducerName, ...own } = parsed.value;
  const producerName = prefixMatchInfoProducerName ?? approxPrefixProducerType;
  const producer = handle.plugin(producerName);
  if (prefixMatchInfoProducerName !== undefined && !producer) {
    return { error: `prefixMatchInfoProducerName: no plugin named "${prefixMatchInfoProducerName}"` };
  }
  let fromProducer: PrefixCacheScorerOptions = {};
  if (producer) {
    const settings =
      producer.kind === "data-producer"
        ? settingsOf<ApproxPrefixSettings>(producer, approxPrefixProducerType)
        : undefined;
    if (!settings) {
      return {
        error: `prefixMatchInfoProducerName: "${producerName}" is a ${producer.typedName.type}, not an ${approxPrefixProducerType}`,
      };
    }
    fromProducer = prefixOptionsFromProducer(settings);
  }
  return { plugin: createPrefixCacheScorer(name, { ...fromProducer, ...own }) };
};

export function isPrefixCacheScorer(plugin: unknown): plugin is PrefixCacheScorer {
  return (
    typeof plugin === "object" &&
    plugin !== null &&
    (plugin as PrefixCacheScorer).typedName?.type === prefixCacheScorerType
  );
}
