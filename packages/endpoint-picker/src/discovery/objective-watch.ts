import type { ObjectiveObject, ObjectiveStore, RewriteObject, RewriteRule } from "../objectives.js";
import { type KubeConnection, watchForever } from "./kube-client.js";

/** The API group and version upstream serves InferenceObjective and InferenceModelRewrite in. */
export const objectiveApi = "llm-d.ai/v1alpha2";

export interface ObjectiveWatchOptions {
  readonly connection: KubeConnection;
  readonly namespace: string;
  /** Only objects whose spec.poolRef names this pool (group inference.networking.k8s.io, kind InferencePool). */
  readonly poolName: string;
  readonly poolGroup: string;
  readonly store: ObjectiveStore;
  readonly onError: (message: string) => void;
  readonly signal: AbortSignal;
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
 * Keeps `store` in step with the namespace's InferenceObjectives and InferenceModelRewrites
 * (list, then watch; relisted after a failed or ended watch). A cluster without the CRDs
 * answers 404: reported once per retry through onError, and the static config keeps working.
 */
export function watchObjectives(o: ObjectiveWatchOptions): void {
  const base = `/apis/${objectiveApi}/namespaces/${o.namespace}`;
  void watchForever(
    o.connection,
    `${base}/inferenceobjectives`,
    {},
    {
      replace: (items) => o.store.replaceObjectives(items.map((i) => toObjective(i, o)).filter((x) => x !== undefined)),
      change: (type, object) => {
        const name = (object as KubeObject).metadata?.name ?? "";
        const parsed = type === "DELETED" ? undefined : toObjective(object, o);
        if (parsed) o.store.setObjective(parsed);
        else o.store.deleteObjective(name); // deleted, or moved to another pool
      },
      error: o.onError,
    },
    o.signal,
  );
  void watchForever(
    o.connection,
    `${base}/inferencemodelrewrites`,
    {},
    {
      replace: (items) => o.store.replaceRewrites(items.map((i) => toRewrite(i, o)).filter((x) => x !== undefined)),
      change: (type, object) => {
        const name = (object as KubeObject).metadata?.name ?? "";
        const parsed = type === "DELETED" ? undefined : toRewrite(object, o);
        if (parsed) o.store.setRewrite(parsed);
        else o.store.deleteRewrite(name);
      },
      error: o.onError,
    },
    o.signal,
  );
}
