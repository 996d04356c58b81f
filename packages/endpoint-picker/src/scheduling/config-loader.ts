import { formatIssues } from "@llm-callouts/ext-proc";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseGoDurationMs, parseQuantity } from "../upstream/units.js";
import {
  configPluginFactories,
  type MetricsExtractorSettings,
  type MetricsSourceSettings,
  metricsDataSourceType,
  metricsExtractorType,
  metricsSourceSchema,
  modelsDataSourceType,
  parserTypes,
  settingsOf,
  type UtilizationDetectorSettings,
  utilizationDetectorType,
} from "./config-plugins.js";
import { createMaxScorePicker } from "./picker/max-score/max-score.js";
import { createPluginRegistry, type PluginRegistry } from "./plugin-registry.js";
import { createSingleProfileHandler, singleProfileHandlerType } from "./profile-handler/single/single.js";
import { registerBuiltins } from "./register-builtins.js";
import { createScheduler, type PluginObserver, type Scheduler, type SchedulerProfile } from "./scheduler.js";
import type { AnyPlugin, ConfigPlugin, Filter, Picker, ProfileHandler, Scorer } from "./types.js";

/** apiVersions of `EndpointPickerConfig`: llm-d's current one and GIE's (deprecated upstream, still read). */
export const endpointPickerConfigApiVersions = ["llm-d.ai/v1alpha1", "inference.networking.x-k8s.io/v1alpha1"] as const;

/**
 * Feature gates GIE and llm-d register, with what they do here:
 * - `flowControl`: turns on flow control (the `flowControl` section), as upstream.
 * - `dataLayer`, `enableLegacyMetrics` (GIE v1.x): no-ops; the data layer is how metrics are always read.
 * - `haPopulateNonLeaderDatastore` (llm-d): no-op; every picker replica keeps its own datastore.
 */
export const knownFeatureGates = ["flowControl", "dataLayer", "enableLegacyMetrics", "haPopulateNonLeaderDatastore"];

const pluginRef = z.strictObject({ pluginRef: z.string().min(1) });
const duration = z.string().refine((s) => parseGoDurationMs(s) !== undefined, "must be a Go duration such as 2s");
const quantity = z
  .union([z.string(), z.number()])
  .refine((v) => parseQuantity(v) !== undefined, "must be a Kubernetes quantity such as 1Gi or 5000");

const pluginSpec = z.strictObject({
  name: z.string().min(1).optional(),
  type: z.string().min(1),
  parameters: z.unknown().optional(),
});

const profileSpec = z.strictObject({
  name: z.string().min(1),
  plugins: z.array(z.strictObject({ pluginRef: z.string().min(1), weight: z.number().min(0).optional() })).default([]),
});

/** GIE v1.2-v1.4 spelled the detector inline; v1.5+ and llm-d name a plugin. */
const saturationDetectorSpec = z.strictObject({
  pluginRef: z.string().min(1).optional(),
  queueDepthThreshold: z.number().int().positive().optional(),
  kvCacheUtilThreshold: z.number().positive().max(1).optional(),
  metricsStalenessThreshold: duration.optional(),
});

const priorityBand = z.strictObject({
  priority: z.number().int(),
  maxBytes: quantity.optional(),
  maxRequests: quantity.optional(),
  fairnessPolicyRef: z.string().optional(),
  orderingPolicyRef: z.string().optional(),
});

/** `EndpointPickerConfig` as GIE and llm-d-router define it (apix/config/v1alpha1). */
export const endpointPickerConfigSchema = z.strictObject({
  apiVersion: z.enum(endpointPickerConfigApiVersions).optional(),
  kind: z.literal("EndpointPickerConfig").optional(),
  featureGates: z.array(z.string()).default([]),
  plugins: z.array(pluginSpec).default([]),
  schedulingProfiles: z.array(profileSpec).default([]),
  /** Deprecated upstream for `requestHandler.parsers`. */
  parser: pluginRef.optional(),
  requestHandler: z.strictObject({ parsers: z.array(pluginRef).default([]) }).optional(),
  dataLayer: z
    .strictObject({
      injectDefaults: z.boolean().optional(),
      sources: z
        .array(z.strictObject({ pluginRef: z.string().min(1), extractors: z.array(pluginRef).default([]) }))
        .default([]),
      discovery: pluginRef.optional(),
      peerDiscovery: pluginRef.optional(),
      crossReplicaSyncerPluginRef: z.string().optional(),
      crossReplicaSyncInterval: duration.optional(),
    })
    .optional(),
  /** Deprecated upstream for `flowControl.saturationDetector`. */
  saturationDetector: saturationDetectorSpec.optional(),
  flowControl: z
    .strictObject({
      maxBytes: quantity.optional(),
      maxRequests: quantity.optional(),
      defaultRequestTTL: duration.optional(),
      noEndpointRequestTTL: duration.optional(),
      defaultPriorityBand: priorityBand.partial({ priority: true }).optional(),
      defaultNegativePriorityBand: priorityBand.partial({ priority: true }).optional(),
      priorityBands: z.array(priorityBand).default([]),
      usageLimitPolicyPluginRef: z.string().optional(),
      saturationDetector: saturationDetectorSpec.optional(),
      enableEviction: z.boolean().optional(),
    })
    .optional(),
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

/** What an EndpointPickerConfig says beyond the scheduler; the service applies it over its own config. */
export interface PickerSettings {
  readonly featureGates: ReadonlyMap<string, boolean>;
  /** The metrics source to scrape with; null when `dataLayer.injectDefaults: false` left none. */
  readonly metricsSource: MetricsSourceSettings | null;
  readonly metricsExtractor: MetricsExtractorSettings | undefined;
  /** A `models-data-source` is configured: poll `/v1/models`. */
  readonly modelsSource: boolean;
  /** Saturation thresholds the config set (legacy section or utilization-detector parameters). */
  readonly saturation: {
    readonly queueDepthThreshold?: number;
    readonly kvCacheUtilThreshold?: number;
    readonly metricsStalenessThresholdMs?: number;
    readonly headroom?: number;
  };
  /** Flow control when the `flowControl` gate is on. */
  readonly flowControl:
    | { readonly maxBytes?: number; readonly maxRequests?: number; readonly defaultRequestTtlMs?: number }
    | undefined;
  /** Parser plugins named by `parser` / `requestHandler.parsers` (see config-plugins.ts). */
  readonly parsers: readonly string[];
  /** Deprecations and settings accepted but ignored, to log at startup. */
  readonly notes: readonly string[];
}

export type LoadResult =
  | { readonly scheduler: Scheduler; readonly config: EndpointPickerConfig; readonly settings: PickerSettings }
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
  const errors = featureGateErrors(value.featureGates);
  if (errors.length > 0) return { errors };
  if (value.plugins.length === 0 && value.schedulingProfiles.length === 0) {
    return { value: { ...defaultEndpointPickerConfig, ...withoutScheduling(value) } };
  }
  return { value };
}

function withoutScheduling(c: EndpointPickerConfig): Partial<EndpointPickerConfig> {
  const { plugins: _p, schedulingProfiles: _s, apiVersion: _a, kind: _k, ...rest } = c;
  return rest;
}

/** `name` or `name=bool`, with the name one of `knownFeatureGates` (upstream validateFeatureGates). */
function featureGateErrors(gates: readonly string[]): string[] {
  const errors: string[] = [];
  gates.forEach((gate, i) => {
    const [name = "", value] = gate.split("=");
    if (!knownFeatureGates.includes(name)) {
      errors.push(`featureGates[${i}]: unknown feature gate "${name}" (known: ${knownFeatureGates.join(", ")})`);
    } else if (value !== undefined && !["true", "false"].includes(value.trim().toLowerCase())) {
      errors.push(`featureGates[${i}]: "${value}" is not a valid value for the feature gate ${name}`);
    }
  });
  return errors;
}

function featureGateMap(gates: readonly string[]): Map<string, boolean> {
  const map = new Map<string, boolean>();
  for (const gate of gates) {
    const [name = "", value] = gate.split("=");
    map.set(name, value === undefined || value.trim().toLowerCase() === "true");
  }
  return map;
}

/** Phase 2: instantiate plugins, resolve every reference, build the scheduler and the settings. */
export function instantiateEndpointPickerConfig(config: EndpointPickerConfig, options: LoadOptions = {}): LoadResult {
  const registry = options.registry ?? registerBuiltins(createPluginRegistry());
  const errors: string[] = [];
  const notes: string[] = [];
  const plugins = new Map<string, AnyPlugin>();
  const specAt = new Map<string, number>();

  // Config-only plugins (producers, sources, ...) first, so a scorer finds its producer in any order.
  const order = config.plugins
    .map((spec, i) => ({ spec, i }))
    .sort((a, b) => Number(!isConfigType(a.spec.type)) - Number(!isConfigType(b.spec.type)) || a.i - b.i);
  for (const { spec, i } of order) {
    const name = spec.name ?? spec.type;
    const factory = registry.get(spec.type);
    if (specAt.has(name)) errors.push(`plugins[${i}].name: duplicate plugin name "${name}"`);
    else if (!factory) errors.push(`plugins[${i}].type: unknown plugin type "${spec.type}"`);
    else {
      specAt.set(name, i);
      const made = factory(name, spec.parameters, { plugin: (n) => plugins.get(n) });
      if ("error" in made) errors.push(`plugins[${i}].parameters: ${made.error}`);
      else plugins.set(name, made.plugin);
    }
  }
  if (errors.length > 0) return { errors };
  if (config.apiVersion === "inference.networking.x-k8s.io/v1alpha1" && config !== defaultEndpointPickerConfig) {
    notes.push(
      "apiVersion inference.networking.x-k8s.io/v1alpha1 is deprecated upstream; llm-d.ai/v1alpha1 replaces it",
    );
  }

  const profiles = buildProfiles(config, plugins, errors);
  const profileHandler = chooseProfileHandler(plugins, profiles.length, errors);
  const settings = buildSettings(config, plugins, errors, notes);
  if (errors.length > 0 || !profileHandler || !settings) return { errors };
  const scheduler = createScheduler({ profiles, plugins, profileHandler, observe: options.observe });
  return { scheduler, config, settings };
}

/** Built-in config-only types have no dependencies and are instantiated first. */
function isConfigType(type: string): boolean {
  return Object.hasOwn(configPluginFactories, type);
}

function isConfigPlugin(p: AnyPlugin): p is ConfigPlugin {
  return !["filter", "scorer", "picker", "profile-handler"].includes(p.kind);
}

function buildProfiles(config: EndpointPickerConfig, plugins: Map<string, AnyPlugin>, errors: string[]) {
  // No profiles: one "default" with every filter, scorer and picker (upstream ensureSchedulingLayer).
  const specs: EndpointPickerConfig["schedulingProfiles"] =
    config.schedulingProfiles.length > 0
      ? config.schedulingProfiles
      : [
          {
            name: "default",
            plugins: [...plugins]
              .filter(([, p]) => p.kind === "filter" || p.kind === "scorer" || p.kind === "picker")
              .map(([pluginRef]) => ({ pluginRef })),
          },
        ];
  // A profile without a picker reuses the first configured picker, else a max-score picker.
  const sharedPicker =
    ([...plugins.values()].find((p) => p.kind === "picker") as Picker | undefined) ?? createMaxScorePicker();
  const profiles: SchedulerProfile[] = [];
  const seen = new Set<string>();
  specs.forEach((p, i) => {
    if (seen.has(p.name)) errors.push(`schedulingProfiles[${i}].name: duplicate profile "${p.name}"`);
    seen.add(p.name);
    const filters: Filter[] = [];
    const scorers: { scorer: Scorer; weight: number }[] = [];
    let picker: Picker | undefined;
    for (const [j, ref] of p.plugins.entries()) {
      const path = `schedulingProfiles[${i}].plugins[${j}].pluginRef`;
      const plugin = plugins.get(ref.pluginRef);
      if (!plugin) errors.push(`${path}: no plugin named "${ref.pluginRef}"`);
      else if (plugin.kind === "filter") filters.push(plugin);
      else if (plugin.kind === "scorer") scorers.push({ scorer: plugin, weight: ref.weight ?? 1 });
      else if (plugin.kind === "picker") {
        if (picker) errors.push(`${path}: profile "${p.name}" has a second picker "${ref.pluginRef}"`);
        else picker = plugin;
      } else {
        errors.push(`${path}: "${ref.pluginRef}" is a ${plugin.kind}, not a filter, scorer or picker`);
      }
    }
    profiles.push({ name: p.name, filters, scorers, picker: picker ?? sharedPicker });
  });
  return profiles;
}

/** Exactly one handler; single-profile-handler by default for one profile (upstream rules). */
function chooseProfileHandler(
  plugins: Map<string, AnyPlugin>,
  profileCount: number,
  errors: string[],
): ProfileHandler | undefined {
  const handlers = [...plugins.values()].filter((p): p is ProfileHandler => p.kind === "profile-handler");
  if (handlers.length > 1) {
    errors.push(
      `plugins: multiple profile handlers (${handlers.map((h) => h.typedName.name).join(", ")}); only one is allowed`,
    );
    return undefined;
  }
  const handler = handlers[0];
  if (!handler) {
    if (profileCount === 1) return createSingleProfileHandler();
    errors.push(
      `schedulingProfiles: ${profileCount} profiles need a profile handler plugin (header-profile-handler chooses one by request header)`,
    );
    return undefined;
  }
  if (handler.typedName.type === singleProfileHandlerType && profileCount > 1) {
    errors.push(`plugins: ${singleProfileHandlerType} cannot support multiple scheduling profiles (${profileCount})`);
    return undefined;
  }
  return handler;
}

function buildSettings(
  config: EndpointPickerConfig,
  plugins: Map<string, AnyPlugin>,
  errors: string[],
  notes: string[],
): PickerSettings | undefined {
  const gates = featureGateMap(config.featureGates);
  const configPlugin = (name: string, kind: ConfigPlugin["kind"], path: string): ConfigPlugin | undefined => {
    const p = plugins.get(name);
    if (!p) errors.push(`${path}: no plugin named "${name}"`);
    else if (p.kind !== kind) errors.push(`${path}: "${name}" is a ${p.kind}, not a ${kind}`);
    else return p;
    return undefined;
  };

  // Parsers: a ref names a configured parser or a parser type (instantiated with defaults upstream).
  const parserRefs = [
    ...(config.requestHandler?.parsers ?? []).map((r, i) => ({
      ref: r.pluginRef,
      path: `requestHandler.parsers[${i}].pluginRef`,
    })),
  ];
  if (config.parser) {
    notes.push("parser is deprecated upstream; requestHandler.parsers replaces it");
    if (parserRefs.length === 0) parserRefs.push({ ref: config.parser.pluginRef, path: "parser.pluginRef" });
  }
  const parsers: string[] = [];
  for (const { ref, path } of parserRefs) {
    const p = plugins.get(ref);
    if (p ? p.kind === "parser" : parserTypes.has(ref)) parsers.push(ref);
    else errors.push(`${path}: "${ref}" is not a parser plugin`);
  }

  // Data layer: the metrics source in dataLayer.sources, else the one named metrics-data-source,
  // else defaults, unless injectDefaults: false.
  const dl = config.dataLayer;
  let metricsSource: MetricsSourceSettings | null | undefined;
  let metricsExtractor: MetricsExtractorSettings | undefined;
  let modelsSource = false;
  for (const [i, source] of (dl?.sources ?? []).entries()) {
    const p = configPlugin(source.pluginRef, "data-source", `dataLayer.sources[${i}].pluginRef`);
    const m = settingsOf<MetricsSourceSettings>(p, metricsDataSourceType);
    if (m) metricsSource ??= m;
    if (p?.typedName.type === modelsDataSourceType) modelsSource = true;
    for (const [j, e] of source.extractors.entries()) {
      const x = configPlugin(e.pluginRef, "data-extractor", `dataLayer.sources[${i}].extractors[${j}].pluginRef`);
      metricsExtractor ??= settingsOf<MetricsExtractorSettings>(x, metricsExtractorType);
    }
  }
  for (const key of ["discovery", "peerDiscovery"] as const) {
    if (dl?.[key]) errors.push(`dataLayer.${key}: not supported; endpoints come from the service's endpoints section`);
  }
  if (dl?.crossReplicaSyncerPluginRef) {
    errors.push("dataLayer.crossReplicaSyncerPluginRef: not supported; each picker replica scrapes on its own");
  }
  const byType = (type: string) =>
    [...plugins.values()].find((p): p is ConfigPlugin => p.typedName.type === type && isConfigPlugin(p));
  if (metricsSource === undefined) {
    metricsSource =
      dl?.injectDefaults === false
        ? null
        : (settingsOf<MetricsSourceSettings>(byType(metricsDataSourceType), metricsDataSourceType) ??
          metricsSourceSchema.parse({}));
  }
  metricsExtractor ??= settingsOf<MetricsExtractorSettings>(byType(metricsExtractorType), metricsExtractorType);
  const models = byType(modelsDataSourceType);
  if (models) modelsSource = true;
  if (models && Object.keys(models.settings).length > 0) {
    notes.push("models-data-source parameters are not applied: /v1/models is polled every metrics.modelsIntervalMs");
  }

  // Saturation detector: flowControl.saturationDetector wins over the deprecated top-level one.
  if (config.saturationDetector)
    notes.push("saturationDetector is deprecated upstream; flowControl.saturationDetector replaces it");
  const [detector, detectorPath] = config.flowControl?.saturationDetector
    ? [config.flowControl.saturationDetector, "flowControl.saturationDetector"]
    : [config.saturationDetector, "saturationDetector"];
  let saturation: PickerSettings["saturation"] = {};
  if (detector) {
    const { pluginRef: ref, ...inline } = detector;
    if (ref !== undefined && Object.keys(inline).length > 0) {
      errors.push(`${detectorPath}: pluginRef and inline thresholds are exclusive`);
    } else if (ref !== undefined) {
      const p = plugins.get(ref);
      const s = p
        ? settingsOf<UtilizationDetectorSettings>(p as ConfigPlugin, utilizationDetectorType)
        : ref === utilizationDetectorType
          ? {}
          : undefined;
      if (!s) errors.push(`${detectorPath}.pluginRef: "${ref}" is not a ${utilizationDetectorType} plugin`);
      else saturation = detectorSettings(s);
    } else {
      saturation = detectorSettings(inline);
    }
  } else {
    const p = byType(utilizationDetectorType);
    if (p) saturation = detectorSettings(p.settings as UtilizationDetectorSettings);
  }

  // Flow control: on with the gate (upstream); its settings are ignored without it.
  const fc = config.flowControl;
  let flowControl: PickerSettings["flowControl"];
  if (gates.get("flowControl")) {
    const ttl = fc?.defaultRequestTTL === undefined ? undefined : parseGoDurationMs(fc.defaultRequestTTL);
    flowControl = {
      ...(fc?.maxBytes === undefined ? {} : { maxBytes: parseQuantity(fc.maxBytes) as number }),
      ...(fc?.maxRequests === undefined ? {} : { maxRequests: parseQuantity(fc.maxRequests) as number }),
      ...(ttl === undefined ? {} : { defaultRequestTtlMs: ttl }),
    };
    if (fc?.usageLimitPolicyPluginRef) {
      errors.push("flowControl.usageLimitPolicyPluginRef: usage-limit policies are not supported");
    }
    if (fc?.enableEviction) errors.push("flowControl.enableEviction: eviction is not supported");
    for (const [i, band] of (fc?.priorityBands ?? []).entries()) {
      for (const key of ["fairnessPolicyRef", "orderingPolicyRef"] as const) {
        const ref = band[key];
        if (ref) configPlugin(ref, "flow-policy", `flowControl.priorityBands[${i}].${key}`);
      }
    }
    if ((fc?.priorityBands ?? []).some((b) => b.maxBytes !== undefined || b.maxRequests !== undefined)) {
      notes.push(
        "flowControl.priorityBands[].maxBytes/maxRequests: per-band limits are not enforced; the global limits are",
      );
    }
  } else if (fc && Object.keys(fc).some((k) => k !== "saturationDetector" && k !== "priorityBands")) {
    notes.push("flowControl settings are ignored: the flowControl feature gate is off (as upstream)");
  }

  if (errors.length > 0) return undefined;
  return {
    featureGates: gates,
    metricsSource,
    metricsExtractor,
    modelsSource,
    saturation,
    flowControl,
    parsers,
    notes,
  };
}

function detectorSettings(s: UtilizationDetectorSettings): PickerSettings["saturation"] {
  const staleness =
    s.metricsStalenessThreshold === undefined ? undefined : parseGoDurationMs(s.metricsStalenessThreshold);
  return {
    ...(s.queueDepthThreshold === undefined ? {} : { queueDepthThreshold: s.queueDepthThreshold }),
    ...(s.kvCacheUtilThreshold === undefined ? {} : { kvCacheUtilThreshold: s.kvCacheUtilThreshold }),
    ...(staleness === undefined ? {} : { metricsStalenessThresholdMs: staleness }),
    ...(s.headroom === undefined ? {} : { headroom: s.headroom }),
  };
}

/** Both phases. */
export function loadEndpointPickerConfig(text: string | undefined, options: LoadOptions = {}): LoadResult {
  const decoded = decodeEndpointPickerConfig(text);
  if ("errors" in decoded) return decoded;
  return instantiateEndpointPickerConfig(decoded.value, options);
}
