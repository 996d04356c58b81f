import { z } from "zod";
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
}

/** `matchedBlocks / totalBlocks`, 0 when the prompt has no blocks. */
export function scorePrefixMatch(matchedBlocks: number, totalBlocks: number): number {
  return totalBlocks === 0 ? 0 : matchedBlocks / totalBlocks;
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
          return x ? scorePrefixMatch(x.matchedBlocks, x.totalBlocks) : 0;
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
});

export const prefixCacheScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(paramsSchema, params);
  return "error" in parsed ? parsed : { plugin: createPrefixCacheScorer(name, parsed.value) };
};

export function isPrefixCacheScorer(plugin: unknown): plugin is PrefixCacheScorer {
  return (
    typeof plugin === "object" &&
    plugin !== null &&
    (plugin as PrefixCacheScorer).typedName?.type === prefixCacheScorerType
  );
}
