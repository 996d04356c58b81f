import { z } from "zod";
import { parsePluginParams } from "../../plugin-params.js";
import type { Filter, PluginFactory } from "../../types.js";

/** Pod label naming an endpoint's disaggregation role (llm-d). */
export const roleLabel = "llm-d.ai/role";

/** llm-d role filters: which `llm-d.ai/role` values each keeps, and whether an unlabelled endpoint passes. */
export const roleFilters = {
  "decode-filter": {
    values: ["decode", "prefill-decode", "both", "encode-prefill-decode"],
    allowsNoLabel: true,
  },
  "prefill-filter": {
    values: ["prefill", "encode-prefill", "prefill-decode", "both", "encode-prefill-decode"],
    allowsNoLabel: false,
  },
  "encode-filter": {
    values: ["encode", "encode-prefill", "encode-prefill-decode"],
    allowsNoLabel: false,
  },
} as const;

export type RoleFilterType = keyof typeof roleFilters;

/** Keeps endpoints whose `llm-d.ai/role` label is one of the type's values (llm-d `bylabel`). */
export function createRoleFilter(type: RoleFilterType, name: string = type): Filter {
  const { values, allowsNoLabel } = roleFilters[type];
  const valid = new Set<string>(values);
  return {
    kind: "filter",
    typedName: { type, name },
    filter: (_ctx, _state, _request, endpoints) =>
      endpoints.filter((e) => {
        const role = e.labels[roleLabel];
        return role === undefined ? allowsNoLabel : valid.has(role);
      }),
  };
}

export function roleFilterFactory(type: RoleFilterType): PluginFactory {
  return (name, params) => {
    const parsed = parsePluginParams(z.strictObject({}), params);
    return "error" in parsed ? parsed : { plugin: createRoleFilter(type, name) };
  };
}
