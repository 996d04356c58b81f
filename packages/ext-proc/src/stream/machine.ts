import { openAiErrorResponse } from "@llm-callouts/llm-api";
import type {
  HttpBody,
  HttpHeaders,
  HttpTrailers,
  ProcessingRequest,
  ProcessingResponse,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { bytesEqual, concatBytes, emptyBytes } from "../bytes.js";
import type { Header } from "../headers.js";
import type {
  Awaitable,
  BodyDecision,
  BodyEvent,
  BodyHandling,
  ChunkDecision,
  ChunkEvent,
  Direction,
  DynamicMetadata,
  HeaderMutation,
  HeadersDecision,
  HeadersEvent,
  ImmediateResponse,
  JsonValue,
  ModeOverride,
  Phase,
  Processor,
  TrailersDecision,
  TrailersEvent,
} from "../processor.js";
import type { AssumedModes, FailurePolicy } from "../service.js";
import { tracer } from "../tracing.js";
import { buildHeaderMutation, readHeaderMap } from "../wire/headers.js";
import { mergeMetadata, readAttributes, readForwardedMetadata } from "../wire/metadata.js";
import { bodyModeName, buildModeOverride } from "../wire/modes.js";
import {
  attachMetadata,
  commonReply,
  immediateReply,
  replaceBodyMutation,
  streamedBodyReplies,
  toBytes,
  trailersReply,
} from "../wire/replies.js";
import { chunkOutput } from "./chunk-output.js";
import type { MutableStreamContext } from "./context.js";
import { type DirectionState, mergeMutations, newDirection } from "./direction-state.js";
import { ProtocolError } from "./errors.js";
import { heldBodyReplies } from "./held-body-replies.js";
import type { StreamObserver } from "./observer.js";
import { advanceOrder, initialOrder, type OrderState } from "./order.js";
import { type CallGuard, type CallResult, callProcessor } from "./processor-call.js";

export interface StreamMachineOptions {
  readonly processor: Processor;
  readonly context: MutableStreamContext;
  readonly assumedModes: AssumedModes;
  readonly failure: FailurePolicy;
  /** Largest body the SDK accumulates for `whole` handling; more gets a 413. */
  readonly maxBufferedBodyBytes: number;
  /** STREAMED whole-body handling: held bytes past this go to the processor as `partial`. */
  readonly streamedHoldBytes: number;
  /** Largest FULL_DUPLEX_STREAMED reply chunk. */
  readonly replyChunkBytes: number;
  /** A processor call slower than this follows the failure policy (0 = no limit). */
  readonly processorTimeoutMs: number;
  readonly observer: StreamObserver;
}

/**
 * Where a stream is in its life: `new` (no message yet: protocol_config still to read), `open`,
 * `completed` (the response ended), `responded` (an immediate response went out; Envoy sends
 * nothing more and anything late is ignored), `ended` (onStreamEnd ran).
 */
export type StreamPhase = "new" | "open" | "completed" | "responded" | "ended";

/** The processor hooks by kind: the event each takes and the decision it returns. */
interface Hooks {
  Headers: { event: HeadersEvent; decision: HeadersDecision };
  Body: { event: BodyEvent; decision: BodyDecision };
  BodyChunk: { event: ChunkEvent; decision: ChunkDecision };
  Trailers: { event: TrailersEvent; decision: TrailersDecision };
}
type HookKind = keyof Hooks;

/** One hook call: the processor's decision, or the replies that end the message (fail-closed, respond). */
type Invoked<D> =
  | { readonly decision: D | undefined; readonly replies?: undefined }
  | { readonly replies: ProcessingResponse[] };

/**
 * The per-stream state machine: turns Envoy's ProcessingRequests into the replies
 * each processing mode requires, calling the processor for *what* to do.
 * One instance per gRPC stream; `handle` must be called sequentially.
 */
export class StreamMachine {
  private readonly opts: StreamMachineOptions;
  private readonly ctx: MutableStreamContext;
  private order: OrderState = initialOrder;
  private phase: StreamPhase = "new";
  private sendBodyWithoutWaiting: boolean;
  /** The filter's configured modes have FULL_DUPLEX_STREAMED in a direction: Envoy ignores overrides. */
  private duplexFilter = false;
  private readonly dirs: Record<Direction, DirectionState>;
  private readonly guard: CallGuard;

  constructor(options: StreamMachineOptions) {
    this.opts = options;
    this.ctx = options.context;
    this.sendBodyWithoutWaiting = options.assumedModes.sendBodyWithoutWaitingForHeaderResponse;
    this.dirs = {
      request: newDirection(options.assumedModes.requestBody),
      response: newDirection(options.assumedModes.responseBody),
    };
    this.syncModes();
    this.guard = {
      timeoutMs: options.processorTimeoutMs,
      observer: options.observer,
      log: () => this.ctx.log,
      streamId: this.ctx.streamId,
      failureMode: options.failure.mode,
    };
  }

  /** Where the stream is (see StreamPhase). */
  get streamPhase(): StreamPhase {
    return this.phase;
  }

  /** Whether Envoy sends this stream in observability mode (replies are dropped). */
  get observability(): boolean {
    return this.ctx.observability;
  }

  /** Handles one message; returns the replies to send, in order. */
  async handle(message: ProcessingRequest): Promise<ProcessingResponse[]> {
    this.ctx.observability = message.observabilityMode;
    if (this.phase === "new") this.readProtocolConfig(message);
    if (message.metadataContext) this.ctx.metadata = readForwardedMetadata(message.metadataContext);
    if (Object.keys(message.attributes).length > 0) {
      this.ctx.attributes = mergeAttributes(this.ctx.attributes, readAttributes(message.attributes));
    }
    // After an immediate response Envoy sends nothing more; anything late is ignored.
    if (this.phase === "responded" || this.phase === "ended") return [];
    const request = message.request;
    switch (request.case) {
      case "requestHeaders":
        return this.onHeaders("request", request.value);
      case "responseHeaders":
        return this.onHeaders("response", request.value);
      case "requestBody":
        return this.onBody("request", request.value);
      case "responseBody":
        return this.onBody("response", request.value);
      case "requestTrailers":
        return this.onTrailers("request", request.value);
      case "responseTrailers":
        return this.onTrailers("response", request.value);
      default:
        throw new ProtocolError("ProcessingRequest carries no known request field");
    }
  }

  /** Ends the stream; calls the processor's onStreamEnd exactly once. */
  end(aborted: boolean): void {
    const phase = this.phase;
    if (phase === "ended") return;
    this.phase = "ended";
    try {
      this.opts.processor.onStreamEnd?.({
        aborted,
        respondedImmediately: phase === "responded",
        completed: !aborted && (phase === "completed" || phase === "responded"),
      });
    } catch (error) {
      this.ctx.log.error({ err: error }, "onStreamEnd failed");
    }
  }

  private readProtocolConfig(message: ProcessingRequest): void {
    this.phase = "open";
    const config = message.protocolConfig;
    if (!config && message.observabilityMode) {
      // Envoy sends no protocol_config in observability mode and sends bodies there only in
      // STREAMED (Filter::encodeProtocolConfig, Filter::sendDataInObservabilityMode).
      this.dirs.request.bodyMode = "STREAMED";
      this.dirs.response.bodyMode = "STREAMED";
      this.syncModes();
    }
    if (!config) {
      this.duplexFilter = this.isDuplex("request") || this.isDuplex("response");
      return;
    }
    this.dirs.request.bodyMode = bodyModeName(config.requestBodyMode) ?? this.dirs.request.bodyMode;
    this.dirs.response.bodyMode = bodyModeName(config.responseBodyMode) ?? this.dirs.response.bodyMode;
    this.sendBodyWithoutWaiting = config.sendBodyWithoutWaitingForHeaderResponse;
    this.duplexFilter = this.isDuplex("request") || this.isDuplex("response");
    this.syncModes();
  }

  private syncModes(): void {
    this.ctx.bodyModes = { request: this.dirs.request.bodyMode, response: this.dirs.response.bodyMode };
  }

  private isDuplex(direction: Direction): boolean {
    return this.dirs[direction].bodyMode === "FULL_DUPLEX_STREAMED";
  }

  /** Whether Envoy sends the body before the headers reply, so that reply can wait. */
  private canHoldHeaders(direction: Direction): boolean {
    const mode = this.dirs[direction].bodyMode;
    return mode === "FULL_DUPLEX_STREAMED" || (mode === "STREAMED" && this.sendBodyWithoutWaiting);
  }

  /** The response reached its end (end_of_stream on headers or body, or trailers). */
  private responseEnded(): void {
    if (this.phase === "open") this.phase = "completed";
  }

  private defaultHandling(direction: Direction): BodyHandling {
    const p = this.opts.processor;
    if (direction === "request") return p.onRequestBody ? "whole" : p.onRequestBodyChunk ? "chunks" : "pass";
    return p.onResponseBody ? "whole" : p.onResponseBodyChunk ? "chunks" : "pass";
  }

  // ---- headers --------------------------------------------------------------

  private async onHeaders(direction: Direction, message: HttpHeaders): Promise<ProcessingResponse[]> {
    const phase: Phase = `${direction}Headers`;
    this.order = advanceOrder(this.order, direction, "headers");
    this.opts.observer.message(phase);
    const dir = this.dirs[direction];
    dir.headers = readHeaderMap(message.headers);
    if (direction === "request") this.ctx.setRequestHeaders(dir.headers);
    const invoked = await this.invoke(direction, "Headers", { headers: dir.headers, endOfStream: message.endOfStream });
    if (invoked.replies) return invoked.replies;
    const decision: HeadersDecision = invoked.decision ?? {};

    const override = this.acceptModeOverride(decision.modeOverride);
    dir.handling = decision.body ?? this.defaultHandling(direction);
    if (message.endOfStream) {
      dir.bodyDone = true;
      if (direction === "response") this.responseEnded();
    } else if (dir.handling === "whole" && dir.bodyMode !== "NONE" && this.canHoldHeaders(direction)) {
      dir.heldHeaders = decision;
      dir.heldModeOverride = override;
      this.opts.observer.decision(phase, "hold");
      return [];
    }
    return [this.headersReply(direction, phase, decision, override)];
  }

  /** Applies a processor's mode override to our view; overriding into FULL_DUPLEX is refused (envoy #40340). */
  private acceptModeOverride(override: ModeOverride | undefined): ModeOverride | undefined {
    if (!override) return undefined;
    if (override.requestBody === "FULL_DUPLEX_STREAMED" || override.responseBody === "FULL_DUPLEX_STREAMED") {
      this.ctx.log.warn("mode override into FULL_DUPLEX_STREAMED refused (envoy #40340 drops the first chunk)");
      return undefined;
    }
    // Envoy ignores overrides when it sends bodies without waiting for header replies, and when
    // the filter is configured FULL_DUPLEX_STREAMED in either direction (Filter::onReceiveMessage):
    // applying one to our view would take the first STREAMED chunk for the whole body.
    if (this.sendBodyWithoutWaiting || this.duplexFilter) {
      this.ctx.log.debug("mode override not sent: Envoy ignores it with this filter configuration");
      return undefined;
    }
    if (override.requestBody && !this.dirs.request.bodyDone) this.dirs.request.bodyMode = override.requestBody;
    if (override.responseBody) this.dirs.response.bodyMode = override.responseBody;
    this.syncModes();
    return override;
  }

  private headersReply(
    direction: Direction,
    phase: Phase,
    decision: HeadersDecision,
    override: ModeOverride | undefined,
    extra: {
      headers?: HeaderMutation;
      extraSet?: Header[];
      clearRouteCache?: boolean;
      metadata?: DynamicMetadata;
    } = {},
  ): ProcessingResponse {
    const headers = mergeMutations(decision.headers, extra.headers);
    const built = buildHeaderMutation(headers, extra.extraSet);
    this.noteRefused(built.refused);
    const clearRouteCache = decision.clearRouteCache === true || extra.clearRouteCache === true;
    const dynamicMetadata = mergeMetadata(decision.dynamicMetadata, extra.metadata);
    this.opts.observer.decision(
      phase,
      built.mutation || clearRouteCache || dynamicMetadata || override ? "mutate" : "continue",
    );
    return commonReply(direction, "Headers", {
      headerMutation: built.mutation,
      clearRouteCache,
      dynamicMetadata,
      modeOverride: override
        ? buildModeOverride(override, {
            requestBody: this.dirs.request.bodyMode,
            responseBody: this.dirs.response.bodyMode,
          })
        : undefined,
    });
  }

  // ---- body -----------------------------------------------------------------

  private async onBody(direction: Direction, message: HttpBody): Promise<ProcessingResponse[]> {
    const phase: Phase = `${direction}Body`;
    const dir = this.dirs[direction];
    this.opts.observer.message(phase);
    if (dir.bodyDone) {
      // A second end_of_stream chunk (envoy #46237) or GCP's trailing empty chunk:
      // answer it where a reply is due, never emit the body twice.
      this.opts.observer.duplicateEndOfStream();
      return this.isDuplex(direction) ? [] : [commonReply(direction, "Body", {})];
    }
    this.order = advanceOrder(this.order, direction, "body");
    dir.handling ??= this.defaultHandling(direction);
    const chunk = message.body;
    const eos = message.endOfStream;
    if (eos && direction === "response") this.responseEnded();
    switch (dir.handling) {
      case "pass":
        if (eos) dir.bodyDone = true;
        this.opts.observer.decision(phase, "continue");
        if (this.isDuplex(direction)) return streamedBodyReplies(direction, chunk, eos, this.opts.replyChunkBytes);
        return [commonReply(direction, "Body", {})];
      case "chunks":
        return this.onChunk(direction, chunk, eos);
      case "whole":
        return this.onWholeChunk(direction, chunk, eos);
    }
  }

  private async onChunk(direction: Direction, chunk: Uint8Array, eos: boolean): Promise<ProcessingResponse[]> {
    const phase: Phase = `${direction}Body`;
    const dir = this.dirs[direction];
    const data = dir.carry.length > 0 ? concatBytes([dir.carry, chunk]) : chunk;
    const index = dir.chunkIndex++;
    const invoked = await this.invoke(direction, "BodyChunk", { data, endOfStream: eos, index, headers: dir.headers });
    if (invoked.replies) return invoked.replies;
    const decision = invoked.decision;
    const { emit, carry } = chunkOutput(data, decision, eos);
    if (eos) dir.bodyDone = true;
    dir.carry = carry;
    const metadata = mergeMetadata(dir.pendingMetadata, decision?.dynamicMetadata);
    const changed = !bytesEqual(emit, chunk);
    this.opts.observer.decision(phase, changed || metadata ? "mutate" : "continue");
    if (this.isDuplex(direction)) {
      const replies = streamedBodyReplies(direction, emit, eos, this.opts.replyChunkBytes);
      dir.pendingMetadata = attachMetadata(replies, metadata);
      return replies;
    }
    dir.pendingMetadata = undefined;
    return [
      commonReply(direction, "Body", {
        bodyMutation: changed ? replaceBodyMutation(emit) : undefined,
        headerMutation:
          changed && eos && dir.chunkIndex === 1 ? this.contentLengthFix(direction, emit.length) : undefined,
        dynamicMetadata: metadata,
      }),
    ];
  }

  private async onWholeChunk(direction: Direction, chunk: Uint8Array, eos: boolean): Promise<ProcessingResponse[]> {
    const phase: Phase = `${direction}Body`;
    const dir = this.dirs[direction];
    dir.chunks.push(chunk);
    dir.bufferedBytes += chunk.length;
    if (!eos && dir.bodyMode === "STREAMED" && dir.bufferedBytes > this.opts.streamedHoldBytes) {
      // Envoy raises its watermark once the chunks it sent and we have not answered exceed its
      // buffer limit, and reads no more of the body (ProcessorState::enqueueStreamingChunk):
      // holding on would stall until the message timeout. Hand over what arrived, pass the rest.
      dir.heldBodyReplies++;
      this.opts.observer.error(phase, "streamed_hold_limit");
      this.ctx.log.warn(
        { bytes: dir.bufferedBytes, limit: this.opts.streamedHoldBytes },
        "STREAMED body outgrew the hold limit: processed as partial, the rest passes",
      );
      const replies = await this.finishWhole(direction, false, true);
      dir.bodyDone = false;
      dir.handling = "pass";
      return replies;
    }
    if (dir.bufferedBytes > this.opts.maxBufferedBodyBytes) {
      this.opts.observer.error(phase, "body_too_large");
      return this.respond(phase, payloadTooLarge(this.opts.maxBufferedBodyBytes));
    }
    const duplex = this.isDuplex(direction);
    if (!duplex) dir.heldBodyReplies++;
    // BUFFERED modes send exactly one body message. It lacks end_of_stream when trailers
    // follow (or, in BUFFERED_PARTIAL, when the body outgrew Envoy's buffer) and Envoy
    // waits for its reply before sending the trailers.
    const buffered = dir.bodyMode === "BUFFERED" || dir.bodyMode === "BUFFERED_PARTIAL";
    const partial = !eos && dir.bodyMode === "BUFFERED_PARTIAL";
    if (!eos && !buffered) {
      this.opts.observer.decision(phase, "hold");
      return [];
    }
    return this.finishWhole(direction, eos, partial);
  }

  /** Calls the processor with the whole body and emits every held reply. */
  private async finishWhole(
    direction: Direction,
    endOfStream: boolean,
    partial: boolean,
  ): Promise<ProcessingResponse[]> {
    const phase: Phase = `${direction}Body`;
    const dir = this.dirs[direction];
    const body = concatBytes(dir.chunks);
    dir.chunks = [];
    dir.bodyDone = true;
    const heldHeaders = dir.heldHeaders;
    dir.heldHeaders = undefined;
    const invoked = await this.invoke(
      direction,
      "Body",
      { body, headers: dir.headers, partial },
      heldHeaders?.dynamicMetadata,
    );
    if (invoked.replies) return invoked.replies;
    const decision: BodyDecision = invoked.decision ?? {};
    const finalBody = decision.replaceBody === undefined ? body : toBytes(decision.replaceBody);
    const replaced = !bytesEqual(finalBody, body);
    const replies: ProcessingResponse[] = [];
    let bodyLevelApplied = false;
    if (heldHeaders) {
      // The held headers reply carries both decisions and the body's final length.
      replies.push(
        this.headersReply(direction, `${direction}Headers`, heldHeaders, dir.heldModeOverride, {
          headers: decision.headers,
          extraSet: [["content-length", String(finalBody.length)]],
          clearRouteCache: decision.clearRouteCache,
          metadata: decision.dynamicMetadata,
        }),
      );
      bodyLevelApplied = true;
    }
    this.opts.observer.decision(
      phase,
      replaced || decision.headers || decision.clearRouteCache ? "mutate" : "continue",
    );
    if (this.isDuplex(direction)) {
      if (!bodyLevelApplied) this.noteDropped(phase, decision);
      replies.push(...streamedBodyReplies(direction, finalBody, endOfStream, this.opts.replyChunkBytes));
      return replies;
    }
    const buffered = dir.bodyMode === "BUFFERED" || dir.bodyMode === "BUFFERED_PARTIAL";
    // Header mutations and clear_route_cache in body replies apply only in BUFFERED.
    if (!bodyLevelApplied && !buffered) this.noteDropped(phase, decision);
    const held = heldBodyReplies({
      direction,
      count: dir.heldBodyReplies,
      finalBody,
      replaced,
      buffered,
      bodyLevelApplied,
      decision,
      lengthFix:
        replaced && buffered && !bodyLevelApplied ? this.contentLengthFixPairs(direction, finalBody.length) : [],
    });
    dir.heldBodyReplies = 0;
    this.noteRefused(held.refused);
    replies.push(...held.replies);
    return replies;
  }

  /** BUFFERED with headers SEND: a changed size needs a matching content-length (else Envoy rejects it). */
  private contentLengthFix(direction: Direction, length: number) {
    return buildHeaderMutation(undefined, this.contentLengthFixPairs(direction, length)).mutation;
  }

  private contentLengthFixPairs(direction: Direction, length: number): Header[] {
    return this.dirs[direction].headers.has("content-length") ? [["content-length", String(length)]] : [];
  }

  // ---- trailers -------------------------------------------------------------

  private async onTrailers(direction: Direction, message: HttpTrailers): Promise<ProcessingResponse[]> {
    const phase: Phase = `${direction}Trailers`;
    this.order = advanceOrder(this.order, direction, "trailers");
    this.opts.observer.message(phase);
    const dir = this.dirs[direction];
    if (direction === "response") this.responseEnded();
    const replies: ProcessingResponse[] = [];
    if (!dir.bodyDone) {
      // Trailers end a body whose last chunk carried no end_of_stream.
      if (dir.handling === "whole" && (dir.chunks.length > 0 || dir.heldHeaders || dir.heldBodyReplies > 0)) {
        replies.push(...(await this.finishWhole(direction, false, false)));
        if (this.phase === "responded") return replies;
      } else if (dir.handling === "chunks" && dir.carry.length > 0) {
        replies.push(...(await this.flushCarry(direction)));
        if (this.phase === "responded") return replies;
      }
      dir.bodyDone = true;
    }
    const invoked = await this.invoke(direction, "Trailers", { trailers: readHeaderMap(message.trailers) });
    if (invoked.replies) return [...replies, ...invoked.replies];
    const decision = invoked.decision;
    const built = buildHeaderMutation(decision?.trailers);
    this.noteRefused(built.refused);
    this.opts.observer.decision(phase, built.mutation ? "mutate" : "continue");
    replies.push(
      trailersReply(direction, built.mutation, mergeMetadata(dir.pendingMetadata, decision?.dynamicMetadata)),
    );
    dir.pendingMetadata = undefined;
    return replies;
  }

  /** A carry still held when trailers end the body: duplex can still emit it; STREAMED cannot. */
  private async flushCarry(direction: Direction): Promise<ProcessingResponse[]> {
    const dir = this.dirs[direction];
    if (!this.isDuplex(direction)) {
      this.opts.observer.error(`${direction}Body`, "carry_dropped");
      this.ctx.log.error({ bytes: dir.carry.length }, "carry-over dropped: STREAMED body ended by trailers");
      dir.carry = emptyBytes;
      return [];
    }
    const carry = dir.carry;
    dir.carry = emptyBytes;
    const invoked = await this.invoke(direction, "BodyChunk", {
      data: carry,
      endOfStream: true,
      index: dir.chunkIndex++,
      headers: dir.headers,
    });
    if (invoked.replies) return invoked.replies;
    const decision = invoked.decision;
    const emit = decision?.emit === undefined ? carry : toBytes(decision.emit);
    return streamedBodyReplies(direction, emit, false, this.opts.replyChunkBytes);
  }

  // ---- shared ---------------------------------------------------------------

  /**
   * The one way a hook is called: choose the direction's hook, call it under the time budget (in a
   * span when the stream is traced), then apply the failure policy (fail-closed replies; fail-open
   * reads as no decision) and answer a `respond` decision with an immediate response carrying
   * `metadata` (decisions held so far) merged with the decision's own.
   */
  private async invoke<K extends HookKind>(
    direction: Direction,
    kind: K,
    event: Hooks[K]["event"],
    metadata?: DynamicMetadata,
  ): Promise<Invoked<Hooks[K]["decision"]>> {
    const phase: Phase = kind === "BodyChunk" ? `${direction}Body` : `${direction}${kind as Exclude<K, "BodyChunk">}`;
    const name = `on${direction === "request" ? "Request" : "Response"}${kind}` as const;
    const hook = this.opts.processor[name] as
      | ((event: Hooks[K]["event"]) => Awaitable<Hooks[K]["decision"] | undefined | void>)
      | undefined;
    const result = await this.call(phase, () => hook?.call(this.opts.processor, event));
    if (!result.ok) {
      if (this.opts.failure.mode === "open") return { decision: undefined };
      const reply = openAiErrorResponse(
        this.opts.failure.status,
        "callout_failure",
        "The request could not be processed.",
        { type: "server_error" },
      );
      return { replies: this.respond(phase, reply) };
    }
    const decision = result.value || undefined;
    if (decision?.respond) {
      return { replies: this.respond(phase, decision.respond, mergeMetadata(metadata, decision.dynamicMetadata)) };
    }
    return { decision };
  }

  private respond(phase: Phase, reply: ImmediateResponse, metadata?: DynamicMetadata): ProcessingResponse[] {
    this.phase = "responded";
    this.opts.observer.decision(phase, "respond");
    return [immediateReply(reply, metadata)];
  }

  /** One processor call, in a child span of the stream's when that one is recorded. */
  private call<T>(phase: Phase, run: () => T | Promise<T> | undefined): Promise<CallResult<T>> {
    if (!trace.getActiveSpan()?.isRecording()) return callProcessor(phase, run, this.guard);
    return tracer.startActiveSpan(`ext_proc ${phase}`, { attributes: { "callouts.phase": phase } }, async (span) => {
      const result = await callProcessor(phase, run, this.guard);
      if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: `processor ${phase} failed` });
      span.end();
      return result;
    });
  }

  private noteRefused(names: readonly string[]): void {
    if (names.length === 0) return;
    this.opts.observer.refusedHeaders(names);
    this.ctx.log.warn({ headers: names }, "refused mutation of protected headers");
  }

  private noteDropped(phase: Phase, decision: BodyDecision): void {
    if (!decision.headers && !decision.clearRouteCache) return;
    this.opts.observer.error(phase, "mutation_dropped");
    const direction: Direction = phase.startsWith("request") ? "request" : "response";
    this.ctx.log.debug(
      { phase, mode: this.dirs[direction].bodyMode },
      "header changes from a body decision cannot apply in this mode (headers were already answered)",
    );
  }
}

/** Request and response attributes arrive in different messages under the same filter key: merge per key. */
function mergeAttributes(
  previous: MutableStreamContext["attributes"],
  next: MutableStreamContext["attributes"],
): MutableStreamContext["attributes"] {
  const merged: Record<string, Readonly<Record<string, JsonValue>>> = { ...previous };
  for (const [key, values] of Object.entries(next)) merged[key] = { ...previous[key], ...values };
  return merged;
}

function payloadTooLarge(limit: number): ImmediateResponse {
  return openAiErrorResponse(413, "body_too_large", `Request body exceeds the limit of ${limit} bytes.`);
}
