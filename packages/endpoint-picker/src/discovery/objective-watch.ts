import type { ObjectiveObject, ObjectiveStore, RewriteObject, RewriteRule } from "../objectives.js";
import { type KubeConnection, watchForever } from "./kube-client.js";

/**
 * Where upstream serves InferenceObjective and InferenceModelRewrite: llm-d-router's group now,
 * GIE v1.x's before the API moved (same shapes). Both are watched; the one a cluster lacks answers
 * 404 (or 403 without RBAC), reported with backoff, and the other keeps working.
 */
export const objectiveApis = ["llm-d.ai/v1alpha2", "inference.networking.x-k8s.io/v1alpha2"] as const;
export const objectiveApi = objectiveApis[0];

export interface ObjectiveWatchOptions {
  readonly connection: KubeConnection;
  readonly namespace: string;
  /** Only objects whose spec.poolRef names this pool (group inference.networking.k8s.io, kind InferencePool). */
  readonly poolName: string;
  readonly poolGroup: string;
  readonly store: ObjectiveStore;
  readonly onError: (message: string) => void;
  readonly signal: AbortSignal;
  /** API group/versions to watch (default both of `objectiveApis`). */
  readonly apis?: readonly string[];
}

interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly creationTimestamp?: string };
  readonly spec?: Record<string, unknown>;
}

/** spec.poolRef names our pool (group and kind default to upstream's). */
function refersToPool(spec: Record<string, unknown> | undefined, o: ObjectiveWatchOptions): boolean {
  const ref = spec?.poolRef as { group?: string; kind?: string; name?: string } | undefined;
  if (!ref || ref.name !== o.poolName) return false;
  return (
    (ref.group ?? "inference.networking.k8s.io") === o.poolGroup && (ref.kind ?? "InferencePool") === "InferencePool"
  );
}

/** An InferenceObjective of our pool, or undefined (other pool, malformed). */
export function toObjective(object: unknown, o: ObjectiveWatchOptions): ObjectiveObject | undefined {
  const k = object as KubeObject;
  const name = k.metadata?.name;
  if (!name || !refersToPool(k.spec, o)) return undefined;
  const priority = k.spec?.priority;
  return { name, priority: typeof priority === "number" && Number.isInteger(priority) ? priority : 0 };
}

/** An InferenceModelRewrite of our pool, or undefined. Only Exact model matches exist upstream. */
export function toRewrite(object: unknown, o: ObjectiveWatchOptions): RewriteObject | undefined {
  const k = object as KubeObject;
  const name = k.metadata?.name;
  if (!name || !refersToPool(k.spec, o)) return undefined;
  const rules: RewriteRule[] = [];
  for (const raw of (k.spec?.rules as unknown[] | undefined) ?? []) {
    const rule = raw as { matches?: { model?: { type?: string; value?: string } }[]; targets?: unknown[] };
    const models = (rule.matches ?? [])
      .filter((m) => (m.model?.type ?? "Exact") === "Exact" && typeof m.model?.value === "string")
      .map((m) => m.model?.value as string);
    // A rule whose matches are all of an unknown type matches nothing (not everything).
    if ((rule.matches ?? []).length > 0 && models.length === 0) continue;
    const targets = (rule.targets ?? [])
      .map((t) => t as { modelRewrite?: unknown; weight?: unknown })
      .filter((t) => typeof t.modelRewrite === "string" && t.modelRewrite !== "")
      .map((t) => ({
        modelRewrite: t.modelRewrite as string,
        weight: typeof t.weight === "number" && t.weight > 0 ? t.weight : undefined,
      }));
    if (targets.length > 0) rules.push({ models, targets });
  }
  const created = Date.parse(k.metadata?.creationTimestamp ?? "");
  return { name, createdMs: Number.isFinite(created) ? created : 0, rules };
}

/**
 * Keeps `store` in step with the namespace's InferenceObjectives and InferenceModelRewrites in
 * each API group (list, then watch; relisted after a failed or ended watch). A cluster without
 * the CRDs answers 404: reported through onError with backoff, and the static config keeps working.
 */
export function watchObjectives(o: ObjectiveWatchOptions): void {
  const { store } = o;
  for (const api of o.apis ?? objectiveApis) {
    follow(o, `/apis/${api}/namespaces/${o.namespace}/inferenceobjectives`, toObjective, {
      replace: (list) => store.replaceObjectives(list, api),
      set: (x) => store.setObjective(x, api),
      remove: (name) => store.deleteObjective(name, api),
    });
    follow(o, `/apis/${api}/namespaces/${o.namespace}/inferencemodelrewrites`, toRewrite, {
      replace: (list) => store.replaceRewrites(list, api),
      set: (x) => store.setRewrite(x, api),
      remove: (name) => store.deleteRewrite(name, api),
    });
  }
}

/** One collection of the namespace into the store; an object that stops parsing (moved to another pool) is removed. */
function follow<T>(
  o: ObjectiveWatchOptions,
  path: string,
  parse: (object: unknown, o: ObjectiveWatchOptions) => T | undefined,
  to: { replace: (list: T[]) => void; set: (x: T) => void; remove: (name: string) => void },
): void {
  void watchForever(
    o.connection,
    path,
    {},
    {
      replace: (items) => to.replace(items.map((i) => parse(i, o)).filter((x): x is T => x !== undefined)),
      change: (type, object) => {
        const parsed = type === "DELETED" ? undefined : parse(object, o);
        if (parsed !== undefined) to.set(parsed);
        else to.remove((object as KubeObject).metadata?.name ?? "");
      },
      error: o.onError,
    },
    o.signal,
  );
}
