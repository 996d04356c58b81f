import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type CommonResponse,
  CommonResponse_ResponseStatus,
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { concatBytes } from "../bytes.js";
import { type Header, toHeaderList } from "../headers.js";
import type { BodyMode, Direction, HeaderSendMode, JsonValue } from "../processor.js";
import { writeHeaderMap } from "../wire/headers.js";
import { bodyModeName, bodyModeValue, headerModeName } from "../wire/modes.js";
import { Channel } from "./channel.js";
import { applyHeaderMutation, MutationError } from "./header-rules.js";
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
  rejectedHeaderMutations = 0;
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

  /** Half-closes (or cancels after an error) the gRPC stream. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.aborted || this.immediateResponse || this.error) this.call.cancel();
    else this.call.end();
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

    // Envoy removes content-length wherever the body may be mutated chunk-wise.
    if (
      this.serverActive &&
      hasBody &&
      !observability &&
      (bodyMode === "STREAMED" ||
        bodyMode === "BUFFERED_PARTIAL" ||
        bodyMode === "FULL_DUPLEX_STREAMED" ||
        (bodyMode === "BUFFERED" && headerMode === "SKIP"))
    ) {
      headers = headers.filter(([n]) => n !== "content-length");
    }

    const duplex = bodyMode === "FULL_DUPLEX_STREAMED";
    const noWait =
      observability ||
      duplex ||
      (bodyMode === "STREAMED" && this.config.sendBodyWithoutWaitingForHeaderResponse === true);
    let headerReplyPending = false;
    if (headerMode !== "SKIP" && this.serverActive) {
      this.send(dir, "Headers", { headers: writeHeaderMap(headers), endOfStream: !hasBody && !hasTrailers });
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
    const trailerMode = this.modes[`${dir}TrailerMode`];
    const sendTrailers = hasTrailers && trailerMode === "SEND";
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
      let index = 0;
      const chunks: Uint8Array[] = [];
      for await (const chunk of toAsync(message.body ?? [])) {
        const bytes = toBytes(chunk);
        if (observability && bodyMode !== "NONE") chunks.push(bytes);
        sink.chunk(bytes);
        index++;
      }
      for (const [i, chunk] of chunks.entries()) {
        this.send(dir, "Body", { body: chunk, endOfStream: i === chunks.length - 1 && !hasTrailers });
      }
      void index;
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

    if (sendTrailers && this.serverActive && !duplex && !observability) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
      const reply = await this.expect(dir, ["Trailers"], this.messageTimeout());
      if (reply?.response.case === `${dir}Trailers`) trailers = this.mutate(trailers ?? [], trailerMutation(reply));
    } else if (sendTrailers && observability) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
    }
    return trailers;
  }

  private async bufferedBody(
    dir: Direction,
    message: FilterMessage,
    headers: Header[],
    mode: BodyMode,
  ): Promise<{ body: Uint8Array; headers: Header[] }> {
    const limit = this.config.bufferLimitBytes ?? 32 * 1024 * 1024;
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
    headers = this.mutate(headers, common?.headerMutation);
    if (dir === "request" && common?.clearRouteCache) this.routeCacheCleared = true;
    const body = partial ? concatBytes([processed, all.subarray(limit)]) : processed;
    // With headers SEND the server owns content-length: a size change needs it fixed.
    const length = headers.find(([n]) => n === "content-length")?.[1];
    if (processed.length !== sent.length && length !== undefined && Number(length) !== body.length) {
      this.error ??= {
        kind: "content-length",
        message: `body changed to ${body.length} bytes but content-length stayed ${length}`,
        failedOpen: false,
      };
      throw this.localReply(500, "ext_proc_content_length_mismatch");
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
    const hasTrailers = message.trailers !== undefined;
    const sender = this.sendChunks(dir, message.body, hasTrailers, false, (chunk) => {
      sent.push(chunk);
      wake?.();
    }).finally(() => {
      sendingDone = true;
      wake?.();
    });
    if (headerReplyPending) {
      const reply = await this.expect(dir, ["Headers"], this.messageTimeout());
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
    }
    sink.headers(headers);
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
      const mutation = reply ? commonOf(reply)?.bodyMutation?.mutation : undefined;
      if (mutation?.case === "streamedResponse")
        this.protocolFault("spurious", "streamed_response in a STREAMED reply");
      sink.chunk(
        mutation?.case === "body" ? mutation.value : mutation?.case === "clearBody" ? new Uint8Array() : original,
      );
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
    const sender = this.sendChunks(dir, message.body, hasTrailers, sendTrailers ? (trailers ?? []) : false);
    if (headerReplyPending) {
      // Duplex: no message timeout; the server may hold this reply until the body is complete.
      const reply = await this.expect(dir, ["Headers"], undefined);
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
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
      const mutation = commonOf(reply)?.bodyMutation?.mutation;
      if (mutation?.case !== "streamedResponse") {
        // Envoy: BUFFERED-style replies to a duplex filter leave the next hop an empty body.
        this.protocolFault("spurious", `${mutation?.case ?? "empty"} body reply to a FULL_DUPLEX_STREAMED filter`);
        break;
      }
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
   */
  private async sendChunks(
    dir: Direction,
    body: BodySource | undefined,
    hasTrailers: boolean,
    trailers: Header[] | false,
    onSent?: (chunk: Uint8Array) => void,
  ): Promise<void> {
    if (body !== undefined && !Array.isArray(body)) {
      for await (const chunk of toAsync(body)) {
        if (this.aborted || !this.serverActive) return;
        const bytes = toBytes(chunk);
        this.send(dir, "Body", { body: bytes, endOfStream: false });
        onSent?.(bytes);
      }
      if (this.aborted || !this.serverActive) return;
      if (!hasTrailers) {
        const end = new Uint8Array();
        this.send(dir, "Body", { body: end, endOfStream: true });
        onSent?.(end);
      }
      if (trailers) this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers) });
      return;
    }
    let previous: Uint8Array | undefined;
    for await (const chunk of toAsync(body ?? [])) {
      if (this.aborted || !this.serverActive) return;
      if (previous !== undefined) {
        this.send(dir, "Body", { body: previous, endOfStream: false });
        onSent?.(previous);
      }
      previous = toBytes(chunk);
    }
    if (this.aborted || !this.serverActive) return;
    const last = previous ?? new Uint8Array();
    this.send(dir, "Body", { body: last, endOfStream: !hasTrailers });
    onSent?.(last);
    if (trailers) this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers) });
  }

  // ---- replies ----------------------------------------------------------------

  private applyHeadersReply(dir: Direction, headers: Header[], reply: ProcessingResponse) {
    const common = commonOf(reply);
    let replacedBody: Uint8Array | undefined;
    headers = this.mutate(headers, common?.headerMutation);
    if (dir === "request" && common?.clearRouteCache) this.routeCacheCleared = true;
    if (common?.status === CommonResponse_ResponseStatus.CONTINUE_AND_REPLACE) {
      const mutation = common.bodyMutation?.mutation;
      replacedBody = mutation?.case === "body" ? mutation.value : new Uint8Array();
    }
    const override = reply.modeOverride;
    if (override && this.config.allowModeOverride && !this.config.sendBodyWithoutWaitingForHeaderResponse) {
      // request_header_mode is ignored; DEFAULT header/trailer modes mean "no change" (1.34).
      const setHeader = (key: keyof Modes, value: number) => {
        const name = headerModeName(value);
        if (name !== "DEFAULT") (this.modes[key] as HeaderSendMode) = name;
      };
      setHeader("responseHeaderMode", override.responseHeaderMode);
      setHeader("requestTrailerMode", override.requestTrailerMode);
      setHeader("responseTrailerMode", override.responseTrailerMode);
      if (dir === "request") this.modes.requestBodyMode = bodyModeName(override.requestBodyMode) ?? "NONE";
      this.modes.responseBodyMode = bodyModeName(override.responseBodyMode) ?? "NONE";
    }
    return { headers, replacedBody };
  }

  private mutate(headers: Header[], mutation: Parameters<typeof applyHeaderMutation>[1]): Header[] {
    try {
      const result = applyHeaderMutation(headers, mutation, this.config.disallowIsError === true);
      this.rejectedHeaderMutations += result.rejected;
      return result.headers;
    } catch (error) {
      if (error instanceof MutationError) {
        this.protocolFault("mutation", error.message);
        return headers;
      }
      throw error;
    }
  }

  /** Waits for the reply to the oldest unanswered message and checks its type. */
  private async expect(
    dir: Direction,
    kinds: ("Headers" | "Body" | "Trailers")[],
    timeoutMs: number | undefined,
    uncapped = false,
  ): Promise<ProcessingResponse | undefined> {
    if (!this.serverActive) return undefined;
    const next = await this.queue.next(timeoutMs);
    if (this.aborted) return undefined;
    switch (next.kind) {
      case "timeout":
        this.protocolFault("timeout", `no reply within ${timeoutMs} ms`);
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
    this.acceptMetadata(message);
    if (message.response.case === "immediateResponse") {
      const r = message.response.value;
      const replyHeaders = this.mutate([["content-type", "text/plain"]], r.headers);
      this.immediateResponse = { status: r.status?.code ?? 200, details: r.details };
      throw new LocalReply(r.status?.code ?? 200, replyHeaders, r.body, r.details, true);
    }
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

  private acceptMetadata(message: ProcessingResponse): void {
    const struct = message.dynamicMetadata as Record<string, JsonValue> | undefined;
    if (!struct) return;
    const allowed = this.config.receivingNamespaces ?? [];
    for (const [ns, value] of Object.entries(struct)) {
      if (!allowed.includes(ns) || typeof value !== "object" || value === null || Array.isArray(value)) continue;
      this.dynamicMetadata[ns] = { ...this.dynamicMetadata[ns], ...(value as Record<string, JsonValue>) };
    }
  }

  /** An Envoy-side stream error: fail open (continue without the server) or a local reply. */
  private protocolFault(kind: ErrorKind, message: string): void {
    const failedOpen = this.config.failureModeAllow === true;
    this.error ??= { kind, message, failedOpen };
    this.serverActive = false;
    this.call.cancel();
    if (failedOpen) return;
    const status = kind === "timeout" ? 504 : (this.config.statusOnError ?? 500);
    throw this.localReply(status, `ext_proc_error_${kind}`);
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
      protocolConfig:
        !this.firstSent && this.config.sendProtocolConfig !== false
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
