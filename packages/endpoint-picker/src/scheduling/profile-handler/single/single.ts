import { z } from "zod";
import { parsePluginParams } from "../../plugin-params.js";
import type { PluginFactory, ProfileHandler } from "../../types.js";

export const singleProfileHandlerType = "single-profile-handler";

/**
 * GIE/llm-d `single-profile-handler`: runs the one configured profile once and sends the request
 * by its result. The loader refuses it next to more than one profile, as upstream does.
 */
export function createSingleProfileHandler(name: string = singleProfileHandlerType): ProfileHandler {
  return {
    kind: "profile-handler",
    typedName: { type: singleProfileHandlerType, name },
    pick(_request, profiles, results) {
      if (profiles.length !== 1) return { error: `${singleProfileHandlerType} needs exactly one profile` };
      return { profiles: results.size > 0 ? [] : profiles };
    },
    primary(_request, results) {
      const [first] = results.keys();
      return first === undefined ? { error: "no scheduling profile ran" } : { profile: first };
    },
  };
}

export const singleProfileHandlerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({}), params);
  return "error" in parsed ? parsed : { plugin: createSingleProfileHandler(name) };
};
