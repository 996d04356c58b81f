import type { EndpointSpec } from "../datastore.js";
import { engineOf } from "../metrics/engine-metrics.js";
import type { EngineType } from "../scheduling/types.js";

/** Pod labels that select the engine's metric names: llm-d's core-metrics-extractor default, then GIE's. */
export const engineTypeLabels = ["llm-d.ai/engine-type", "inference.networking.k8s.io/engine-type"] as const;

/**
 * The fields of an InferencePool the picker reads: `inference.networking.k8s.io/v1`
 * (selector.matchLabels, targetPorts[].number) or `inference.networking.x-k8s.io/v1alpha2`
 * (selector as a plain label map, targetPortNumber).
 */
export interface InferencePoolLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> } | Readonly<Record<string, string>>;
    readonly targetPorts?: readonly { readonly number?: number }[];
    readonly targetPortNumber?: number;
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

/** Which label names the engine and what a pod without it runs (core-metrics-extractor's parameters). */
export interface EngineLabeling {
  /** The label; default: llm-d's, then GIE's (`engineTypeLabels`). */
  readonly labelKey?: string | undefined;
  readonly defaultEngine?: EngineType | undefined;
}

/** A pool's label selector and target ports, in either API version's shape. */
export function poolSelection(pool: InferencePoolLike): { selector: Record<string, string>; ports: number[] } {
  const raw = pool.spec?.selector ?? {};
  const matchLabels = (raw as { matchLabels?: unknown }).matchLabels;
  const selector =
    typeof matchLabels === "object" && matchLabels !== null
      ? (matchLabels as Record<string, string>)
      : Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === "string"));
  const ports = (pool.spec?.targetPorts ?? []).map((p) => p.number).filter((n): n is number => typeof n === "number");
  if (ports.length === 0 && typeof pool.spec?.targetPortNumber === "number") ports.push(pool.spec.targetPortNumber);
  return { selector, ports };
}

/** Pool selector + target ports over pods -> endpoints (one per ready pod and target port). */
export function inferencePoolEndpoints(
  pool: InferencePoolLike,
  pods: Iterable<PodLike>,
  engines: EngineLabeling = {},
): EndpointSpec[] {
  const { selector, ports } = poolSelection(pool);
  return selectedEndpoints(selector, ports, pods, engines);
}

/** Ready pods matching `selector`, one endpoint per target port, sorted by address. */
export function selectedEndpoints(
  selector: Readonly<Record<string, string>>,
  ports: readonly number[],
  pods: Iterable<PodLike>,
  engines: EngineLabeling = {},
): EndpointSpec[] {
  const labelKeys = engines.labelKey ? [engines.labelKey] : engineTypeLabels;
  const fallback = engines.defaultEngine ?? "vllm";
  const out: EndpointSpec[] = [];
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    if (!matchesSelector(labels, selector) || !isPodReady(pod)) continue;
    const label = labelKeys.map((l) => labels[l]).find(Boolean);
    // An engine this picker does not know falls back to the default engine (upstream: its default config).
    const engine = (label === undefined ? undefined : engineOf(label)) ?? fallback;
    for (const port of ports) {
      out.push({
        address: pod.status?.podIP as string,
        port,
        engine,
        labels: { ...labels, "pod-name": pod.metadata?.name ?? "" },
      });
    }
  }
  return out.sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`));
}
