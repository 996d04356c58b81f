import { createHash } from "node:crypto";

/**
 * Model aliases and weighted splits (what GIE's InferenceModel `targetModels` did): an
 * incoming model name maps to targets with weights. Pure apart from the injected RNG;
 * sticky choices hash `(model, key)` with SHA-256 so every replica picks the same target.
 */

export interface ModelTarget {
  readonly model: string;
  /** Relative weight, >= 0; 0 drains a target. */
  readonly weight: number;
}

export interface ModelRoute {
  /** Incoming model name (exact, case-sensitive). */
  readonly model: string;
  readonly targets: readonly ModelTarget[];
}

export interface ModelRouterOptions {
  readonly routes: readonly ModelRoute[];
  /** Uniform in [0, 1); injected for deterministic tests. Default Math.random. */
  readonly random?: () => number;
}

export interface RouteChoice {
  /** The model to serve: the chosen target, or the incoming model when no route matches. */
  readonly target: string;
  /** A route matched (the target may still equal the incoming name). */
  readonly routed: boolean;
  /** The choice came from the sticky key rather than the RNG. */
  readonly sticky: boolean;
}

export interface ModelRouter {
  /** Picks the target for `model`; a non-empty `stickyKey` makes the choice deterministic. */
  choose(model: string, stickyKey?: string): RouteChoice;
  /** Incoming model names that have a route. */
  readonly models: ReadonlySet<string>;
}

interface CompiledRoute {
  readonly targets: readonly string[];
  /** Cumulative weights, last = total. */
  readonly cumulative: readonly number[];
}

/** Builds a router; routes with no positive weight are rejected by the config schema. */
export function createModelRouter(options: ModelRouterOptions): ModelRouter {
  const random = options.random ?? Math.random;
  const routes = new Map<string, CompiledRoute>();
  for (const route of options.routes) {
    const targets = route.targets.filter((t) => t.weight > 0);
    let sum = 0;
    routes.set(route.model, {
      targets: targets.map((t) => t.model),
      cumulative: targets.map((t) => (sum += t.weight)),
    });
  }
  return {
    models: new Set(routes.keys()),
    choose(model, stickyKey) {
      const route = routes.get(model);
      if (!route || route.targets.length === 0) return { target: model, routed: false, sticky: false };
      if (route.targets.length === 1) return { target: route.targets[0] as string, routed: true, sticky: false };
      const sticky = stickyKey !== undefined && stickyKey !== "";
      const fraction = sticky ? stickyFraction(model, stickyKey) : random();
      return { target: pick(route, fraction), routed: true, sticky };
    },
  };
}

function pick(route: CompiledRoute, fraction: number): string {
  const total = route.cumulative[route.cumulative.length - 1] as number;
  const point = Math.min(Math.max(fraction, 0), 1) * total;
  for (let k = 0; k < route.cumulative.length; k++) {
    if (point < (route.cumulative[k] as number)) return route.targets[k] as string;
  }
  return route.targets[route.targets.length - 1] as string;
}

/** Deterministic fraction in [0, 1) from 48 bits of SHA-256(model NUL key). */
export function stickyFraction(model: string, key: string): number {
  const digest = createHash("sha256").update(model).update("\0").update(key).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
