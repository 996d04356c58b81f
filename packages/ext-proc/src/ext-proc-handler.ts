import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  ExternalProcessor,
  ProcessingRequest,
  ProcessingResponse,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { type Context, context, type Span, SpanKind, trace } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { SdkMetrics } from "./metrics.js";
import type { AssumedModes, FailurePolicy, Service } from "./service.js";
import { createStreamContext } from "./stream/context.js";
import { isProtocolError } from "./stream/errors.js";
import { StreamMachine } from "./stream/machine.js";
import { contextFromHeaders, tracer, tracingEnabled } from "./tracing.js";

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

let streamCounter = 0;
const textDecoder = new TextDecoder();

/**
 * The span of one callout stream (OpenTelemetry RPC conventions), child of the W3C trace
 * context in the request headers Envoy forwards; the phases and outbound calls nest under it.
 */
function startStreamSpan(serviceName: string, first: ProcessingRequest): { span: Span; ctx: Context } {
  const headers = first.request.case === "requestHeaders" ? (first.request.value.headers?.headers ?? []) : [];
  const get = (name: string) => {
    const h = headers.find((x) => x.key.toLowerCase() === name);
    return h ? (h.rawValue.length > 0 ? textDecoder.decode(h.rawValue) : h.value) : undefined;
  };
  const parent = headers.length > 0 ? contextFromHeaders(get) : context.active();
  const method = get(":method");
  const path = get(":path")?.split("?")[0];
  const span = tracer.startSpan(
    "envoy.service.ext_proc.v3.ExternalProcessor/Process",
    {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": "envoy.service.ext_proc.v3.ExternalProcessor",
        "rpc.method": "Process",
        "callouts.service": serviceName,
        ...(method ? { "http.request.method": method } : {}),
        ...(path ? { "url.path": path } : {}),
      },
    },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

/**
 * One ext_proc stream: one StreamMachine. `handle` takes the messages in order (one at a time)
 * and resolves with the replies to send; `close` ends it once and says what status to send.
 */
export interface StreamSession {
  handle(message: ProcessingRequest): Promise<readonly ProcessingResponse[]>;
  /**
   * Ends the stream: `undefined` after a clean half-close, else the error that ended it
   * (a reset is a ConnectError with Code.Canceled). Returns the error to send, if any.
   */
  close(error?: unknown): ConnectError | undefined;
}

/** Opens a session per stream; throws UNAVAILABLE while the server drains. */
export type StreamOpener = () => StreamSession;

/** Runs one stream as an async generator (connect-node's handler shape). */
export type StreamRunner = (requests: AsyncIterable<ProcessingRequest>) => AsyncGenerator<ProcessingResponse>;

const noReplies: readonly ProcessingResponse[] = [];

/**
 * The per-stream logic shared by both transports (connect-node and the lean gRPC handler):
 * refuses new streams while draining, one StreamMachine per stream, metrics, tracing, and
 * errors mapped to ConnectError codes.
 */
/** Codes that blame the client's stream, not the service. */
const clientFaults: ReadonlySet<Code> = new Set([
  Code.InvalidArgument,
  Code.ResourceExhausted,
  Code.Unimplemented,
  Code.FailedPrecondition,
  Code.OutOfRange,
]);

export function createStreamOpener(
  service: Service,
  log: Logger,
  metrics: SdkMetrics,
  settings: StreamSettings,
  tracker: StreamTracker,
): StreamOpener {
  const observer = metrics.observer(service.name);
  const streamsTotal = metrics.streamsTotal.labels(service.name);
  const streamsActive = metrics.streamsActive.labels(service.name);
  return function open(): StreamSession {
    if (tracker.draining) throw new ConnectError("server is draining", Code.Unavailable);
    const streamId = `${process.pid.toString(36)}-${(++streamCounter).toString(36)}`;
    const streamContext = createStreamContext(streamId, log);
    // A span per stream, started with the first message (its headers carry the trace context);
    // a no-op unless tracing was started (startTracing) or the host registered an SDK.
    let span: Span | undefined;
    let first = true;
    let closed = false;
    let spanContext: Context = context.active();
    const machine = new StreamMachine({
      processor: service.processor(streamContext),
      context: streamContext,
      observer,
      ...settings,
    });
    tracker.begin();
    streamsTotal.inc();
    streamsActive.inc();
    return {
      async handle(message) {
        if (first) {
          first = false;
          if (tracingEnabled()) ({ span, ctx: spanContext } = startStreamSpan(service.name, message));
        }
        // Only a recorded span is made active: entering an AsyncLocalStorage context per message
        // costs CPU even when nothing is exported (unsampled streams skip it).
        const replies = span?.isRecording()
          ? await context.with(spanContext, () => machine.handle(message))
          : await machine.handle(message);
        return machine.observability ? noReplies : replies;
      },
      close(error) {
        if (closed) return undefined;
        closed = true;
        let connectError: ConnectError | undefined;
        if (error !== undefined) {
          connectError = isProtocolError(error)
            ? new ConnectError(error.message, Code.InvalidArgument)
            : ConnectError.from(error);
          if (connectError.code !== Code.Canceled) {
            metrics.streamErrors.inc({ service: service.name, code: Code[connectError.code] });
            // A client's fault (bad framing, a size limit) is logged by code and message: its
            // stack says nothing, and a flood of them must stay cheap. Our own faults keep theirs.
            if (clientFaults.has(connectError.code)) {
              streamContext.log.warn(
                { grpc_code: Code[connectError.code], err: connectError.rawMessage },
                "stream ended with an error",
              );
            } else streamContext.log.warn({ err: connectError }, "stream ended with an error");
            span?.recordException(connectError);
          }
        }
        machine.end(connectError !== undefined);
        streamContext.abort();
        streamsActive.dec();
        tracker.end();
        span?.setAttribute("callouts.request_id", streamContext.requestId ?? "");
        span?.end();
        return connectError;
      },
    };
  };
}

/** The opener as connect-node's handler shape: an async generator over the requests. */
export function streamRunner(open: StreamOpener): StreamRunner {
  return async function* run(requests) {
    const session = open();
    let completed = false;
    let failed = false;
    try {
      for await (const message of requests) {
        for (const reply of await session.handle(message)) yield reply;
      }
      completed = true;
    } catch (error) {
      failed = true;
      throw session.close(error) ?? error;
    } finally {
      // Neither completed nor failed: connect called return() on the generator (the client went away).
      if (!failed)
        session.close(completed ? undefined : new ConnectError("stream cancelled by the client", Code.Canceled));
    }
  };
}

/** ExternalProcessor.Process for connect-node. */
export function createExtProcService(run: StreamRunner): ServiceImpl<typeof ExternalProcessor> {
  return { process: (requests) => run(requests) };
}
