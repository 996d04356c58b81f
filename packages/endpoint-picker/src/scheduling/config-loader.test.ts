import { describe, expect, it } from "vitest";
import { context, endpoint, request } from "../endpoints.testdata.js";
import { decodeEndpointPickerConfig, defaultEndpointPickerConfig, loadEndpointPickerConfig } from "./config-loader.js";

describe("loadEndpointPickerConfig()", () => {
  it("gives GIE defaults for empty text: queue 2, kv 2, prefix 3, max-score picker", () => {
    const r = loadEndpointPickerConfig("");
    if ("errors" in r) throw new Error(r.errors.join());
    const p = r.scheduler.profiles[0]!;
    expect(p.scorers.map((s) => [s.scorer.typedName.type, s.weight])).toEqual([
      ["queue-scorer", 2],
      ["kv-cache-utilization-scorer", 2],
      ["prefix-cache-scorer", 3],
    ]);
    expect(p.picker.typedName.type).toBe("max-score-picker");
    expect(r.config).toEqual(defaultEndpointPickerConfig);
  });

  it("loads plugins, names, parameters and weights", () => {
    const r = loadEndpointPickerConfig(`
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: utilization-filter
    parameters: { queueDepthThreshold: 10 }
  - name: tokens
    type: token-load-scorer
    parameters: { queueThresholdTokens: 1000 }
  - type: weighted-random-picker
    parameters: { maxNumOfEndpoints: 2 }
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: utilization-filter
      - pluginRef: tokens
        weight: 5
      - pluginRef: weighted-random-picker
`);
    if ("errors" in r) throw new Error(r.errors.join());
    const p = r.scheduler.profiles[0]!;
    expect(p.filters.map((f) => f.typedName.type)).toEqual(["utilization-filter"]);
    expect(p.scorers.map((s) => [s.scorer.typedName.name, s.weight])).toEqual([["tokens", 5]]);
    expect(p.picker.typedName.type).toBe("weighted-random-picker");
    const out = r.scheduler.schedule(context([0.3]), request(), [endpoint("10.0.0.1:8000"), endpoint("10.0.0.2:8000")]);
    expect("targets" in out && out.targets).toHaveLength(2);
  });

  it("gives weight 1 to unweighted scorers and appends a max-score picker", () => {
    const r = loadEndpointPickerConfig("plugins:\n  - type: queue-scorer\n");
    if ("errors" in r) throw new Error(r.errors.join());
    expect(r.scheduler.profiles[0]!.scorers[0]!.weight).toBe(1);
    expect(r.scheduler.profiles[0]!.picker.typedName.type).toBe("max-score-picker");
  });

  it.each([
    { name: "unknown type", yaml: "plugins:\n  - type: nope\n", error: 'plugins[0].type: unknown plugin type "nope"' },
    {
      name: "bad parameters",
      yaml: "plugins:\n  - type: token-load-scorer\n    parameters: { queueThresholdTokens: 0 }\n",
      error: "plugins[0].parameters: queueThresholdTokens: Too small: expected number to be >0",
    },
    {
      name: "duplicate names",
      yaml: "plugins:\n  - type: queue-scorer\n  - type: queue-scorer\n",
      error: 'plugins[1].name: duplicate plugin name "queue-scorer"',
    },
    {
      name: "dangling pluginRef",
      yaml: "plugins:\n  - type: queue-scorer\nschedulingProfiles:\n  - name: a\n    plugins:\n      - pluginRef: ghost\n",
      error: 'schedulingProfiles[0].plugins[0].pluginRef: no plugin named "ghost"',
    },
    {
      name: "two pickers",
      yaml: "plugins:\n  - type: random-picker\n  - type: max-score-picker\nschedulingProfiles:\n  - name: a\n    plugins:\n      - pluginRef: random-picker\n      - pluginRef: max-score-picker\n",
      error: 'schedulingProfiles[0].plugins[1].pluginRef: profile "a" has a second picker "max-score-picker"',
    },
    {
      name: "missing profile name (decode phase)",
      yaml: "schedulingProfiles:\n  - plugins: []\n",
      error: "schedulingProfiles[0].name: Invalid input: expected string, received undefined",
    },
    { name: "unknown top-level key", yaml: "pluginz: []\n", error: '(root): Unrecognized key: "pluginz"' },
  ])("reports $name with its path", ({ yaml, error }) => {
    expect(loadEndpointPickerConfig(yaml)).toEqual({ errors: [error] });
  });

  it("reports invalid YAML", () => {
    const r = decodeEndpointPickerConfig("plugins: [");
    expect("errors" in r && r.errors[0]).toMatch(/^invalid YAML: /);
  });
});
