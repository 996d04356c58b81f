import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  ExternalProcessor,
  ProcessingRequest,
  ProcessingResponse,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { trace } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { SdkMetrics } from "./metrics.js";
import type { AssumedModes, FailurePolicy, Service } from "./service.js";
import { createStreamContext } from "./stream/context.js";
import { isProtocolError } from "./stream/errors.js";
import { StreamMachine } from "./stream/machine.js";

/** Settings of the stream machine that come from server config. */
export interface StreamSettings {
  readonly assumedModes: AssumedModes;
  readonly failure: FailurePolicy;
  readonly maxBufferedBodyBytes: number;
  readonly replyChunkBytes: number;
  readonly streamedHoldBytes: number;
  readonly processorTimeoutMs: number;
}

/** Counts streams in flight so the drain knows when it may stop. */
export interface StreamTracker {
  readonly draining: boolean;
  begin(): void;
  end(): void;
}

const tracer = trace.getTracer("llm-callouts/ext-proc");
let streamCounter = 0;

/** Runs one ext_proc stream: one StreamMachine, replies in order, as an async generator. */
export type StreamRunner = (requests: AsyncIterable<ProcessingRequest>) => AsyncGenerator<ProcessingResponse>;

/**
 * The per-stream logic shared by both transports (connect-node and the lean gRPC handler):
 * refuses new streams while draining, one StreamMachine per stream, metrics, tracing, and
 * errors mapped to ConnectError codes.
 */
export function createStreamRunner(
  service: Service,
  log: Logger,
  metrics: SdkMetrics,
  settings: StreamSettings,
  tracker: StreamTracker,
): StreamRunner {
  const observer = metrics.observer(service.name);
  const streamsTotal = metrics.streamsTotal.labels(service.name);
  const streamsActive = metrics.streamsActive.labels(service.name);
  return async function* run(requests) {
    if (tracker.draining) throw new ConnectError("server is draining", Code.Unavailable);
    const streamId = `${process.pid.toString(36)}-${(++streamCounter).toString(36)}`;
    const context = createStreamContext(streamId, log);
    // A span per stream; a no-op unless the host registers an OpenTelemetry SDK.
    const span = tracer.startSpan("ext_proc.stream", { attributes: { "callouts.service": service.name } });
    const machine = new StreamMachine({ processor: service.processor(context), context, observer, ...settings });
    tracker.begin();
    streamsTotal.inc();
    streamsActive.inc();
    let aborted = true;
    try {
      for await (const message of requests) {
        const replies = await machine.handle(message);
        if (machine.observability) continue;
        for (const reply of replies) yield reply;
      }
      aborted = false;
    } catch (error) {
      const connectError = isProtocolError(error)
        ? new ConnectError(error.message, Code.InvalidArgument)
        : ConnectError.from(error);
      if (connectError.code !== Code.Canceled) {
        metrics.streamErrors.inc({ service: service.name, code: Code[connectError.code] });
        context.log.warn({ err: connectError }, "stream ended with an error");
        span.recordException(connectError);
      }
      throw connectError;
    } finally {
      machine.end(aborted);
      context.abort();
      streamsActive.dec();
      tracker.end();
      span.setAttribute("callouts.request_id", context.requestId ?? "");
      span.end();
    }
  };
}

/** ExternalProcessor.Process for connect-node. */
export function createExtProcService(run: StreamRunner): ServiceImpl<typeof ExternalProcessor> {
  return { process: (requests) => run(requests) };
}
