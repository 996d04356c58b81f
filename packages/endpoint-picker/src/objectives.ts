/**
 * InferenceObjectives (request priority by objective name) and InferenceModelRewrites (which
 * model a request for model X is served as), from the service config and from Kubernetes
 * (`llm-d.ai/v1alpha2`, discovery/objective-watch.ts). Upstream's rules, from its
 * InferenceModelRewrite API and datastore:
 * - the rule with an Exact match on the request's model wins over a generic rule (no matches);
 * - between objects, the oldest (creationTimestamp) wins; within one object, the first rule;
 * - a rule's targets split traffic by weight (weight/sum); with no weights, evenly; when some
 *   targets have weights and others not, only the weighted ones are chosen.
 * Kubernetes objects win over the static config, which applies when none matches. Objects come
 * from one or more sources (API groups: llm-d.ai, and GIE v1.x's inference.networking.x-k8s.io),
 * each replaced and changed on its own; for an objective name in two sources, the first source wins.
 */

export interface ObjectiveObject {
  readonly name: string;
  /** Unset means 0, as upstream. */
  readonly priority: number;
}

export interface RewriteTarget {
  readonly modelRewrite: string;
  readonly weight?: number | undefined;
}

export interface RewriteRule {
  /** Exact model names; empty: matches every request. */
  readonly models: readonly string[];
  readonly targets: readonly RewriteTarget[];
}

export interface RewriteObject {
  readonly name: string;
  /** Milliseconds since the epoch (metadata.creationTimestamp). */
  readonly createdMs: number;
  readonly rules: readonly RewriteRule[];
}

export interface RewriteDecision {
  readonly model: string;
  /** The InferenceModelRewrite that decided (`""` for the static config). */
  readonly rewriteName: string;
}

export interface ObjectiveStore {
  /** Priority of an objective name (the x-gateway-inference-objective header); undefined when unknown. */
  priorityOf(name: string): number | undefined;
  /** The model to serve for `model`, or undefined when no rule applies. */
  rewrite(model: string, random: () => number): RewriteDecision | undefined;
  replaceObjectives(objects: readonly ObjectiveObject[], source?: string): void;
  setObjective(object: ObjectiveObject, source?: string): void;
  deleteObjective(name: string, source?: string): void;
  replaceRewrites(objects: readonly RewriteObject[], source?: string): void;
  setRewrite(object: RewriteObject, source?: string): void;
  deleteRewrite(name: string, source?: string): void;
}

export function createObjectiveStore(staticConfig: {
  readonly objectives: Readonly<Record<string, { readonly priority: number }>>;
  readonly modelRewrites: readonly { readonly from: string; readonly to: string }[];
}): ObjectiveStore {
  // Source -> name -> object; sources in first-seen order.
  const objectives = new Map<string, Map<string, number>>();
  const rewrites = new Map<string, Map<string, RewriteObject>>();
  const of = <T>(maps: Map<string, Map<string, T>>, source: string) => {
    const m = maps.get(source) ?? new Map<string, T>();
    maps.set(source, m);
    return m;
  };
  const staticRewrites = new Map(staticConfig.modelRewrites.map((r) => [r.from, r.to]));
  // Rules by exact model and generic rules, each oldest object first; rebuilt on change.
  let exact = new Map<string, { rule: RewriteRule; name: string }>();
  let generic: { rule: RewriteRule; name: string } | undefined;

  const rebuild = () => {
    const ordered = [...rewrites.values()]
      .flatMap((m) => [...m.values()])
      .sort((a, b) => a.createdMs - b.createdMs || a.name.localeCompare(b.name));
    exact = new Map();
    generic = undefined;
    for (const object of ordered) {
      for (const rule of object.rules) {
        if (rule.models.length === 0) generic ??= { rule, name: object.name };
        for (const model of rule.models) if (!exact.has(model)) exact.set(model, { rule, name: object.name });
      }
    }
  };

  return {
    priorityOf(name) {
      for (const m of objectives.values()) {
        const p = m.get(name);
        if (p !== undefined) return p;
      }
      return staticConfig.objectives[name]?.priority;
    },
    rewrite(model, random) {
      const found = exact.get(model) ?? generic;
      if (found) {
        const target = weightedTarget(found.rule.targets, random);
        if (target !== undefined) return { model: target, rewriteName: found.name };
      }
      const to = staticRewrites.get(model);
      return to === undefined ? undefined : { model: to, rewriteName: "" };
    },
    replaceObjectives(list, source = "") {
      const m = of(objectives, source);
      m.clear();
      for (const o of list) m.set(o.name, o.priority);
    },
    setObjective(o, source = "") {
      of(objectives, source).set(o.name, o.priority);
    },
    deleteObjective(name, source = "") {
      of(objectives, source).delete(name);
    },
    replaceRewrites(list, source = "") {
      const m = of(rewrites, source);
      m.clear();
      for (const o of list) m.set(o.name, o);
      rebuild();
    },
    setRewrite(o, source = "") {
      of(rewrites, source).set(o.name, o);
      rebuild();
    },
    deleteRewrite(name, source = "") {
      if (of(rewrites, source).delete(name)) rebuild();
    },
  };
}

/** Upstream's selectWeightedModel: by weight when any target has one, else uniformly. */
export function weightedTarget(targets: readonly RewriteTarget[], random: () => number): string | undefined {
  if (targets.length === 0) return undefined;
  const total = targets.reduce((sum, t) => sum + (t.weight ?? 0), 0);
  if (total === 0) return targets[Math.floor(random() * targets.length)]?.modelRewrite;
  let point = Math.floor(random() * total);
  for (const t of targets) {
    point -= t.weight ?? 0;
    if (point < 0) return t.modelRewrite;
  }
  return targets[targets.length - 1]?.modelRewrite;
}
