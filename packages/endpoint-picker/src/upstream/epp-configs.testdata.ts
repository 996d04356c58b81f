/**
 * EndpointPickerConfig files written for this repository in the shapes GIE and llm-d-router ship
 * (the inferencepool chart default, GIE's built-in default and data-layer test configs, llm-d's
 * deploy/config samples): the same plugin types, parameters and sections, not copies.
 */
export const eppConfigShapes: Readonly<Record<string, string>> = {
  "gie-chart-default": `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: metrics-data-source
  parameters: { scheme: "http", path: "/metrics", insecureSkipVerify: true }
- type: core-metrics-extractor
schedulingProfiles:
- name: default
  plugins:
  - { pluginRef: queue-scorer, weight: 2 }
  - { pluginRef: kv-cache-utilization-scorer, weight: 2 }
  - { pluginRef: prefix-cache-scorer, weight: 3 }
`,
  "gie-builtin-default": `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: lora-affinity-scorer
- type: openai-parser
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: kv-cache-utilization-scorer
  - pluginRef: prefix-cache-scorer
  - pluginRef: lora-affinity-scorer
parser:
  pluginRef: openai-parser
featureGates:
- enableLegacyMetrics
`,
  "gie-datalayer": `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: openai-parser
- name: scrape
  type: metrics-data-source
  parameters: { path: "/stats" }
- name: extract
  type: core-metrics-extractor
schedulingProfiles:
- name: default
  plugins: [{ pluginRef: queue-scorer }]
requestHandler:
  parsers: [{ pluginRef: openai-parser }]
dataLayer:
  sources:
  - pluginRef: scrape
    extractors: [{ pluginRef: extract }]
featureGates: [dataLayer=true]
saturationDetector:
  queueDepthThreshold: 7
  metricsStalenessThreshold: 150ms
`,
  "llmd-chart-default-sglang": `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: metrics-data-source
  parameters: { scheme: "http", path: "/metrics", insecureSkipVerify: true }
- type: core-metrics-extractor
  parameters: { defaultEngine: "sglang" }
schedulingProfiles:
- name: default
  plugins:
  - { pluginRef: queue-scorer, weight: 2 }
  - { pluginRef: kv-cache-utilization-scorer, weight: 2 }
  - { pluginRef: prefix-cache-scorer, weight: 3 }
`,
  "llmd-decode-prefix": `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefix-cache-scorer
- type: decode-filter
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - { pluginRef: prefix-cache-scorer, weight: 2 }
`,
  "llmd-estimate-load-aware": `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: single-profile-handler
- type: decode-filter
- type: prefix-cache-scorer
- type: load-aware-scorer
  parameters: { threshold: 64 }
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: decode-filter
  - { pluginRef: prefix-cache-scorer, weight: 1.0 }
  - { pluginRef: load-aware-scorer, weight: 1.0 }
  - pluginRef: max-score-picker
`,
  "llmd-sim-approx-producer": `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefix-cache-scorer
  parameters: { prefixMatchInfoProducerName: approx-prefix-cache-producer }
- type: approx-prefix-cache-producer
  parameters: { maxPrefixTokensToMatch: 8192, lruCapacityPerServer: 1000 }
- type: decode-filter
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - { pluginRef: prefix-cache-scorer, weight: 2 }
`,
  "llmd-flow-control": `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins:
- type: queue-scorer
- name: detector
  type: utilization-detector
  parameters: { queueDepthThreshold: 3, kvCacheUtilThreshold: 0.9, headroom: 0.1 }
- type: round-robin-fairness-policy
schedulingProfiles:
- name: default
  plugins: [{ pluginRef: queue-scorer }]
flowControl:
  maxRequests: 2k
  maxBytes: 64Mi
  defaultRequestTTL: 5s
  saturationDetector: { pluginRef: detector }
  priorityBands: [{ priority: 0, fairnessPolicyRef: round-robin-fairness-policy }]
`,
  "llmd-header-profiles": `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: header-profile-handler
  parameters: { headerName: x-profile, defaultProfile: decode }
- type: decode-filter
- type: prefill-filter
- type: queue-scorer
schedulingProfiles:
- name: decode
  plugins: [{ pluginRef: decode-filter }, { pluginRef: queue-scorer }]
- name: prefill
  plugins: [{ pluginRef: prefill-filter }, { pluginRef: queue-scorer }]
`,
};
