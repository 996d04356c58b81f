import type { InflightTracker } from "./inflight-tracker.js";
import { type InferenceError, inferenceError } from "./picker-error.js";
import { computeSaturation, isSaturated, type SaturationThresholds } from "./saturation-detector.js";
import type { Scheduler } from "./scheduling/scheduler.js";
import { uncachedTokensStateKey } from "./scheduling/scorer/predicted-ttft/predicted-ttft.js";
import type { Endpoint, SchedulingRequest, ScoredEndpoint } from "./scheduling/types.js";

/** Expected output tokens per input token when the response size is unknown (GIE token estimator). */
export const outputTokensPerInputToken = 1.5;

export type PickOutcome =
  | {
      readonly targets: readonly Endpoint[];
      /** The primary profile's scored candidates (absent for a random pick). */
      readonly scored?: readonly ScoredEndpoint[];
    }
  | { readonly error: InferenceError };

export interface RequestControlOptions {
  readonly scheduler: Scheduler;
  readonly inflight: InflightTracker;
  readonly saturation: SaturationThresholds;
  /** Injected clock (ms). */
  readonly clock: () => number;
  /** Injected RNG in [0, 1). */
  readonly random: () => number;
  /** Primary + fallbacks returned by pickers without their own `maxNumOfEndpoints`. */
  readonly maxEndpoints: number;
  /** Called with every computed pool saturation (for the gauge). */
  readonly onSaturation?: (saturation: number) => void;
}

export interface RequestControl {
  /** Admission (shedding) -> scheduling -> pre-request hooks -> in-flight accounting. */
  pick(request: SchedulingRequest, candidates: readonly Endpoint[]): PickOutcome;
  /** Random endpoint among candidates (header-only requests, as GIE). */
  pickRandom(request: SchedulingRequest, candidates: readonly Endpoint[]): PickOutcome;
  /** Whether the candidates are saturated now (flow-control dispatch gate). */
  saturated(candidates: readonly Endpoint[]): boolean;
}

export function createRequestControl(o: RequestControlOptions): RequestControl {
  function saturation(candidates: readonly Endpoint[]): number {
    const s = computeSaturation(candidates, o.saturation, o.clock());
    o.onSaturation?.(s);
    return s;
  }
  function track(request: SchedulingRequest, target: Endpoint, prefillTokens: number): void {
    o.inflight.start(request.requestId, target.id, {
      tokens: Math.round(request.promptTokens * (1 + outputTokensPerInputToken)),
      prefillTokens,
      ...(request.targetModel === "" ? {} : { model: request.targetModel }),
    });
  }
  return {
    saturated: (candidates) => isSaturated(saturation(candidates)),
    pick(request, candidates) {
      if (candidates.length === 0) {
        return {
          error: inferenceError("ServiceUnavailable", "failed to find endpoint candidates for serving the request"),
        };
      }
      if (request.priority < 0 && isSaturated(saturation(candidates))) {
        return { error: inferenceError("ResourceExhausted", "system saturated, sheddable request dropped") };
      }
      const nowMs = o.clock();
      const result = o.scheduler.schedule(
        { nowMs, random: o.random, maxEndpoints: o.maxEndpoints },
        request,
        candidates,
      );
      if ("error" in result)
        return { error: inferenceError("ResourceExhausted", `failed to find target endpoint: ${result.error}`) };
      const primary = result.targets[0] as Endpoint;
      o.scheduler.preRequest(request, result.targets, nowMs);
      const uncached = result.state.get(uncachedTokensStateKey) as Map<string, number> | undefined;
      track(request, primary, uncached?.get(primary.id) ?? request.promptTokens);
      return { targets: result.targets, scored: result.scores };
    },
    pickRandom(request, candidates) {
      if (candidates.length === 0) return { error: inferenceError("Internal", "no pods available in datastore") };
      const target = candidates[Math.floor(o.random() * candidates.length)] as Endpoint;
      track(request, target, 0);
      return { targets: [target] };
    },
  };
}
