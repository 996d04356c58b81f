import { seededRandom } from "@llm-callouts/random";

/**
 * The endpoint picker's real scheduling code (request control, scheduler, plugins,
 * in-flight accounting) as routing policies for the model-server-sim DES harness.
 */

import { splitHostPort } from "../../packages/endpoint-picker/src/candidates.js";
import {
  type Endpoint,
  loadEndpointPickerConfig,
  type SchedulingRequest,
} from "../../packages/endpoint-picker/src/index.js";
import { createInflightTracker, type InflightTracker } from "../../packages/endpoint-picker/src/inflight-tracker.js";
import { createRequestControl } from "../../packages/endpoint-picker/src/request-control.js";
import { defaultSaturationThresholds } from "../../packages/endpoint-picker/src/saturation-detector.js";
import type {
  EndpointView,
  PolicyContext,
  PolicyFactory,
  RoutingPolicy,
  SimRequest,
} from "../../packages/model-server-sim/src/des/types.js";

function toEndpoint(view: EndpointView, inflight: InflightTracker): Endpoint {
  const { host, port } = splitHostPort(view.id);
  const m = view.metrics;
  return {
    id: view.id,
    address: host,
    port: port ?? 8000,
    engine: "vllm",
    labels: {},
    inflight: inflight.load(view.id),
    metrics: {
      waitingQueueSize: m.waiting,
      runningRequests: m.running,
      kvCacheUsage: m.kvCacheUsage,
      activeModels: new Set(m.runningLoras),
      waitingModels: new Set(m.waitingLoras),
      maxActiveModels: m.maxLoras,
      blockSizeTokens: m.blockSize,
      numGpuBlocks: m.numGpuBlocks,
      updatedAtMs: m.scrapedAtMs,
    },
  };
}

/** A DES policy running the picker with the given EndpointPickerConfig YAML. */
export function pickerPolicy(name: string, configYaml: (ctx: PolicyContext) => string): PolicyFactory {
  return {
    name,
    create(ctx): RoutingPolicy {
      const loaded = loadEndpointPickerConfig(configYaml(ctx));
      if ("errors" in loaded) throw new Error(`${name}: ${loaded.errors.join("; ")}`);
      const inflight = createInflightTracker();
      let now = 0;
      const control = createRequestControl({
        scheduler: loaded.scheduler,
        inflight,
        saturation: defaultSaturationThresholds,
        clock: () => now,
        random: seededRandom(ctx.seed),
        maxEndpoints: 1,
      });
      return {
        name,
        pick(req: SimRequest, view, nowMs) {
          now = nowMs;
          const request: SchedulingRequest = {
            requestId: req.id,
            targetModel: req.model,
            prompt: req.promptText,
            promptTokens: req.promptTokens,
            headers: req.headers,
            priority: 0,
          };
          const outcome = control.pick(
            request,
            view.endpoints.map((v) => toEndpoint(v, inflight)),
          );
          return "error" in outcome ? undefined : outcome.targets[0]?.id;
        },
        onFirstToken: (id) => inflight.firstToken(id),
        onComplete: (id) => {
          inflight.finish(id);
        },
      };
    },
  };
}

/** GIE's default scheduler: queue 2, KV-cache 2, prefix 3, max-score picker. */
export const referenceDefaultPolicy = pickerPolicy("reference-default", () => "");

/** EndpointPickerConfig of "ours", with optional predicted-TTFT parameter overrides (tuning). */
export function oursConfig(ctx: PolicyContext, overrides: Record<string, unknown> = {}): string {
  const params = { prefixPluginRef: "prefix-cache-scorer", baseModels: [ctx.baseModel], ...overrides };
  return `
plugins:
  - type: prefix-cache-scorer
  - type: predicted-ttft-scorer
    parameters: ${JSON.stringify(params)}
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: predicted-ttft-scorer
      - pluginRef: max-score-picker
`;
}

/** Ours: predicted-TTFT scoring (load-aware prefix and LoRA affinity from exact in-flight state). */
export const oursPolicy = pickerPolicy("ours", (ctx) => oursConfig(ctx));

export const endpointPickerPolicies: readonly PolicyFactory[] = [referenceDefaultPolicy, oursPolicy];
