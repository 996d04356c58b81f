import { describe, expect, it } from "vitest";
import { endpoint, request } from "./endpoints.testdata.js";
import { createInflightTracker } from "./inflight-tracker.js";
import { createRequestControl } from "./request-control.js";
import { defaultSaturationThresholds } from "./saturation-detector.js";
import { loadEndpointPickerConfig } from "./scheduling/config-loader.js";
import { createMaxScorePicker } from "./scheduling/picker/max-score/max-score.js";
import { createScheduler } from "./scheduling/scheduler.js";
import type { Filter } from "./scheduling/types.js";

function setup(yaml = "", maxEndpoints = 1) {
  const loaded = loadEndpointPickerConfig(yaml);
  if ("errors" in loaded) throw new Error(loaded.errors.join());
  const inflight = createInflightTracker();
  const control = createRequestControl({
    scheduler: loaded.scheduler,
    inflight,
    saturation: defaultSaturationThresholds,
    clock: () => 1000,
    random: () => 0,
    maxEndpoints,
  });
  return { control, inflight };
}

const idle = endpoint("10.0.0.1:8000");
const busy = endpoint("10.0.0.2:8000", { waitingQueueSize: 10, kvCacheUsage: 0.9 });

describe("createRequestControl()", () => {
  it("picks the least loaded endpoint with the default config and counts it in flight", () => {
    const { control, inflight } = setup();
    const out = control.pick(request({ promptTokens: 100 }), [busy, idle]);
    expect("targets" in out && out.targets.map((t) => t.id)).toEqual([idle.id]);
    expect(inflight.load(idle.id)).toEqual({
      requests: 1,
      tokens: 250,
      prefillTokens: 100,
      prefillRequests: 1,
      models: new Map([["m", 1]]),
    });
  });

  it("returns primary then fallbacks", () => {
    const { control } = setup("", 2);
    const out = control.pick(request(), [busy, idle]);
    expect("targets" in out && out.targets.map((t) => t.id)).toEqual([idle.id, busy.id]);
  });

  it("answers 503 when there are no candidates", () => {
    const { control } = setup();
    expect(control.pick(request(), [])).toEqual({
      error: {
        code: "ServiceUnavailable",
        status: 503,
        message: "inference error: ServiceUnavailable - failed to find endpoint candidates for serving the request",
      },
    });
  });

  it("sheds a sheddable request (priority < 0) when the pool is saturated (429)", () => {
    const { control } = setup();
    expect(control.pick(request({ priority: -1 }), [busy])).toEqual({
      error: {
        code: "ResourceExhausted",
        status: 429,
        message: "inference error: ResourceExhausted - system saturated, sheddable request dropped",
      },
    });
  });

  it("does not shed critical requests or sheddable ones on an unsaturated pool", () => {
    const { control } = setup();
    expect(control.pick(request({ priority: 0 }), [busy])).toHaveProperty("targets");
    const light = endpoint("10.0.0.3:8000", { waitingQueueSize: 3 });
    expect(control.pick(request({ requestId: "r2", priority: -1 }), [idle, light])).toHaveProperty("targets");
  });

  it("answers 429 when the scheduler finds no endpoint", () => {
    const none: Filter = { kind: "filter", typedName: { type: "none", name: "none" }, filter: () => [] };
    const control = createRequestControl({
      scheduler: createScheduler({
        profiles: [{ name: "p", filters: [none], scorers: [], picker: createMaxScorePicker() }],
        plugins: new Map(),
      }),
      inflight: createInflightTracker(),
      saturation: defaultSaturationThresholds,
      clock: () => 1000,
      random: () => 0,
      maxEndpoints: 1,
    });
    expect(control.pick(request(), [idle])).toEqual({
      error: {
        code: "ResourceExhausted",
        status: 429,
        message:
          "inference error: ResourceExhausted - failed to find target endpoint: no endpoints available after filter none",
      },
    });
  });

  it("picks at random for header-only requests and 500s with no endpoints", () => {
    const { control } = setup();
    expect(control.pickRandom(request(), [idle, busy])).toEqual({ targets: [idle] });
    expect(control.pickRandom(request(), [])).toEqual({
      error: { code: "Internal", status: 500, message: "inference error: Internal - no pods available in datastore" },
    });
  });
});
