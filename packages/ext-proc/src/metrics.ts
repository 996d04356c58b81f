import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Phase } from "./processor.js";
import type { StreamObserver } from "./stream/observer.js";

/** SDK metrics of one service, registered in the process registry. */
export interface SdkMetrics {
  readonly registry: Registry;
  readonly streamsTotal: Counter<"service">;
  readonly streamsActive: Gauge<"service">;
  readonly streamErrors: Counter<"service" | "code">;
  readonly authzChecks: Counter<"service" | "result">;
  readonly authzSeconds: Histogram<"service">;
  observer(service: string): StreamObserver;
}

/** Processor latency buckets: 50 us to 2.5 s. */
const latencyBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

/** Creates a registry with process metrics (prefix `callouts_`). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "callouts_" });
  return registry;
}

export function createSdkMetrics(registry: Registry): SdkMetrics {
  const messages = new Counter({
    name: "callouts_extproc_messages_total",
    help: "ext_proc messages received, by phase.",
    labelNames: ["service", "phase"] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: "callouts_extproc_decisions_total",
    help: "Processor decisions by phase and kind (continue, mutate, respond, hold).",
    labelNames: ["service", "phase", "decision"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "callouts_extproc_errors_total",
    help: "Errors by phase and kind (processor, timeout, protocol, body_too_large, carry_dropped, mutation_dropped, streamed_hold_limit).",
    labelNames: ["service", "phase", "kind"] as const,
    registers: [registry],
  });
  const phaseSeconds = new Histogram({
    name: "callouts_extproc_processor_duration_seconds",
    help: "Time spent in the processor per phase.",
    labelNames: ["service", "phase"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const refused = new Counter({
    name: "callouts_extproc_refused_header_mutations_total",
    help: "Header changes the SDK refused (host, :authority, :method, :scheme, x-envoy-*).",
    labelNames: ["service"] as const,
    registers: [registry],
  });
  const duplicateEos = new Counter({
    name: "callouts_extproc_duplicate_end_of_stream_total",
    help: "Body messages after the body ended (envoy #46237, GCP's empty final chunk).",
    labelNames: ["service"] as const,
    registers: [registry],
  });
  return {
    registry,
    streamsTotal: new Counter({
      name: "callouts_extproc_streams_total",
      help: "ext_proc streams opened.",
      labelNames: ["service"] as const,
      registers: [registry],
    }),
    streamsActive: new Gauge({
      name: "callouts_extproc_streams_active",
      help: "ext_proc streams in flight.",
      labelNames: ["service"] as const,
      registers: [registry],
    }),
    streamErrors: new Counter({
      name: "callouts_extproc_stream_errors_total",
      help: "Streams ended with a gRPC error, by code.",
      labelNames: ["service", "code"] as const,
      registers: [registry],
    }),
    authzChecks: new Counter({
      name: "callouts_authz_checks_total",
      help: "ext_authz Check calls by result (allow, deny, error).",
      labelNames: ["service", "result"] as const,
      registers: [registry],
    }),
    authzSeconds: new Histogram({
      name: "callouts_authz_duration_seconds",
      help: "ext_authz Check latency.",
      labelNames: ["service"] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    observer(service: string): StreamObserver {
      // Bind label values once per service: the hot path only increments.
      const byPhase = new Map<Phase, { messages: Counter; seconds: Histogram }>();
      const phaseMetrics = (phase: Phase) => {
        let m = byPhase.get(phase);
        if (!m) {
          m = {
            messages: messages.labels(service, phase) as unknown as Counter,
            seconds: phaseSeconds.labels(service, phase) as unknown as Histogram,
          };
          byPhase.set(phase, m);
        }
        return m;
      };
      return {
        message: (phase) => phaseMetrics(phase).messages.inc(),
        decision: (phase, kind) => decisions.inc({ service, phase, decision: kind }),
        error: (phase, kind) => errors.inc({ service, phase, kind }),
        processorSeconds: (phase, seconds) => phaseMetrics(phase).seconds.observe(seconds),
        refusedHeaders: (names) => refused.inc({ service }, names.length),
        duplicateEndOfStream: () => duplicateEos.inc({ service }),
      };
    },
  };
}

/**
 * A label whose values come from clients (model names): the first `maxDistinct` distinct values
 * are kept, later new ones count as `overflow`, so a client sending random names cannot grow the
 * series count (and the /metrics page) without bound. `""` stays `""` (no value).
 */
export function boundedLabel(maxDistinct: number, overflow = "other"): (value: string | undefined) => string {
  const seen = new Set<string>();
  return (value) => {
    if (value === undefined || value === "") return "";
    if (seen.has(value)) return value;
    if (seen.size >= maxDistinct) return overflow;
    seen.add(value);
    return value;
  };
}
