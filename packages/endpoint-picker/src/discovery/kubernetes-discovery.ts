import type { EndpointSpec } from "../datastore.js";
import type { Discovery } from "./file-discovery.js";
import { type InferencePoolLike, inferencePoolEndpoints, type PodLike } from "./inference-pool.js";
import { type KubeConnection, loadKubeConnection, watchOnce } from "./kube-client.js";

export interface KubernetesDiscoveryOptions {
  readonly namespace: string;
  readonly poolName: string;
  readonly onEndpoints: (endpoints: EndpointSpec[]) => void;
  readonly onError: (error: string) => void;
  /** API server URL without credentials (tests); default: in-cluster config or $KUBECONFIG. */
  readonly apiServerUrl?: string;
}

/**
 * Watches one InferencePool (`inference.networking.k8s.io/v1`) and the pods of its
 * namespace (`kube-client.ts`: in-cluster service account or a kubeconfig), re-deriving
 * endpoints on every event. The translation is unit-tested with fake
 * objects (inference-pool.test.ts); the wiring is tested against a fake API server that
 * streams watch events (kubernetes-discovery.test.ts), not against a real cluster.
 */
export function createKubernetesDiscovery(o: KubernetesDiscoveryOptions): Discovery {
  let pool: InferencePoolLike | undefined;
  const pods = new Map<string, PodLike>();
  const aborts: AbortController[] = [];
  let stopped = false;

  const publish = () => {
    if (pool) o.onEndpoints(inferencePoolEndpoints(pool, pods.values()));
  };

  return {
    async start() {
      const conn: KubeConnection =
        o.apiServerUrl === undefined
          ? loadKubeConnection()
          : { server: new URL(o.apiServerUrl), insecureSkipTlsVerify: true };
      const watchPath = async (
        path: string,
        query: Record<string, string>,
        onEvent: (type: string, obj: unknown) => void,
      ) => {
        while (!stopped) {
          const abort = new AbortController();
          aborts.push(abort);
          try {
            await watchOnce(conn, path, query, onEvent, abort.signal);
          } catch (err) {
            if (!stopped) o.onError(`watch ${path}: ${(err as Error).message}`);
          }
          aborts.splice(aborts.indexOf(abort), 1);
          if (!stopped) await new Promise((r) => setTimeout(r, 1000));
        }
      };
      void watchPath(
        `/apis/inference.networking.k8s.io/v1/namespaces/${o.namespace}/inferencepools`,
        { fieldSelector: `metadata.name=${o.poolName}` },
        (type, obj) => {
          pool = type === "DELETED" ? undefined : (obj as InferencePoolLike);
          if (pool) publish();
          else o.onEndpoints([]);
        },
      );
      void watchPath(`/api/v1/namespaces/${o.namespace}/pods`, {}, (type, obj) => {
        const pod = obj as PodLike;
        const name = pod.metadata?.name ?? "";
        if (type === "DELETED") pods.delete(name);
        else pods.set(name, pod);
        publish();
      });
    },
    stop() {
      stopped = true;
      for (const a of aborts) a.abort();
    },
  };
}
