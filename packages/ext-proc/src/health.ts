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

/** grpc.health.v1.Health: Check, Watch (streams changes until cancelled) and List. */
export function createHealthService(state: HealthState, names: readonly string[]): ServiceImpl<typeof Health> {
  const statusOf = () =>
    state.serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING;
  const known = (service: string) => names.includes(service);
  return {
    check(request) {
      if (!known(request.service)) throw new ConnectError(`unknown service ${request.service}`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status: statusOf() });
    },
    async *watch(request, context) {
      if (!known(request.service)) {
        yield create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
        return;
      }
      const aborted = new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve()));
      while (!context.signal.aborted) {
        yield create(HealthCheckResponseSchema, { status: statusOf() });
        await Promise.race([state.changed(), aborted]);
      }
    },
    list() {
      const statuses: Record<string, ReturnType<typeof create<typeof HealthCheckResponseSchema>>> = {};
      for (const name of names) statuses[name] = create(HealthCheckResponseSchema, { status: statusOf() });
      return { statuses };
    },
  };
}
