import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@llm-callouts/proto/gen/grpc/health/v1/health_pb";

/** Service names answered by grpc.health.v1 ("" is the whole server). GIE probes the ext_proc name. */
export const healthServiceNames = [
  "",
  "envoy.service.ext_proc.v3.ExternalProcessor",
  "envoy.service.auth.v3.Authorization",
];

/** Serving state shared by gRPC health, the admin listener and the drain. */
export interface HealthState {
  readonly serving: boolean;
  setServing(serving: boolean): void;
  /** Resolves on the next change. */
  changed(): Promise<void>;
}

export function createHealthState(): HealthState {
  let serving = true;
  let waiters: (() => void)[] = [];
  return {
    get serving() {
      return serving;
    },
    setServing(next) {
      if (next === serving) return;
      serving = next;
      const current = waiters;
      waiters = [];
      for (const wake of current) wake();
    },
    changed: () => new Promise<void>((resolve) => waiters.push(resolve)),
  };
}

/**
 * The Endpoint Picker Protocol's health-checking names (GIE cmd/epp/runner/health.go):
 * `liveness` answers SERVING while the process answers at all (draining or not, so a
 * Kubernetes liveness probe never restarts a pod that is only not ready); `readiness`, like the
 * service names above, answers SERVING only while serving and the service is ready (the picker:
 * discovery synced with at least one endpoint).
 */
export const livenessServiceName = "liveness";
export const readinessServiceName = "readiness";

/** grpc.health.v1.Health: Check, Watch (streams changes until cancelled) and List. */
export function createHealthService(
  state: HealthState,
  names: readonly string[],
  isReady: () => boolean = () => true,
): ServiceImpl<typeof Health> {
  const all = [...names, livenessServiceName, readinessServiceName];
  const statusOf = (service: string) =>
    service === livenessServiceName || (state.serving && isReady())
      ? HealthCheckResponse_ServingStatus.SERVING
      : HealthCheckResponse_ServingStatus.NOT_SERVING;
  const known = (service: string) => all.includes(service);
  return {
    check(request) {
      if (!known(request.service)) throw new ConnectError(`unknown service ${request.service}`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status: statusOf(request.service) });
    },
    async *watch(request, context) {
      if (!known(request.service)) {
        yield create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
        return;
      }
      const aborted = new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve()));
      let last: HealthCheckResponse_ServingStatus | undefined;
      while (!context.signal.aborted) {
        const status = statusOf(request.service);
        if (status !== last) yield create(HealthCheckResponseSchema, { status });
        last = status;
        // Readiness has no change events of its own: look again each second.
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 1000);
        });
        await Promise.race([state.changed(), aborted, tick]);
        clearTimeout(timer);
      }
    },
    list() {
      const statuses: Record<string, ReturnType<typeof create<typeof HealthCheckResponseSchema>>> = {};
      for (const name of all) statuses[name] = create(HealthCheckResponseSchema, { status: statusOf(name) });
      return { statuses };
    },
  };
}
