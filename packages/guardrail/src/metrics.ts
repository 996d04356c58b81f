import { Counter, Histogram, type Registry } from "prom-client";
import type { Inspection } from "./policy/engine.js";

/** Guardrail metrics (`callouts_guardrail_*`); all labels are closed sets. */
export interface GuardrailMetrics {
  /** One call per decision (request body, response body or finished stream). */
  decision(inspection: Inspection, seconds: number): void;
  /** Per streamed chunk, time spent in the scanner. */
  chunk(seconds: number): void;
}

// Scans take microseconds to milliseconds.
const buckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

export function createGuardrailMetrics(registry: Registry): GuardrailMetrics {
  const decisions = new Counter({
    name: "callouts_guardrail_decisions_total",
    help: "Guardrail decisions by direction and action (allow, inspect, redact, block).",
    labelNames: ["direction", "action"] as const,
    registers: [registry],
  });
  const findings = new Counter({
    name: "callouts_guardrail_findings_total",
    help: "Findings at or above the filter threshold, by direction and filter.",
    labelNames: ["direction", "filter"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "callouts_guardrail_detector_errors_total",
    help: "Filters that failed, by filter and the fail mode applied.",
    labelNames: ["filter", "fail_mode"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "callouts_guardrail_scan_duration_seconds",
    help: "Time to extract, normalise and scan one body.",
    labelNames: ["direction"] as const,
    buckets,
    registers: [registry],
  });
  const backendCalls = new Counter({
    name: "callouts_guardrail_backend_calls_total",
    help: "Remote backend answers per decision, by backend and outcome (ok, or the status it failed with).",
    labelNames: ["backend", "outcome"] as const,
    registers: [registry],
  });
  const backendDuration = new Histogram({
    name: "callouts_guardrail_backend_duration_seconds",
    help: "Time a remote backend took per decision (all windows of a stream together).",
    labelNames: ["backend"] as const,
    buckets,
    registers: [registry],
  });
  const chunks = new Histogram({
    name: "callouts_guardrail_stream_chunk_duration_seconds",
    help: "Scanner time per streamed response chunk.",
    buckets,
    registers: [registry],
  });
  return {
    decision(inspection, seconds) {
      decisions.inc({ direction: inspection.direction, action: inspection.action });
      duration.observe({ direction: inspection.direction }, seconds);
      for (const f of inspection.findings) findings.inc({ direction: inspection.direction, filter: f.filter });
      for (const [filter, outcome] of Object.entries(inspection.filters)) {
        if (outcome.error !== undefined) errors.inc({ filter, fail_mode: inspection.failedClosed ? "closed" : "open" });
      }
      for (const backend of inspection.backends) {
        // Statuses are Google's names or HTTP_<code>: a bounded set.
        backendCalls.inc({ backend: backend.name, outcome: backend.error ?? "ok" });
        backendDuration.observe({ backend: backend.name }, backend.durationMs / 1000);
      }
    },
    chunk(seconds) {
      chunks.observe(seconds);
    },
  };
}
