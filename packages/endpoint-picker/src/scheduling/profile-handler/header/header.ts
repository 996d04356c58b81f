import { z } from "zod";
import { parsePluginParams } from "../../plugin-params.js";
import type { PluginFactory, ProfileHandler } from "../../types.js";

export const headerProfileHandlerType = "header-profile-handler";

/** llm-d defaults: header `EPP-Profile`, profile `decode` when the header is absent. */
export const headerProfileHandlerDefaults = { headerName: "epp-profile", defaultProfile: "decode" } as const;

/**
 * llm-d `header-profile-handler`: the request header `headerName` names the one profile to run;
 * without it `defaultProfile` runs. A value naming no profile fails the request (no endpoint).
 * With a single profile configured, that profile runs whatever the header says.
 */
export function createHeaderProfileHandler(
  name: string = headerProfileHandlerType,
  options: { headerName?: string; defaultProfile?: string } = {},
): ProfileHandler {
  const headerName = options.headerName?.trim().toLowerCase() || headerProfileHandlerDefaults.headerName;
  const defaultProfile = options.defaultProfile?.trim() || headerProfileHandlerDefaults.defaultProfile;
  return {
    kind: "profile-handler",
    typedName: { type: headerProfileHandlerType, name },
    pick(request, profiles, results) {
      if (results.size > 0) return { profiles: [] };
      if (profiles.length === 1) return { profiles };
      const asked = (request.headers[headerName] ?? "").trim();
      const wanted = asked || defaultProfile;
      if (profiles.includes(wanted)) return { profiles: [wanted] };
      return {
        error: asked
          ? `${headerProfileHandlerType}: no scheduling profile configured for "${headerName}" value "${asked}"`
          : `${headerProfileHandlerType}: defaultProfile "${defaultProfile}" is not a configured scheduling profile`,
      };
    },
    primary(_request, results) {
      const [first] = results.keys();
      return first === undefined
        ? { error: `${headerProfileHandlerType}: missing "${headerName}" header` }
        : { profile: first };
    },
  };
}

const paramsSchema = z.strictObject({
  headerName: z.string().optional(),
  defaultProfile: z.string().optional(),
});

export const headerProfileHandlerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(paramsSchema, params);
  return "error" in parsed ? parsed : { plugin: createHeaderProfileHandler(name, parsed.value) };
};
