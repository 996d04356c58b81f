import { z } from "zod";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { Endpoint, PluginFactory, Scorer } from "../../types.js";

export const tokenLoadScorerType = "token-load-scorer";

/** Default threshold: 128 requests at 32K tokens (GIE). */
export const defaultQueueThresholdTokens = 4_194_304;

/** `1 - min(inflightTokens, T) / T`. */
export function scoreTokenLoad(inflightTokens: number, thresholdTokens: number): number {
  return 1 - Math.min(Math.max(inflightTokens, 0), thresholdTokens) / thresholdTokens;
}

export interface TokenLoadScorerOptions {
  /** Tokens at which an endpoint scores 0. */
  readonly queueThresholdTokens?: number;
}

/** Favours endpoints with few in-flight tokens routed by this picker. */
export function createTokenLoadScorer(
  name: string = tokenLoadScorerType,
  options: TokenLoadScorerOptions = {},
): Scorer {
  const threshold = options.queueThresholdTokens ?? defaultQueueThresholdTokens;
  return {
    kind: "scorer",
    typedName: { type: tokenLoadScorerType, name },
    category: "distribution",
    score: (_ctx, _state, _request, endpoints: readonly Endpoint[]) =>
      toScoreMap(
        endpoints,
        endpoints.map((e) => scoreTokenLoad(e.inflight.tokens, threshold)),
      ),
  } satisfies Scorer;
}

const paramsSchema = z.strictObject({ queueThresholdTokens: z.number().int().positive().optional() });

export const tokenLoadScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(paramsSchema, params);
  return "error" in parsed ? parsed : { plugin: createTokenLoadScorer(name, parsed.value) };
};
