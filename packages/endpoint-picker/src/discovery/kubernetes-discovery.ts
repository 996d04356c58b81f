import type { EndpointSpec } from "../datastore.js";
import type { Discovery } from "./file-discovery.js";
import {
  type EngineLabeling,
  type InferencePoolLike,
  inferencePoolEndpoints,
  type PodLike,
  selectedEndpoints,
} from "./inference-pool.js";
import { type KubeConnection, loadKubeConnection, watchForever } from "./kube-client.js";

export interface KubernetesDiscoveryOptions {
  readonly namespace: string;
  /** The InferencePool to follow; or, without one, `selector` and `targetPorts`. */
  readonly poolName?: string | undefined;
  /** inference.networking.k8s.io (v1, default) or inference.networking.x-k8s.io (v1alpha2). */
  readonly group?: string | undefined;
  readonly selector?: Readonly<Record<string, string>> | undefined;
  readonly targetPorts?: readonly number[] | undefined;
  /** Engine label and default engine (core-metrics-extractor's engineLabelKey / defaultEngine). */
  readonly engines?: EngineLabeling | undefined;
  readonly onEndpoints: (endpoints: EndpointSpec[]) => void;
  readonly onError: (error: string) => void;
  /** API server URL without credentials (tests); default: in-cluster config or $KUBECONFIG. */
  readonly apiServerUrl?: string;
  /** A connection already loaded (shared with the objective watch and metrics auth). */
  readonly connection?: KubeConnection | undefined;
}

/** The InferencePool API version served for each group. */
const poolVersions: Readonly<Record<string, string>> = {
  "inference.networking.k8s.io": "v1",
  "inference.networking.x-k8s.io": "v1alpha2",
};

/**
 * Follows one InferencePool (`inference.networking.k8s.io/v1` or the x-k8s.io v1alpha2) and the
 * pods of its namespace, or only the pods matching a selector when no pool is named, through
 * `kube-client.ts` (in-cluster service account or a kubeconfig): list, then watch, relisting
 * after a failed watch so a deletion missed meanwhile is not kept. Endpoints are re-derived on
 * every change. The translation is unit-tested with fake objects (inference-pool.test.ts); the
 * wiring against a fake API server (kubernetes-discovery.test.ts), not a real cluster.
 */
export function createKubernetesDiscovery(o: KubernetesDiscoveryOptions): Discovery {
  let pool: InferencePoolLike | undefined;
  let podsListed = false;
  const pods = new Map<string, PodLike>();
  const abort = new AbortController();

  const bySelector = o.poolName === undefined;
  const publish = () => {
    if (!podsListed) return;
    if (bySelector) o.onEndpoints(selectedEndpoints(o.selector ?? {}, o.targetPorts ?? [], pods.values(), o.engines));
    else if (pool) o.onEndpoints(inferencePoolEndpoints(pool, pods.values(), o.engines));
  };
  const podName = (obj: unknown) => (obj as PodLike).metadata?.name ?? "";

  return {
    async start() {
      const conn: KubeConnection =
        o.connection ??
        (o.apiServerUrl === undefined
          ? loadKubeConnection()
          : { server: new URL(o.apiServerUrl), insecureSkipTlsVerify: true });
      if (!bySelector) {
        const group = o.group ?? "inference.networking.k8s.io";
        const setPool = (next: InferencePoolLike | undefined) => {
          pool = next;
          if (pool) publish();
          else o.onEndpoints([]);
        };
        void watchForever(
          conn,
          `/apis/${group}/${poolVersions[group] ?? "v1"}/namespaces/${o.namespace}/inferencepools`,
          { fieldSelector: `metadata.name=${o.poolName}` },
          {
            replace: (items) => setPool(items[0] as InferencePoolLike | undefined),
            change: (type, obj) => setPool(type === "DELETED" ? undefined : (obj as InferencePoolLike)),
            error: o.onError,
          },
          abort.signal,
        );
      }
      const podQuery: Record<string, string> = bySelector
        ? {
            labelSelector: Object.entries(o.selector ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(","),
          }
        : {};
      void watchForever(
        conn,
        `/api/v1/namespaces/${o.namespace}/pods`,
        podQuery,
        {
          replace: (items) => {
            pods.clear();
            for (const item of items) pods.set(podName(item), item as PodLike);
            podsListed = true;
            publish();
          },
          change: (type, obj) => {
            if (type === "DELETED") pods.delete(podName(obj));
            else pods.set(podName(obj), obj as PodLike);
            publish();
          },
          error: o.onError,
        },
        abort.signal,
      );
    },
    stop() {
      abort.abort();
    },
  };
}
