import { z } from "zod";
import { parsePluginParams } from "../../plugin-params.js";
import type { Endpoint, Picker, PluginFactory, ScoredEndpoint } from "../../types.js";
import { shuffled } from "../shuffle.js";

export const maxScorePickerType = "max-score-picker";

/**
 * Highest scores first: shuffle, then stable sort descending (random tie-break);
 * the first N are the primary then the fallbacks.
 */
export function pickMaxScore(scored: readonly ScoredEndpoint[], count: number, random: () => number): Endpoint[] {
  return shuffled(scored, random)
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(1, count))
    .map((s) => s.endpoint);
}

export interface PickerOptions {
  /** Endpoints returned (1 primary + fallbacks); default: the scheduler's `maxEndpoints`. */
  readonly maxNumOfEndpoints?: number;
}

export function createMaxScorePicker(name: string = maxScorePickerType, options: PickerOptions = {}): Picker {
  return {
    kind: "picker",
    typedName: { type: maxScorePickerType, name },
    pick: (ctx, _state, scored) => pickMaxScore(scored, options.maxNumOfEndpoints ?? ctx.maxEndpoints, ctx.random),
  } satisfies Picker;
}

export const pickerParamsSchema = z.strictObject({ maxNumOfEndpoints: z.number().int().positive().optional() });

export const maxScorePickerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(pickerParamsSchema, params);
  return "error" in parsed ? parsed : { plugin: createMaxScorePicker(name, parsed.value) };
};
