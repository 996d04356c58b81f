import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type CommonResponse,
  CommonResponse_ResponseStatus,
  type ImmediateResponse,
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { concatBytes } from "../bytes.js";
import { type Header, toHeaderList } from "../headers.js";
import type { BodyMode, Direction, HeaderSendMode, JsonValue } from "../processor.js";
import { writeHeaderMap } from "../wire/headers.js";
import { bodyModeValue } from "../wire/modes.js";
import { Channel } from "./channel.js";
import { applyHeaderMutation, MutationError } from "./header-rules.js";
import { decideModeOverride, modeSpecFromWire } from "./override-rules.js";
import { ReplyQueue } from "./reply-queue.js";
import type { BodySource, ExchangeResult, FilterConfig, HttpMessage, TraceEntry } from "./types.js";

const encoder = new TextEncoder();
const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

type ErrorKind = NonNullable<ExchangeResult["error"]>["kind"];
export type FilterError = NonNullable<ExchangeResult["error"]>;

/** A local reply: an immediate response from the server, or an Envoy error reply. */
export class LocalReply {
  constructor(
    readonly status: number,
    readonly headers: Header[],
    readonly body: Uint8Array,
    readonly details: string,
    /** true for the server's immediate_response, false for Envoy's own error replies. */
    readonly immediate: boolean,
  ) {}
}

/** Thrown by a response body after its headers went downstream: Envoy resets the stream. */
export class StreamReset extends Error {
  override readonly name = "StreamReset";
}

/** An HTTP message as the filter receives it. */
export interface FilterMessage {
  readonly headers: Header[];
  readonly body: BodySource | undefined;
  readonly trailers: Header[] | undefined;
}

export interface ProcessedRequest {
  readonly headers: Header[];
  readonly body: Uint8Array;
  readonly trailers: Header[] | undefined;
}

/** A response as the filter passes it on: headers now, body as it is processed. */
export interface ProcessedResponse {
  readonly headers: Header[];
  readonly body: AsyncIterable<Uint8Array>;
  /** Resolves once the body ended. */
  trailers(): Promise<Header[] | undefined>;
}

interface Modes {
  requestHeaderMode: HeaderSendMode;
  responseHeaderMode: HeaderSendMode;
  requestBodyMode: BodyMode;
  responseBodyMode: BodyMode;
  requestTrailerMode: HeaderSendMode;
  responseTrailerMode: HeaderSendMode;
}

/** Where a direction's output goes as Envoy forwards it. */
interface Sink {
  /** Headers leave the filter (downstream or to the next filter). */
  headers(headers: Header[]): void;
  chunk(chunk: Uint8Array): void;
}

/**
 * One instance of Envoy's ext_proc HTTP filter for one HTTP request: one gRPC stream,
 * the request path, then the response path (streamed). `createEnvoyClient().exchange`
 * and the local gateway's filter chain are both built on it.
 */
export class ExtProcFilter {
  private readonly call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  private readonly queue = new ReplyQueue();
  private readonly modes: Modes;
  readonly trace: TraceEntry[] = [];
  private serverActive = true;
  private firstSent = false;
  routeCacheCleared = false;
  clearRouteCacheIgnored = 0;
  rejectedHeaderMutations = 0;
  readonly modeOverridesIgnored: string[] = [];
  readonly messageTimeoutOverrides = { applied: 0, ignored: 0 };
  /** Filter::failureModeAllow(): false once a FULL_DUPLEX_STREAMED direction received body data. */
  private duplexBodyReceived = false;
  /** CONTINUE_AND_REPLACE on a headers reply: that direction sends nothing more. */
  private readonly replaced = { request: false, response: false };
  error: FilterError | undefined;
  immediateResponse: ExchangeResult["immediateResponse"];
  readonly dynamicMetadata: Record<string, Record<string, JsonValue>> = {};
  /** Response headers went downstream: later failures reset the stream. */

  private aborted = false;
  private finished = false;

  private forwardedMetadata: FilterConfig["forwardedMetadata"];

  constructor(
    client: grpc.Client,
    private readonly config: FilterConfig,
    private readonly traceEnabled = false,
  ) {
    this.forwardedMetadata = config.forwardedMetadata;
    const m = config.processingMode ?? {};
    this.modes = {
      requestHeaderMode: m.requestHeaderMode ?? "SEND",
      responseHeaderMode: m.responseHeaderMode ?? "SEND",
      requestBodyMode: m.requestBodyMode ?? "NONE",
      responseBodyMode: m.responseBodyMode ?? "NONE",
      requestTrailerMode: m.requestTrailerMode ?? "SKIP",
      responseTrailerMode: m.responseTrailerMode ?? "SKIP",
    };
    this.call = client.makeBidiStreamRequest(
      processPath,
      (message: ProcessingRequest) => Buffer.from(toBinary(ProcessingRequestSchema, message)),
      (bytes: Buffer) => {
        const message = fromBinary(ProcessingResponseSchema, bytes);
        sizes.set(message, bytes.length);
        return message;
      },
    );
    this.call.on("data", (message: ProcessingResponse) => {
      if (this.traceEnabled) this.record("received", message.response.case ?? "none", message);
      this.queue.push(message, sizes.get(message) ?? 0);
    });
    this.call.on("error", (err: grpc.ServiceError) => this.queue.fail(err.code, err.details));
    this.call.on("end", () => this.queue.close());
  }

  /** The request path. Throws LocalReply when the exchange ends here. */
  async processRequest(message: FilterMessage): Promise<ProcessedRequest> {
    let headers: Header[] = [];
    const chunks: Uint8Array[] = [];
    const trailers = await this.direction("request", message, {
      headers: (h) => {
        headers = h;
      },
      chunk: (c) => chunks.push(c),
    });
    return { headers, body: concatBytes(chunks), trailers };
  }

  /**
   * The response path. Resolves when the headers would go downstream; the body is
   * produced as chunks are processed. Throws LocalReply before the headers left.
   */
  processResponse(message: FilterMessage): Promise<ProcessedResponse> {
    const body = new Channel<Uint8Array>();
    let resolveHeaders: ((h: Header[]) => void) | undefined;
    const headersReady = new Promise<Header[]>((resolve) => {
      resolveHeaders = resolve;
    });
    const done = this.direction("response", message, {
      headers: (h) => {
        resolveHeaders?.(h);
        resolveHeaders = undefined;
      },
      chunk: (c) => body.push(c),
    });
    const trailers = done.then(
      (t) => {
        body.end();
        return t;
      },
      (error: unknown) => {
        body.fail(error instanceof LocalReply ? new StreamReset(`reset: ${error.details}`) : error);
        return undefined;
      },
    );
    return Promise.race([
      headersReady,
      // Before the headers left, a failure is a local reply the caller sees.
      done.then(() => headersReady),
    ]).then((headers) => ({ headers, body, trailers: () => trailers }));
  }

  /** Metadata sent as `metadata_context` from now on (e.g. the served endpoint on the response path). */
  setForwardedMetadata(metadata: FilterConfig["forwardedMetadata"]): void {
    this.forwardedMetadata = metadata;
  }

  /** The downstream client went away: Envoy resets the ext_proc stream. */
  abort(): void {
    this.aborted = true;
    this.serverActive = false;
    this.call.cancel();
  }

  /**
   * Closes the gRPC stream as Envoy does when the filter is done: ProcessorStreamImpl::close()
   * half-closes, then resets (closeStream() + resetStream() in grpc_client_impl.h); after an
   * error or abort it resets. Observability mode defers the close (Filter::deferredCloseStream),
   * so the server still reads every message: there the stream is only half-closed.
   */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.aborted || this.immediateResponse || this.error) {
      this.call.cancel();
      return;
    }
    this.call.end();
    if (this.config.observabilityMode !== true) setImmediate(() => this.call.cancel());
  }

  get wasAborted(): boolean {
    return this.aborted;
  }

  // ---- one direction ----------------------------------------------------------

  private async direction(dir: Direction, message: FilterMessage, sink: Sink): Promise<Header[] | undefined> {
    const headerMode = this.modes[`${dir}HeaderMode`];
    let bodyMode = this.modes[`${dir}BodyMode`];
    const observability = this.config.observabilityMode === true;
    let headers = message.headers;
    const hasBody = message.body !== undefined;
    const hasTrailers = message.trailers !== undefined;
    let replacedBody: Uint8Array | undefined;

    const duplex = bodyMode === "FULL_DUPLEX_STREAMED";
    const noWait =
      observability ||
      duplex ||
      (bodyMode === "STREAMED" && this.config.sendBodyWithoutWaitingForHeaderResponse === true);
    let headerReplyPending = false;
    const sendsHeaders = headerMode !== "SKIP" && this.serverActive;
    if (sendsHeaders) {
      this.send(dir, "Headers", { headers: writeHeaderMap(headers), endOfStream: !hasBody && !hasTrailers });
    }
    // decodeHeaders/encodeHeaders: after the headers message went out (so the server saw it),
    // content-length is removed in the modes where the body may change chunk by chunk.
    if (this.serverActive && !observability && this.shouldRemoveContentLength(dir)) {
      headers = headers.filter(([n]) => n !== "content-length");
    }
    if (sendsHeaders) {
      if (!noWait) {
        const reply = await this.expect(dir, ["Headers"], this.messageTimeout());
        if (reply) {
          const applied = this.applyHeadersReply(dir, headers, reply);
          headers = applied.headers;
          replacedBody = applied.replacedBody;
          bodyMode = this.modes[`${dir}BodyMode`];
        }
      } else if (!observability) {
        headerReplyPending = true;
      }
    }

    if (headerReplyPending && !hasBody && !hasTrailers) {
      // Nothing else follows the headers: Envoy waits for their reply in every mode.
      const reply = await this.expect(dir, ["Headers"], duplex ? undefined : this.messageTimeout());
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
      headerReplyPending = false;
    }

    let trailers = message.trailers;
    const sendTrailers = () => hasTrailers && this.modes[`${dir}TrailerMode`] === "SEND";
    const buffered = bodyMode === "BUFFERED" || bodyMode === "BUFFERED_PARTIAL";
    if (replacedBody !== undefined) {
      // CONTINUE_AND_REPLACE: the body is replaced and nothing more is sent this way.
      await drain(message.body);
      sink.headers(headers);
      sink.chunk(replacedBody);
      return trailers;
    }
    if (!hasBody || (bodyMode === "NONE" && !headerReplyPending) || !this.serverActive || observability) {
      sink.headers(headers);
      // Filter::sendDataInObservabilityMode: only STREAMED bodies are sent in observability mode.
      const observed = observability && bodyMode === "STREAMED" && this.serverActive;
      const chunks: Uint8Array[] = [];
      for await (const chunk of toAsync(message.body ?? [])) {
        const bytes = toBytes(chunk);
        if (observed) chunks.push(bytes);
        sink.chunk(bytes);
      }
      for (const [i, chunk] of chunks.entries()) {
        this.send(dir, "Body", { body: chunk, endOfStream: i === chunks.length - 1 && !hasTrailers });
      }
    } else if (duplex) {
      ({ headers, trailers } = await this.duplexBody(dir, message, headers, headerReplyPending, sink));
    } else if (bodyMode === "STREAMED") {
      headers = await this.streamedBody(dir, message, headers, headerReplyPending, sink);
    } else if (buffered) {
      const result = await this.bufferedBody(dir, message, headers, bodyMode);
      sink.headers(result.headers);
      sink.chunk(result.body);
      headers = result.headers;
    }

    if (sendTrailers() && this.serverActive && !duplex && !observability && !this.replaced[dir]) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
      const reply = await this.expect(dir, ["Trailers"], this.messageTimeout());
      if (reply?.response.case === `${dir}Trailers`) trailers = this.mutate(trailers ?? [], trailerMutation(reply));
    } else if (sendTrailers() && observability) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
    }
    return trailers;
  }

  /**
   * ProcessorState::shouldRemoveContentLength(): STREAMED, BUFFERED_PARTIAL, FULL_DUPLEX_STREAMED,
   * or BUFFERED with headers SKIP, unless `allow_content_length_header` (Envoy >= 1.38) keeps it.
   */
  private shouldRemoveContentLength(dir: Direction): boolean {
    if (this.config.allowContentLengthHeader === true) return false;
    const body = this.modes[`${dir}BodyMode`];
    return (
      body === "STREAMED" ||
      body === "BUFFERED_PARTIAL" ||
      body === "FULL_DUPLEX_STREAMED" ||
      (body === "BUFFERED" && this.modes[`${dir}HeaderMode`] === "SKIP")
    );
  }

  private async bufferedBody(
    dir: Direction,
    message: FilterMessage,
    headers: Header[],
    mode: BodyMode,
  ): Promise<{ body: Uint8Array; headers: Header[] }> {
    const limit = this.bufferLimit();
    const all = concatBytes(await collect(message.body));
    const partial = mode === "BUFFERED_PARTIAL" && all.length > limit;
    if (!partial && all.length > limit) {
      // Envoy: 413 on the request path, 500 on the response path.
      throw this.localReply(dir === "request" ? 413 : 500, "buffer_limit_exceeded");
    }
    const sent = partial ? all.subarray(0, limit) : all;
    this.send(dir, "Body", { body: sent, endOfStream: !partial && message.trailers === undefined });
    // Envoy's default max_receive_message_length is unlimited; the 128 KiB cap is GCP's,
    // and GCP has no BUFFERED mode.
    const reply = await this.expect(dir, ["Body"], this.messageTimeout(), true);
    if (!reply) return { body: all, headers };
    const common = commonOf(reply);
    const mutation = common?.bodyMutation?.mutation;
    if (mutation?.case === "streamedResponse") this.protocolFault("spurious", "streamed_response in a BUFFERED reply");
    let processed = sent;
    if (mutation?.case === "body") processed = mutation.value;
    if (mutation?.case === "clearBody" && mutation.value) processed = new Uint8Array();
    // handleBufferedBodyCallback: header mutation first (headers are still held when SEND)...
    headers = this.mutate(headers, common?.headerMutation, dir);
    this.noteRouteCache(dir, common);
    const body = partial ? concatBytes([processed, all.subarray(limit)]) : processed;
    // ...then validateContentLength(): with a body mutation, a content-length the headers still
    // carry must equal the mutated body's size; a mismatch is an error reply, never fail-open.
    const length = headers.find(([n]) => n === "content-length")?.[1];
    if (
      common?.bodyMutation &&
      mutation?.case !== undefined &&
      length !== undefined &&
      Number(length) !== body.length
    ) {
      this.errorReply("content-length", `body changed to ${body.length} bytes but content-length is ${length}`);
    }
    return { body, headers };
  }

  private async streamedBody(
    dir: Direction,
    message: FilterMessage,
    headers: Header[],
    headerReplyPending: boolean,
    sink: Sink,
  ): Promise<Header[]> {
    const sent: Uint8Array[] = [];
    let sendingDone = false;
    let wake: (() => void) | undefined;
    // ProcessorState::enqueueStreamingChunk / clearWatermark: chunks sent and not yet answered
    // form a queue; above the buffer limit Envoy stops reading the body until replies bring the
    // queue under half of it.
    const limit = this.bufferLimit();
    let queued = 0;
    let resume: (() => void) | undefined;
    const gate = async () => {
      if (queued <= limit) return;
      await new Promise<void>((resolve) => {
        resume = resolve;
      });
    };
    const hasTrailers = message.trailers !== undefined;
    const sender = this.sendChunks(dir, message.body, hasTrailers, false, {
      gate,
      onSent: (chunk) => {
        queued += chunk.length;
        sent.push(chunk);
        wake?.();
      },
    }).finally(() => {
      sendingDone = true;
      wake?.();
    });
    if (headerReplyPending) {
      const reply = await this.expect(dir, ["Headers"], this.messageTimeout());
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
    }
    sink.headers(headers);
    try {
      for (let i = 0; ; i++) {
        while (i >= sent.length && !sendingDone) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        if (i >= sent.length || this.aborted) break;
        const original = sent[i]!;
        if (!this.serverActive) {
          sink.chunk(original);
          continue;
        }
        const reply = await this.expect(dir, ["Body"], this.messageTimeout());
        queued -= original.length;
        if (resume && queued < limit / 2) {
          const r = resume;
          resume = undefined;
          r();
        }
        const common = reply ? commonOf(reply) : undefined;
        const mutation = common?.bodyMutation?.mutation;
        if (mutation?.case === "streamedResponse")
          this.protocolFault("spurious", "streamed_response in a STREAMED reply");
        if (reply) {
          // Header mutations in a STREAMED body reply: the headers have already continued.
          this.noteRouteCache(dir, common);
        }
        sink.chunk(
          mutation?.case === "body" ? mutation.value : mutation?.case === "clearBody" ? new Uint8Array() : original,
        );
      }
    } finally {
      // Unblock a sender still waiting on the watermark (the exchange ended early).
      resume?.();
    }
    await sender;
    return headers;
  }

  private async duplexBody(
    dir: Direction,
    message: FilterMessage,
    headers: Header[],
    headerReplyPending: boolean,
    sink: Sink,
  ): Promise<{ headers: Header[]; trailers: Header[] | undefined }> {
    const hasTrailers = message.trailers !== undefined;
    const sendTrailers = hasTrailers && this.modes[`${dir}TrailerMode`] === "SEND";
    let trailers = message.trailers;
    const sender = this.sendChunks(dir, message.body, hasTrailers, sendTrailers ? (trailers ?? []) : false, {
      onSent: () => {
        this.duplexBodyReceived = true;
      },
    });
    if (headerReplyPending) {
      // Duplex: no message timeout; the server may hold this reply until the body is complete.
      const reply = await this.expect(dir, ["Headers"], undefined);
      if (reply) {
        const applied = this.applyHeadersReply(dir, headers, reply);
        headers = applied.headers;
        if (applied.replacedBody !== undefined) {
          // handleHeaderContinueAndReplace: body mode drops to NONE, queued data is cleared and
          // later body data is drained (Filter::onData, bodyReplaced()).
          this.replaced[dir] = true;
          sink.headers(headers);
          sink.chunk(applied.replacedBody);
          await sender;
          return { headers, trailers };
        }
      }
    }
    sink.headers(headers);
    let bodyEnded = false;
    while (this.serverActive && !bodyEnded) {
      const reply = await this.expect(dir, sendTrailers ? ["Body", "Trailers"] : ["Body"], undefined);
      if (!reply) break;
      if (reply.response.case === `${dir}Trailers`) {
        trailers = this.mutate(trailers ?? [], trailerMutation(reply));
        break;
      }
      const common = commonOf(reply);
      const mutation = common?.bodyMutation?.mutation;
      if (mutation?.case !== "streamedResponse") {
        // handleStreamedBodyCallback: a non-streamed body reply to a duplex filter is spurious.
        this.protocolFault("spurious", `${mutation?.case ?? "empty"} body reply to a FULL_DUPLEX_STREAMED filter`);
        break;
      }
      this.noteRouteCache(dir, common);
      sink.chunk(mutation.value.body);
      if (mutation.value.endOfStream) {
        if (hasTrailers) this.protocolFault("spurious", "end_of_stream on a body reply although trailers follow");
        bodyEnded = true;
      }
    }
    await sender;
    return { headers, trailers };
  }

  /**
   * Sends body chunks as they arrive, then trailers. A body known up front (a list, like an
   * HTTP/2 body ending with END_STREAM) carries EoS on its last chunk; a streamed body (like
   * chunked HTTP/1.1) is sent chunk by chunk and ended by an empty EoS chunk, as Envoy does.
   * `gate` holds the next chunk back (the STREAMED watermark).
   */
  private async sendChunks(
    dir: Direction,
    body: BodySource | undefined,
    hasTrailers: boolean,
    trailers: Header[] | false,
    hooks: { gate?: () => Promise<void>; onSent?: (chunk: Uint8Array) => void } = {},
  ): Promise<void> {
    const stopped = () => this.aborted || !this.serverActive || this.replaced[dir];
    const emit = async (bytes: Uint8Array, endOfStream: boolean) => {
      await hooks.gate?.();
      if (stopped()) return false;
      this.send(dir, "Body", { body: bytes, endOfStream });
      hooks.onSent?.(bytes);
      return true;
    };
    if (body !== undefined && !Array.isArray(body)) {
      for await (const chunk of toAsync(body)) {
        if (stopped() || !(await emit(toBytes(chunk), false))) return;
      }
      if (stopped()) return;
      if (!hasTrailers && !(await emit(new Uint8Array(), true))) return;
      if (trailers) this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers) });
      return;
    }
    let previous: Uint8Array | undefined;
    for await (const chunk of toAsync(body ?? [])) {
      if (stopped()) return;
      if (previous !== undefined && !(await emit(previous, false))) return;
      previous = toBytes(chunk);
    }
    if (stopped()) return;
    if (!(await emit(previous ?? new Uint8Array(), !hasTrailers))) return;
    if (trailers) this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers) });
  }

  // ---- replies ----------------------------------------------------------------

  /** ProcessorState::handleHeadersResponse, with the mode override applied first (onReceiveMessage). */
  private applyHeadersReply(dir: Direction, headers: Header[], reply: ProcessingResponse) {
    const override = reply.modeOverride;
    if (override) {
      const verdict = decideModeOverride(this.config, modeSpecFromWire(override));
      if (verdict.applied) {
        // ProcessorState::setProcessingMode on both directions: DEFAULT headers send, DEFAULT trailers skip.
        const m = verdict.modes;
        const send = (mode: HeaderSendMode): HeaderSendMode => (mode === "SKIP" ? "SKIP" : "SEND");
        const trailer = (mode: HeaderSendMode): HeaderSendMode => (mode === "SEND" ? "SEND" : "SKIP");
        this.modes.responseHeaderMode = send(m.responseHeaderMode);
        this.modes.requestTrailerMode = trailer(m.requestTrailerMode);
        this.modes.responseTrailerMode = trailer(m.responseTrailerMode);
        if (dir === "request") this.modes.requestBodyMode = m.requestBodyMode;
        this.modes.responseBodyMode = m.responseBodyMode;
      } else {
        this.modeOverridesIgnored.push(verdict.reason);
      }
    }
    const common = commonOf(reply);
    let replacedBody: Uint8Array | undefined;
    const replacing = common?.status === CommonResponse_ResponseStatus.CONTINUE_AND_REPLACE;
    headers = this.mutate(headers, common?.headerMutation, dir, replacing);
    this.noteRouteCache(dir, common);
    if (replacing) {
      const mutation = common?.bodyMutation?.mutation;
      if (common?.bodyMutation) headers = headers.filter(([n]) => n !== "content-length");
      replacedBody = mutation?.case === "body" ? mutation.value : new Uint8Array();
      this.modes[`${dir}BodyMode`] = "NONE";
      this.modes[`${dir}TrailerMode`] = "SKIP";
    }
    return { headers, replacedBody };
  }

  /**
   * DecodingProcessorState::clearRouteCache: request path only; a reply without a header mutation
   * never clears (clear_route_cache_ignored); `route_cache_action` CLEAR clears on every reply
   * that has one, RETAIN never (clear_route_cache_disabled).
   */
  private noteRouteCache(dir: Direction, common: CommonResponse | undefined): void {
    if (dir !== "request" || !common) return;
    const asked = common.clearRouteCache;
    if (!common.headerMutation) {
      if (asked) this.clearRouteCacheIgnored++;
      return;
    }
    const action = this.config.routeCacheAction ?? "DEFAULT";
    if (action === "CLEAR" || (action === "DEFAULT" && asked)) this.routeCacheCleared = true;
    else if (asked) this.clearRouteCacheIgnored++;
  }

  /** Applies a header or trailer mutation; an error ends the exchange with `status_on_error`. */
  private mutate(
    headers: Header[],
    mutation: Parameters<typeof applyHeaderMutation>[1],
    dir?: Direction,
    replacingMessage = false,
  ): Header[] {
    try {
      const result = applyHeaderMutation(headers, mutation, {
        ...this.mutationRules(),
        removeContentLength: dir !== undefined && this.shouldRemoveContentLength(dir),
        replacingMessage,
      });
      this.rejectedHeaderMutations += result.rejected;
      return result.headers;
    } catch (error) {
      if (error instanceof MutationError) {
        this.rejectedHeaderMutations += error.rejected;
        this.errorReply("mutation", error.message);
      }
      throw error;
    }
  }

  private mutationRules() {
    return {
      disallowIsError: this.config.disallowIsError === true,
      maxHeadersCount: this.config.maxHeadersCount,
      maxHeadersKb: this.config.maxHeadersKb,
    };
  }

  /** Waits for the reply to the oldest unanswered message and checks its type. */
  private async expect(
    dir: Direction,
    kinds: ("Headers" | "Body" | "Trailers")[],
    timeoutMs: number | undefined,
    uncapped = false,
  ): Promise<ProcessingResponse | undefined> {
    let timeout = timeoutMs;
    for (;;) {
      if (!this.serverActive) return undefined;
      const next = await this.queue.next(timeout);
      if (this.aborted) return undefined;
      switch (next.kind) {
        case "timeout":
          this.protocolFault("timeout", `no reply within ${timeout} ms`);
          return undefined;
        case "error":
          this.protocolFault("grpc", `stream failed: ${grpc.status[next.code]} ${next.details}`);
          return undefined;
        case "closed":
          // A clean close: Envoy continues without the server.
          this.serverActive = false;
          return undefined;
      }
      const message = next.message;
      const cap = this.config.maxReplyBytes ?? 128 * 1024;
      if (!uncapped && cap !== 0 && next.size > cap) {
        this.protocolFault("grpc", `reply of ${next.size} bytes exceeds ${cap}`);
        return undefined;
      }
      if (message.overrideMessageTimeout) {
        // Filter::onNewTimeout: restarts the running timer when 1 ms <= value <= max_message_timeout;
        // the message carries nothing else that Envoy reads.
        const d = message.overrideMessageTimeout;
        const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
        if (timeout !== undefined && ms >= 1 && ms <= (this.config.maxMessageTimeoutMs ?? 0)) {
          timeout = ms;
          this.messageTimeoutOverrides.applied++;
        } else {
          this.messageTimeoutOverrides.ignored++;
        }
        continue;
      }
      this.acceptMetadata(message);
      if (message.response.case === "immediateResponse") throw this.immediate(message.response.value);
      const expected = kinds.map((k) => `${dir}${k}`);
      if (!expected.includes(message.response.case ?? "")) {
        this.protocolFault(
          "spurious",
          `expected ${expected.join(" or ")}, received ${message.response.case ?? "nothing"}`,
        );
        return undefined;
      }
      return message;
    }
  }

  /**
   * Filter::sendImmediateResponse: a status under 200 becomes 200; header mutation errors are
   * logged and the reply goes out with the changes made up to the error.
   */
  private immediate(r: ImmediateResponse): LocalReply {
    const code = r.status?.code ?? 200;
    const status = Math.max(code, 200);
    let replyHeaders: Header[] = [["content-type", "text/plain"]];
    try {
      const result = applyHeaderMutation(replyHeaders, r.headers, this.mutationRules());
      this.rejectedHeaderMutations += result.rejected;
      replyHeaders = result.headers;
    } catch (error) {
      if (!(error instanceof MutationError)) throw error;
      this.rejectedHeaderMutations += error.rejected;
      this.immediateHeaderErrors.push(error.message);
      replyHeaders = error.partial;
    }
    this.immediateResponse = { status, details: r.details };
    this.serverActive = false;
    return new LocalReply(status, replyHeaders, r.body, r.details, true);
  }

  /** "Immediate response mutations failed with ..." (logged by Envoy; the reply still went out). */
  readonly immediateHeaderErrors: string[] = [];

  private acceptMetadata(message: ProcessingResponse): void {
    const struct = message.dynamicMetadata as Record<string, JsonValue> | undefined;
    if (!struct) return;
    const allowed = this.config.receivingNamespaces ?? [];
    for (const [ns, value] of Object.entries(struct)) {
      if (!allowed.includes(ns) || typeof value !== "object" || value === null || Array.isArray(value)) continue;
      this.dynamicMetadata[ns] = { ...this.dynamicMetadata[ns], ...(value as Record<string, JsonValue>) };
    }
  }

  /**
   * A stream error (spurious message, timeout, gRPC error): fail open when Filter::failureModeAllow()
   * says so (never once a FULL_DUPLEX_STREAMED body was received), else a local reply.
   */
  private protocolFault(kind: ErrorKind, message: string): void {
    const failedOpen = this.config.failureModeAllow === true && !this.duplexBodyReceived;
    this.error ??= { kind, message, failedOpen };
    this.serverActive = false;
    this.call.cancel();
    if (failedOpen) return;
    const status = kind === "timeout" ? 504 : (this.config.statusOnError ?? 500);
    throw this.localReply(status, `ext_proc_error_${kind}`);
  }

  /**
   * Filter::handleErrorResponse: a rejected mutation or a content-length mismatch ends the request
   * with `status_on_error` even with failure_mode_allow.
   */
  private errorReply(kind: "mutation" | "content-length", message: string): never {
    this.error ??= { kind, message, failedOpen: false };
    this.serverActive = false;
    this.call.cancel();
    throw this.localReply(this.config.statusOnError ?? 500, `ext_proc_error_${kind}`);
  }

  private bufferLimit(): number {
    return this.config.bufferLimitBytes ?? 32 * 1024 * 1024;
  }

  private localReply(status: number, details: string): LocalReply {
    return new LocalReply(status, [["content-type", "text/plain"]], encoder.encode(details), details, false);
  }

  private messageTimeout(): number {
    return this.config.messageTimeoutMs ?? 200;
  }

  private send(dir: Direction, kind: "Headers" | "Body" | "Trailers", value: object): void {
    if (this.aborted) return;
    const request = create(ProcessingRequestSchema, {
      request: { case: `${dir}${kind}` as "requestHeaders", value: value as never },
      observabilityMode: this.config.observabilityMode === true,
      metadataContext: this.forwardedMetadata
        ? { filterMetadata: this.forwardedMetadata as Record<string, never> }
        : undefined,
      // Filter::encodeProtocolConfig: never in observability mode.
      protocolConfig:
        !this.firstSent && this.config.sendProtocolConfig !== false && this.config.observabilityMode !== true
          ? {
              requestBodyMode: bodyModeValue(this.modes.requestBodyMode),
              responseBodyMode: bodyModeValue(this.modes.responseBodyMode),
              sendBodyWithoutWaitingForHeaderResponse: this.config.sendBodyWithoutWaitingForHeaderResponse === true,
            }
          : undefined,
    });
    this.firstSent = true;
    if (this.traceEnabled) this.record("sent", `${dir}${kind}`, request);
    this.call.write(request);
  }

  private record(dir: "sent" | "received", kind: string, message: ProcessingRequest | ProcessingResponse) {
    const schema = dir === "sent" ? ProcessingRequestSchema : ProcessingResponseSchema;
    this.trace.push({ dir, kind, message: toJson(schema as never, message as never) as JsonValue });
  }
}

const sizes = new WeakMap<ProcessingResponse, number>();

function commonOf(reply: ProcessingResponse): CommonResponse | undefined {
  const r = reply.response;
  switch (r.case) {
    case "requestHeaders":
    case "responseHeaders":
    case "requestBody":
    case "responseBody":
      return r.value.response;
    default:
      return undefined;
  }
}

function trailerMutation(reply: ProcessingResponse) {
  const r = reply.response;
  return r.case === "requestTrailers" || r.case === "responseTrailers" ? r.value.headerMutation : undefined;
}

/** Adds what Envoy always sends on requests: pseudo-headers and x-request-id. */
export function normalizeRequest(message: HttpMessage): FilterMessage {
  const headers = toHeaderList(message.headers).map(([n, v]) => [n.toLowerCase(), v] as Header);
  const has = (name: string) => headers.some(([n]) => n === name);
  const defaults: Header[] = [];
  if (!has(":method")) defaults.push([":method", message.body === undefined ? "GET" : "POST"]);
  if (!has(":path")) defaults.push([":path", "/"]);
  if (!has(":scheme")) defaults.push([":scheme", "http"]);
  if (!has(":authority")) defaults.push([":authority", "gateway.local"]);
  if (!has("x-request-id")) headers.push(["x-request-id", randomUUID()]);
  if (Array.isArray(message.body) && !has("content-length") && !has("transfer-encoding")) {
    const length = (message.body as (string | Uint8Array)[]).reduce((n, c) => n + toBytes(c).length, 0);
    headers.push(["content-length", String(length)]);
  }
  return {
    headers: [...defaults, ...headers],
    body: message.body,
    trailers: message.trailers ? toHeaderList(message.trailers) : undefined,
  };
}

/** A response with `:status` first (200 when absent). */
export function normalizeResponse(message: HttpMessage | undefined): FilterMessage {
  const spec: HttpMessage = message ?? { headers: { ":status": "200" }, body: [] };
  const headers = toHeaderList(spec.headers).map(([n, v]) => [n.toLowerCase(), v] as Header);
  if (!headers.some(([n]) => n === ":status")) headers.unshift([":status", "200"]);
  return { headers, body: spec.body, trailers: spec.trailers ? toHeaderList(spec.trailers) : undefined };
}

export function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === "string" ? encoder.encode(chunk) : chunk;
}

async function* toAsync(source: BodySource): AsyncIterable<string | Uint8Array> {
  for await (const chunk of source as AsyncIterable<string | Uint8Array>) yield chunk;
}

async function collect(source: BodySource | undefined): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  if (source) for await (const chunk of toAsync(source)) out.push(toBytes(chunk));
  return out;
}

async function drain(source: BodySource | undefined): Promise<void> {
  if (source) for await (const _ of toAsync(source)) void _;
}
