import type {
  AnyPlugin,
  CycleState,
  Endpoint,
  Filter,
  Picker,
  SchedulingContext,
  SchedulingRequest,
  ScoredEndpoint,
  Scorer,
} from "./types.js";
import { isEndpointLifecycleHook, isPreRequestHook } from "./types.js";

/** A scorer with its weight in a profile. */
export interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

/** Filters, weighted scorers and one picker. */
export interface SchedulerProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
}

/** Result of one scheduling cycle: targets (primary first) or why none was found. */
export type ScheduleResult =
  | { readonly targets: readonly Endpoint[]; readonly scores: readonly ScoredEndpoint[]; readonly state: CycleState }
  | { readonly error: string };

/** Observes plugin calls (for the plugin-duration histogram). */
export type PluginObserver = (
  extensionPoint: "filter" | "scorer" | "picker",
  plugin: AnyPlugin,
  seconds: number,
) => void;

export interface Scheduler {
  readonly profiles: readonly SchedulerProfile[];
  /** Every configured plugin instance by name. */
  readonly plugins: ReadonlyMap<string, AnyPlugin>;
  /** Runs the primary profile: filters -> clamped weighted scores -> picker. */
  schedule(ctx: SchedulingContext, request: SchedulingRequest, candidates: readonly Endpoint[]): ScheduleResult;
  /** Lets plugins learn the decision before the request is forwarded (prefix index, sessions). */
  preRequest(request: SchedulingRequest, targets: readonly Endpoint[], nowMs: number): void;
  /** Lets plugins forget an endpoint that left the pool. */
  endpointRemoved(endpointId: string): void;
}

/** Clamps a raw score into [0, 1]; NaN counts as 0 (GIE enforceScoreRange). */
export function clampScore(score: number): number {
  if (!(score > 0)) return 0;
  return Math.min(score, 1);
}

/** Weighted sum of clamped scores per endpoint, in candidate order. */
export function combineScores(
  endpoints: readonly Endpoint[],
  perScorer: readonly { readonly scores: ReadonlyMap<Endpoint, number>; readonly weight: number }[],
): ScoredEndpoint[] {
  return endpoints.map((endpoint) => {
    let score = 0;
    for (const { scores, weight } of perScorer) score += clampScore(scores.get(endpoint) ?? 0) * weight;
    return { endpoint, score };
  });
}

export interface SchedulerOptions {
  readonly profiles: readonly SchedulerProfile[];
  readonly plugins: ReadonlyMap<string, AnyPlugin>;
  readonly observe?: PluginObserver;
}

/** Builds a scheduler; the first profile is the primary one. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { profiles, plugins, observe } = options;
  const primary = profiles[0];
  if (!primary) throw new Error("scheduler needs at least one profile");
  const hooks = [...plugins.values()];
  const now = observe ? () => performance.now() : () => 0;

  return {
    profiles,
    plugins,
    schedule(ctx, request, candidates) {
      const state: CycleState = new Map();
      let endpoints = candidates;
      for (const f of primary.filters) {
        const t0 = now();
        endpoints = f.filter(ctx, state, request, endpoints);
        observe?.("filter", f, (now() - t0) / 1000);
        if (endpoints.length === 0) return { error: `no endpoints available after filter ${f.typedName.name}` };
      }
      if (endpoints.length === 0) return { error: "no endpoints available" };
      const perScorer = primary.scorers.map(({ scorer, weight }) => {
        const t0 = now();
        const scores = scorer.score(ctx, state, request, endpoints);
        observe?.("scorer", scorer, (now() - t0) / 1000);
        return { scores, weight };
      });
      const scores = combineScores(endpoints, perScorer);
      const t0 = now();
      const targets = primary.picker.pick(ctx, state, scores);
      observe?.("picker", primary.picker, (now() - t0) / 1000);
      if (targets.length === 0) return { error: "picker returned no endpoint" };
      return { targets, scores, state };
    },
    preRequest(request, targets, nowMs) {
      for (const p of hooks) if (isPreRequestHook(p)) p.preRequest(request, targets, nowMs);
    },
    endpointRemoved(endpointId) {
      for (const p of hooks) if (isEndpointLifecycleHook(p)) p.endpointRemoved(endpointId);
    },
  };
}
