import { parsePluginParams } from "../../plugin-params.js";
import type { Endpoint, Picker, PluginFactory, ScoredEndpoint } from "../../types.js";
import { type PickerOptions, pickerParamsSchema } from "../max-score/max-score.js";
import { shuffled } from "../shuffle.js";

export const randomPickerType = "random-picker";

/** Uniformly random N endpoints, scores ignored. */
export function pickRandom(scored: readonly ScoredEndpoint[], count: number, random: () => number): Endpoint[] {
  return shuffled(scored, random)
    .slice(0, Math.max(1, count))
    .map((s) => s.endpoint);
}

export function createRandomPicker(name: string = randomPickerType, options: PickerOptions = {}): Picker {
  return {
    kind: "picker",
    typedName: { type: randomPickerType, name },
    pick: (ctx, _state, scored) => pickRandom(scored, options.maxNumOfEndpoints ?? ctx.maxEndpoints, ctx.random),
  } satisfies Picker;
}

export const randomPickerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(pickerParamsSchema, params);
  return "error" in parsed ? parsed : { plugin: createRandomPicker(name, parsed.value) };
};
