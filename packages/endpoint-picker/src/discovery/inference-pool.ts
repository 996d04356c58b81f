import type { EndpointSpec } from "../datastore.js";
import { engineTypeSchema } from "./endpoint-list.js";

/** Pod label that selects the engine's metric names (GIE). */
export const engineTypeLabel = "inference.networking.k8s.io/engine-type";

/** The fields of an `inference.networking.k8s.io/v1` InferencePool the picker reads. */
export interface InferencePoolLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly targetPorts?: readonly { readonly number?: number }[];
  };
}

/** The fields of a core/v1 Pod the picker reads. */
export interface PodLike {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: unknown;
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
  };
}

/** True when every selector label is on the pod (an empty selector selects nothing, as GIE). */
export function matchesSelector(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** Running, Ready, not terminating, with an IP. */
export function isPodReady(pod: PodLike): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase !== "Running" || !pod.status.podIP) return false;
  return (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** Pool selector + target ports over pods -> endpoints (one per ready pod and target port). */
export function inferencePoolEndpoints(pool: InferencePoolLike, pods: Iterable<PodLike>): EndpointSpec[] {
  const selector = pool.spec?.selector?.matchLabels ?? {};
  const ports = (pool.spec?.targetPorts ?? []).map((p) => p.number).filter((n): n is number => typeof n === "number");
  const out: EndpointSpec[] = [];
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    if (!matchesSelector(labels, selector) || !isPodReady(pod)) continue;
    const engine = engineTypeSchema.safeParse(labels[engineTypeLabel] ?? "vllm");
    for (const port of ports) {
      out.push({
        address: pod.status?.podIP as string,
        port,
        engine: engine.success ? engine.data : "vllm",
        labels: { ...labels, "pod-name": pod.metadata?.name ?? "" },
      });
    }
  }
  return out.sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`));
}
