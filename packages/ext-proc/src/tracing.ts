import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

/** The tracer every SDK and service span comes from. */
export const tracer = trace.getTracer("llm-callouts");

let active = false;

/** A started OpenTelemetry SDK: flush before exit. */
export interface Tracing {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Whether the standard environment asks for traces: `OTEL_TRACES_EXPORTER=otlp`, or an OTLP
 * endpoint set without `OTEL_TRACES_EXPORTER=none`; never with `OTEL_SDK_DISABLED=true`.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === "none") return false;
  if (exporter === "otlp") return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification names them (default parentbased_always_on). */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const byRatio = () => new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1);
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return byRatio();
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: byRatio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
export function tracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

/**
 * Starts the OpenTelemetry SDK when the standard `OTEL_*` environment asks for it: a Node tracer
 * provider (AsyncLocalStorage context), W3C trace-context propagation, batched OTLP/HTTP (JSON)
 * export, the sampler from OTEL_TRACES_SAMPLER, `service.name` from OTEL_SERVICE_NAME or
 * `serviceName`, other resource attributes from OTEL_RESOURCE_ATTRIBUTES. Returns undefined
 * (and costs nothing per request) when tracing is not asked for.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingRequested(env)) return undefined;
  const resource = resourceFromAttributes({
    ...resourceAttributesFromEnv(env),
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || serviceName,
  });
  const url = tracesUrl(env);
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerFromEnv(env),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(url ? { url } : {}))],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  active = true;
  return {
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      active = false;
      await provider.shutdown();
    },
  };
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, values percent-encoded. */
export function resourceAttributesFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    try {
      out[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed value is skipped, as the specification asks.
    }
  }
  return out;
}

/**
 * Whether spans can be recorded at all: `startTracing` ran, or the host registered its own
 * tracer provider. Checked per stream so an untraced callout skips span setup entirely.
 */
export function tracingEnabled(): boolean {
  if (active) return true;
  const delegate = (trace.getTracerProvider() as { getDelegate?: () => object }).getDelegate?.();
  return delegate !== undefined && delegate.constructor.name !== "NoopTracerProvider";
}

/** Reads W3C trace context (`traceparent`, `tracestate`) from request headers as Envoy forwards them. */
export function contextFromHeaders(get: (name: string) => string | undefined): Context {
  return propagation.extract(context.active(), undefined, {
    get: (_carrier, key) => get(key.toLowerCase()),
    keys: () => ["traceparent", "tracestate"],
  });
}

/**
 * A span around a call out of the process (Redis, an embedder, a metrics scrape, a remote
 * guardrail), child of the active span. Without a recording parent it starts a root span only
 * when `root` is set and tracing was started; otherwise it just runs `fn`.
 */
export async function traceOutbound<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  options: { root?: boolean } = {},
): Promise<T> {
  const parent = trace.getActiveSpan();
  if (!parent?.isRecording() && !(options.root && active)) return fn();
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span: Span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
