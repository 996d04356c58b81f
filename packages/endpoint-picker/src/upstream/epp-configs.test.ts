import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { context, endpoint, request } from "../endpoints.testdata.js";
import { loadEndpointPickerConfig } from "../scheduling/config-loader.js";
import { createMaxScorePicker } from "../scheduling/picker/max-score/max-score.js";
import { createPluginRegistry } from "../scheduling/plugin-registry.js";
import { createSingleProfileHandler } from "../scheduling/profile-handler/single/single.js";
import { registerBuiltins } from "../scheduling/register-builtins.js";
import type { Endpoint, PluginFactory } from "../scheduling/types.js";
import { eppConfigShapes } from "./epp-configs.testdata.js";

const withRole = (id: string, role: string | undefined, waiting = 0): Endpoint => {
  const e = endpoint(id, { waitingQueueSize: waiting });
  return role === undefined ? e : { ...e, labels: { "llm-d.ai/role": role } };
};
// The prefill-only endpoint is the idlest, so a config that ignores roles would pick it.
const pool = [
  withRole("10.0.0.1:8000", "prefill", 0),
  withRole("10.0.0.2:8000", "decode", 4),
  withRole("10.0.0.3:8000", undefined, 6),
];

function loaded(yaml: string, registry = registerBuiltins(createPluginRegistry())) {
  const r = loadEndpointPickerConfig(yaml, { registry });
  if ("errors" in r) throw new Error(r.errors.join("; "));
  return r;
}

describe("EndpointPickerConfig shapes GIE and llm-d ship", () => {
  it.each(Object.keys(eppConfigShapes))("%s loads and picks", (name) => {
    const { scheduler } = loaded(eppConfigShapes[name] as string);
    const out = scheduler.schedule(context(), request({ prompt: "hello" }), pool);
    expect(out).toHaveProperty("targets");
    if ("targets" in out) expect(out.targets).toHaveLength(1);
  });

  it.each(["llmd-decode-prefix", "llmd-estimate-load-aware", "llmd-sim-approx-producer"])(
    "%s: decode-filter keeps decode and unlabelled endpoints, never a prefill-only one",
    (name) => {
      const { scheduler } = loaded(eppConfigShapes[name] as string);
      for (let i = 0; i < 5; i++) {
        const out = scheduler.schedule(context([i / 5]), request({ prompt: `p${i}` }), pool);
        if (!("targets" in out)) throw new Error(out.error);
        expect(out.targets[0]?.id).not.toBe("10.0.0.1:8000");
      }
    },
  );

  it("a queue-only GIE config picks the shortest queue (prefill label ignored without a role filter)", () => {
    const { scheduler } = loaded(eppConfigShapes["gie-datalayer"] as string);
    const out = scheduler.schedule(context(), request(), pool);
    expect("targets" in out && out.targets[0]?.id).toBe("10.0.0.1:8000");
  });

  it("data layer, parser and legacy saturation sections become settings", () => {
    const { settings } = loaded(eppConfigShapes["gie-datalayer"] as string);
    expect(settings.metricsSource).toMatchObject({ scheme: "http", path: "/stats", insecureSkipVerify: true });
    expect(settings.metricsExtractor).toEqual({ engineConfigs: [] });
    expect(settings.saturation).toEqual({ queueDepthThreshold: 7, metricsStalenessThresholdMs: 150 });
    expect(settings.parsers).toEqual(["openai-parser"]);
    expect(settings.featureGates.get("dataLayer")).toBe(true);
    expect(settings.notes.join("\n")).toContain("saturationDetector is deprecated");
    expect(settings.flowControl).toBeUndefined();
  });

  it("the flowControl gate turns on flow control with the section's quantities and the named detector", () => {
    const { settings } = loaded(eppConfigShapes["llmd-flow-control"] as string);
    expect(settings.flowControl).toEqual({ maxRequests: 2000, maxBytes: 64 * 2 ** 20, defaultRequestTtlMs: 5000 });
    expect(settings.saturation).toEqual({ queueDepthThreshold: 3, kvCacheUtilThreshold: 0.9, headroom: 0.1 });
  });

  it("without the gate the flowControl section is ignored with a note, as upstream", () => {
    const yaml = (eppConfigShapes["llmd-flow-control"] as string).replace("featureGates: [flowControl]", "");
    const { settings } = loaded(yaml);
    expect(settings.flowControl).toBeUndefined();
    expect(settings.notes.join("\n")).toContain("flowControl feature gate is off");
  });

  it("no metrics-data-source anywhere: the default one is used; injectDefaults false turns scraping off", () => {
    expect(loaded("plugins: [{type: queue-scorer}]").settings.metricsSource).toMatchObject({ path: "/metrics" });
    const off = loaded("plugins: [{type: queue-scorer}]\ndataLayer: {injectDefaults: false}");
    expect(off.settings.metricsSource).toBeNull();
  });

  it("header-profile-handler runs the profile the header names, the default without it", () => {
    const { scheduler } = loaded(eppConfigShapes["llmd-header-profiles"] as string);
    const pick = (headers: Record<string, string>) => scheduler.schedule(context(), request({ headers }), pool);
    const prefill = pick({ "x-profile": "prefill" });
    expect("targets" in prefill && [prefill.profile, prefill.targets[0]?.id]).toEqual(["prefill", "10.0.0.1:8000"]);
    const decode = pick({});
    expect("targets" in decode && [decode.profile, decode.targets[0]?.id]).toEqual(["decode", "10.0.0.2:8000"]);
    expect(pick({ "x-profile": "encode" })).toEqual({
      error: 'header-profile-handler: no scheduling profile configured for "x-profile" value "encode"',
    });
  });

  it("approx-prefix-cache-producer settings reach the prefix scorer: a repeated prompt sticks to its endpoint", () => {
    const { scheduler } = loaded(eppConfigShapes["llmd-sim-approx-producer"] as string);
    const prompt = "x".repeat(4000);
    const first = scheduler.schedule(context([0.9]), request({ prompt }), pool);
    if (!("targets" in first)) throw new Error(first.error);
    scheduler.preRequest(request({ prompt }), first.targets, 1000);
    for (const r of [0.1, 0.5, 0.9]) {
      const again = scheduler.schedule(context([r]), request({ prompt }), pool);
      expect("targets" in again && again.targets[0]?.id).toBe(first.targets[0]?.id);
    }
  });
});

describe("EndpointPickerConfig errors name their path", () => {
  it.each([
    ["featureGates: [fancyGate]\nplugins: [{type: queue-scorer}]", "featureGates[0]: unknown feature gate"],
    [
      "featureGates: [flowControl=maybe]\nplugins: [{type: queue-scorer}]",
      'featureGates[0]: "maybe" is not a valid value',
    ],
    ["apiVersion: example.com/v1\nplugins: [{type: queue-scorer}]", "apiVersion"],
    ["plugins: [{type: vllmgrpc-parser}]", 'plugins[0].type: unknown plugin type "vllmgrpc-parser"'],
    [
      "plugins: [{type: single-profile-handler}, {type: queue-scorer}]\nschedulingProfiles: [{name: a, plugins: [{pluginRef: queue-scorer}]}, {name: b}]",
      "single-profile-handler cannot support multiple scheduling profiles",
    ],
    [
      "plugins: [{type: queue-scorer}]\nschedulingProfiles: [{name: a}, {name: b}]",
      "schedulingProfiles: 2 profiles need a profile handler",
    ],
    [
      "plugins: [{type: single-profile-handler}, {name: h2, type: header-profile-handler}]",
      "multiple profile handlers (single-profile-handler, h2)",
    ],
    [
      "plugins: [{type: prefix-cache-scorer, parameters: {prefixMatchInfoProducerName: nope}}]",
      'plugins[0].parameters: prefixMatchInfoProducerName: no plugin named "nope"',
    ],
    [
      "plugins: [{type: openai-parser}]\nschedulingProfiles: [{name: d, plugins: [{pluginRef: openai-parser}]}]",
      'schedulingProfiles[0].plugins[0].pluginRef: "openai-parser" is a parser, not a filter, scorer or picker',
    ],
    [
      "plugins: [{type: queue-scorer}]\nparser: {pluginRef: queue-scorer}",
      'parser.pluginRef: "queue-scorer" is not a parser plugin',
    ],
    [
      "plugins: [{type: queue-scorer}]\ndataLayer: {sources: [{pluginRef: queue-scorer}]}",
      'dataLayer.sources[0].pluginRef: "queue-scorer" is a scorer, not a data-source',
    ],
    ["plugins: [{type: metrics-data-source, parameters: {scheme: ftp}}]", "plugins[0].parameters: scheme"],
    [
      "saturationDetector: {metricsStalenessThreshold: soon}\nplugins: [{type: queue-scorer}]",
      "saturationDetector.metricsStalenessThreshold",
    ],
  ])("%s", (yaml, message) => {
    const r = loadEndpointPickerConfig(yaml);
    expect("errors" in r && r.errors.join("; ")).toContain(message);
  });
});

/**
 * The real upstream files, when a directory of them is given (UPSTREAM_EPP_CONFIGS). GIE's own
 * loader and integration tests register test-only plugin types before loading some of them
 * (test-one, test-picker, mock-metrics-source, ...); this test registers stand-ins of the same kinds.
 */
const upstreamDir = process.env.UPSTREAM_EPP_CONFIGS;
describe.skipIf(!upstreamDir)("upstream EndpointPickerConfig files (UPSTREAM_EPP_CONFIGS)", () => {
  const registry = registerBuiltins(createPluginRegistry());
  const accept: PluginFactory = (name) => ({
    plugin: { kind: "filter", typedName: { type: "test-filter", name }, filter: (_c, _s, _r, e) => e },
  });
  const config =
    (kind: "data-source" | "data-extractor"): PluginFactory =>
    (name) => ({
      plugin: { kind, typedName: { type: `test-${kind}`, name }, settings: {} },
    });
  registry.register("test-one", accept);
  registry.register("test-plugin", accept);
  const flatScorer: PluginFactory = (name) => ({
    plugin: {
      kind: "scorer",
      category: "distribution",
      typedName: { type: "test-scorer", name },
      score: (_c, _s, _r, e) => new Map(e.map((x) => [x, 0.5])),
    },
  });
  registry.register("test-two", flatScorer);
  registry.register("test-scorer", flatScorer);
  registry.register("test-picker", (name) => ({
    plugin: { ...createMaxScorePicker(), typedName: { type: "test-picker", name } },
  }));
  registry.register("test-profile-handler", (name) => ({ plugin: createSingleProfileHandler(name) }));
  registry.register("test-source", config("data-source"));
  registry.register("test-extractor", config("data-extractor"));
  registry.register("mock-metrics-source", config("data-source"));
  const files = upstreamDir ? readdirSync(upstreamDir).filter((f) => /\.ya?ml$/.test(f)) : [];

  it("finds the files", () => expect(files.length).toBeGreaterThan(0));
  it.each(files)("%s loads and picks", (file) => {
    const { scheduler } = loaded(readFileSync(join(upstreamDir as string, file), "utf8"), registry);
    const out = scheduler.schedule(context(), request({ prompt: "hello" }), pool);
    if (!("targets" in out)) throw new Error(out.error);
    expect(out.targets).toHaveLength(1);
  });
});
