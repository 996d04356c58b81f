import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createGuardrailMetrics } from "./metrics.js";
import type { Inspection } from "./policy/engine.js";

describe("createGuardrailMetrics()", () => {
  it("counts decisions, findings and detector errors with bounded labels", async () => {
    const registry = new Registry();
    const metrics = createGuardrailMetrics(registry);
    const ok = { executed: true, enabled: true };
    const inspection: Inspection = {
      direction: "request",
      template: "default",
      findings: [
        {
          filter: "sdp",
          type: "EMAIL_ADDRESS",
          confidence: "HIGH",
          textIndex: 0,
          path: "$",
          start: 0,
          end: 3,
          source: "text",
          action: "redact",
        },
      ],
      filters: {
        pi_and_jailbreak: ok,
        sdp: ok,
        rai: { executed: false, enabled: true, error: "boom" },
        malicious_uris: ok,
        custom_patterns: { executed: false, enabled: false },
      },
      action: "redact",
      failedClosed: false,
      redacted: new Map(),
      truncated: false,
      backends: [
        { name: "model-armor", durationMs: 21 },
        { name: "nemo-guardrails", durationMs: 150, error: "DEADLINE_EXCEEDED" },
      ],
    };
    metrics.decision(inspection, 0.001);
    metrics.chunk(0.0001);
    const text = await registry.metrics();
    expect(text).toContain('callouts_guardrail_backend_calls_total{backend="model-armor",outcome="ok"} 1');
    expect(text).toContain(
      'callouts_guardrail_backend_calls_total{backend="nemo-guardrails",outcome="DEADLINE_EXCEEDED"} 1',
    );
    expect(text).toContain('callouts_guardrail_backend_duration_seconds_count{backend="model-armor"} 1');
    expect(text).toContain('callouts_guardrail_decisions_total{direction="request",action="redact"} 1');
    expect(text).toContain('callouts_guardrail_findings_total{direction="request",filter="sdp"} 1');
    expect(text).toContain('callouts_guardrail_detector_errors_total{filter="rai",fail_mode="open"} 1');
    expect(text).toContain('callouts_guardrail_scan_duration_seconds_count{direction="request"} 1');
    expect(text).toContain("callouts_guardrail_stream_chunk_duration_seconds_count 1");
  });
});
