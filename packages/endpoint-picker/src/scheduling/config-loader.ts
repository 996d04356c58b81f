import { formatIssues } from "@llm-callouts/ext-proc";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { createMaxScorePicker } from "./picker/max-score/max-score.js";
import { createPluginRegistry, type PluginRegistry } from "./plugin-registry.js";
import { registerBuiltins } from "./register-builtins.js";
import { createScheduler, type PluginObserver, type Scheduler, type SchedulerProfile } from "./scheduler.js";
import type { AnyPlugin, Filter, Picker, Scorer } from "./types.js";

const pluginSpec = z.strictObject({
  name: z.string().min(1).optional(),
  type: z.string().min(1),
  parameters: z.unknown().optional(),
});

const profileSpec = z.strictObject({
  name: z.string().min(1),
  plugins: z.array(z.strictObject({ pluginRef: z.string().min(1), weight: z.number().min(0).optional() })),
});

/** `EndpointPickerConfig` (GIE `apiVersion: inference.networking.x-k8s.io/v1alpha1`), scheduling part. */
export const endpointPickerConfigSchema = z.strictObject({
  apiVersion: z.string().optional(),
  kind: z.literal("EndpointPickerConfig").optional(),
  featureGates: z.array(z.string()).default([]),
  plugins: z.array(pluginSpec).default([]),
  schedulingProfiles: z.array(profileSpec).default([]),
});

export type EndpointPickerConfig = z.infer<typeof endpointPickerConfigSchema>;

/**
 * GIE defaults (queue 2, KV-cache 2, prefix 3, max-score picker) plus the LoRA
 * availability filter, which is a no-op unless `/v1/models` showed where an adapter lives.
 */
export const defaultEndpointPickerConfig: EndpointPickerConfig = {
  apiVersion: "inference.networking.x-k8s.io/v1alpha1",
  kind: "EndpointPickerConfig",
  featureGates: [],
  plugins: [
    { type: "lora-availability-filter" },
    { type: "queue-scorer" },
    { type: "kv-cache-utilization-scorer" },
    { type: "prefix-cache-scorer" },
    { type: "max-score-picker" },
  ],
  schedulingProfiles: [
    {
      name: "default",
      plugins: [
        { pluginRef: "lora-availability-filter" },
        { pluginRef: "queue-scorer", weight: 2 },
        { pluginRef: "kv-cache-utilization-scorer", weight: 2 },
        { pluginRef: "prefix-cache-scorer", weight: 3 },
        { pluginRef: "max-score-picker" },
      ],
    },
  ],
};

export type LoadResult =
  | { readonly scheduler: Scheduler; readonly config: EndpointPickerConfig }
  | { readonly errors: string[] };

export interface LoadOptions {
  readonly registry?: PluginRegistry;
  readonly observe?: PluginObserver;
}

/** Phase 1: YAML text -> decoded config with defaults. Errors name their path. */
export function decodeEndpointPickerConfig(
  text: string | undefined,
): { value: EndpointPickerConfig } | { errors: string[] } {
  if (text === undefined || text.trim() === "") return { value: defaultEndpointPickerConfig };
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return { errors: [`invalid YAML: ${(err as Error).message}`] };
  }
  const parsed = endpointPickerConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) return { errors: formatIssues("", parsed.error) };
  const value = parsed.data;
  if (value.plugins.length === 0 && value.schedulingProfiles.length === 0)
    return { value: defaultEndpointPickerConfig };
  return { value };
}

/** Phase 2: instantiate plugins (in declared order), resolve profile refs, validate. */
export function instantiateEndpointPickerConfig(config: EndpointPickerConfig, options: LoadOptions = {}): LoadResult {
  const registry = options.registry ?? registerBuiltins(createPluginRegistry());
  const errors: string[] = [];
  const plugins = new Map<string, AnyPlugin>();
  for (const [i, spec] of config.plugins.entries()) {
    const name = spec.name ?? spec.type;
    const factory = registry.get(spec.type);
    if (plugins.has(name)) errors.push(`plugins[${i}].name: duplicate plugin name "${name}"`);
    else if (!factory) errors.push(`plugins[${i}].type: unknown plugin type "${spec.type}"`);
    else {
      const made = factory(name, spec.parameters, { plugin: (n) => plugins.get(n) });
      if ("error" in made) errors.push(`plugins[${i}].parameters: ${made.error}`);
      else plugins.set(name, made.plugin);
    }
  }
  const profileSpecs: EndpointPickerConfig["schedulingProfiles"] =
    config.schedulingProfiles.length > 0
      ? config.schedulingProfiles
      : [{ name: "default", plugins: [...plugins.keys()].map((pluginRef) => ({ pluginRef })) }];
  const profiles: SchedulerProfile[] = [];
  const seen = new Set<string>();
  profileSpecs.forEach((p, i) => {
    if (seen.has(p.name)) errors.push(`schedulingProfiles[${i}].name: duplicate profile "${p.name}"`);
    seen.add(p.name);
    const filters: Filter[] = [];
    const scorers: { scorer: Scorer; weight: number }[] = [];
    let picker: Picker | undefined;
    for (const [j, ref] of p.plugins.entries()) {
      const path = `schedulingProfiles[${i}].plugins[${j}]`;
      const plugin = plugins.get(ref.pluginRef);
      if (!plugin) errors.push(`${path}.pluginRef: no plugin named "${ref.pluginRef}"`);
      else if (plugin.kind === "filter") filters.push(plugin);
      else if (plugin.kind === "scorer") scorers.push({ scorer: plugin, weight: ref.weight ?? 1 });
      else if (picker) errors.push(`${path}.pluginRef: profile "${p.name}" has a second picker "${ref.pluginRef}"`);
      else picker = plugin;
    }
    profiles.push({ name: p.name, filters, scorers, picker: picker ?? createMaxScorePicker() });
  });
  if (errors.length > 0) return { errors };
  return { scheduler: createScheduler({ profiles, plugins, observe: options.observe }), config };
}

/** Both phases. */
export function loadEndpointPickerConfig(text: string | undefined, options: LoadOptions = {}): LoadResult {
  const decoded = decodeEndpointPickerConfig(text);
  if ("errors" in decoded) return decoded;
  return instantiateEndpointPickerConfig(decoded.value, options);
}
