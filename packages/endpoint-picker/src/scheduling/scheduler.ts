import { createSingleProfileHandler } from "./profile-handler/single/single.js";
import type {
  AnyPlugin,
  CycleState,
  Endpoint,
  Filter,
  Picker,
  ProfileHandler,
  ProfileRunResult,
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
  | {
      readonly targets: readonly Endpoint[];
      readonly scores: readonly ScoredEndpoint[];
      readonly state: CycleState;
      /** The profile whose result the request is sent by. */
      readonly profile: string;
      /** Every profile that ran (e.g. prefill and decode), undefined where it found no endpoint. */
      readonly results: ReadonlyMap<string, ProfileRunResult | undefined>;
    }
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
  readonly profileHandler: ProfileHandler;
  /**
   * One scheduling cycle: the profile handler picks profiles until it has none left; each runs
   * filters -> clamped weighted scores -> picker; the handler names the result to use.
   */
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
  /** Default: `single-profile-handler` (exactly one profile). */
  readonly profileHandler?: ProfileHandler;
  readonly observe?: PluginObserver;
}

/** Builds a scheduler over named profiles and one profile handler. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { profiles, plugins, observe } = options;
  if (profiles.length === 0) throw new Error("scheduler needs at least one profile");
  const profileHandler = options.profileHandler ?? createSingleProfileHandler();
  const byName = new Map(profiles.map((p) => [p.name, p]));
  const names = profiles.map((p) => p.name);
  const hooks = [...plugins.values()];
  const now = observe ? () => performance.now() : () => 0;

  function runProfile(
    profile: SchedulerProfile,
    ctx: SchedulingContext,
    state: CycleState,
    request: SchedulingRequest,
    candidates: readonly Endpoint[],
  ): ProfileRunResult | { readonly error: string } {
    let endpoints = candidates;
    for (const f of profile.filters) {
      const t0 = now();
      endpoints = f.filter(ctx, state, request, endpoints);
      observe?.("filter", f, (now() - t0) / 1000);
      if (endpoints.length === 0) return { error: `no endpoints available after filter ${f.typedName.name}` };
    }
    if (endpoints.length === 0) return { error: "no endpoints available" };
    const perScorer = profile.scorers.map(({ scorer, weight }) => {
      const t0 = now();
      const scores = scorer.score(ctx, state, request, endpoints);
      observe?.("scorer", scorer, (now() - t0) / 1000);
      return { scores, weight };
    });
    const scores = combineScores(endpoints, perScorer);
    const t0 = now();
    const targets = profile.picker.pick(ctx, state, scores);
    observe?.("picker", profile.picker, (now() - t0) / 1000);
    if (targets.length === 0) return { error: "picker returned no endpoint" };
    return { targets, scores };
  }

  return {
    profiles,
    plugins,
    profileHandler,
    schedule(ctx, request, candidates) {
      const state: CycleState = new Map();
      const results = new Map<string, ProfileRunResult | undefined>();
      const errors = new Map<string, string>();
      // Each round runs at least one new profile, so this ends within profiles.length rounds.
      for (let round = 0; round <= profiles.length; round++) {
        const next = profileHandler.pick(request, names, results);
        if ("error" in next) return next;
        const fresh = next.profiles.filter((n) => !results.has(n));
        if (fresh.length === 0) break;
        for (const name of fresh) {
          const profile = byName.get(name);
          if (!profile) return { error: `profile handler chose unknown profile "${name}"` };
          const run = runProfile(profile, ctx, state, request, candidates);
          if ("error" in run) errors.set(name, run.error);
          results.set(name, "error" in run ? undefined : run);
        }
      }
      const chosen = profileHandler.primary(request, results);
      if ("error" in chosen) return chosen;
      const result = results.get(chosen.profile);
      if (!result) return { error: errors.get(chosen.profile) ?? `profile "${chosen.profile}" did not run` };
      return { targets: result.targets, scores: result.scores, state, profile: chosen.profile, results };
    },
    preRequest(request, targets, nowMs) {
      for (const p of hooks) if (isPreRequestHook(p)) p.preRequest(request, targets, nowMs);
    },
    endpointRemoved(endpointId) {
      for (const p of hooks) if (isEndpointLifecycleHook(p)) p.endpointRemoved(endpointId);
    },
  };
}
