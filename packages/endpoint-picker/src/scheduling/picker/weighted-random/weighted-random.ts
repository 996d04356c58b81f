import { parsePluginParams } from "../../plugin-params.js";
import type { Endpoint, Picker, PluginFactory, ScoredEndpoint } from "../../types.js";
import { type PickerOptions, pickerParamsSchema } from "../max-score/max-score.js";
import { pickRandom } from "../random/random.js";

export const weightedRandomPickerType = "weighted-random-picker";

/**
 * A-Res weighted sampling without replacement: key `U^(1/score)`, largest keys win.
 * Endpoints scoring 0 are never chosen unless all score 0 (then uniform).
 */
export function pickWeightedRandom(scored: readonly ScoredEndpoint[], count: number, random: () => number): Endpoint[] {
  const positive = scored.filter((s) => s.score > 0);
  if (positive.length === 0) return pickRandom(scored, count, random);
  return positive
    .map((s) => ({ endpoint: s.endpoint, key: random() ** (1 / s.score) }))
    .sort((a, b) => b.key - a.key)
    .slice(0, Math.max(1, count))
    .map((k) => k.endpoint);
}

export function createWeightedRandomPicker(
  name: string = weightedRandomPickerType,
  options: PickerOptions = {},
): Picker {
  return {
    kind: "picker",
    typedName: { type: weightedRandomPickerType, name },
    pick: (ctx, _state, scored) =>
      pickWeightedRandom(scored, options.maxNumOfEndpoints ?? ctx.maxEndpoints, ctx.random),
  } satisfies Picker;
}

export const weightedRandomPickerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(pickerParamsSchema, params);
  return "error" in parsed ? parsed : { plugin: createWeightedRandomPicker(name, parsed.value) };
};
