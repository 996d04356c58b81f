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
import { applyHeaderMutation, MutationError } from "./header-rules.js";
import { ReplyQueue } from "./reply-queue.js";
import type {
  BodySource,
  EnvoyClient,
  ExchangeResult,
  FilterConfig,
  HttpExchange,
  HttpMessage,
  TraceEntry,
  UpstreamRequest,
} from "./types.js";

const encoder = new TextEncoder();

const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

type ErrorKind = NonNullable<ExchangeResult["error"]>["kind"];

/** Ends the exchange with a local reply (immediate response or an Envoy error reply). */
class LocalReply {
  constructor(
    readonly status: number,
    readonly headers: Header[],
    readonly body: Uint8Array,
    readonly details: string,
    readonly immediate: boolean,
  ) {}
}

interface Modes {
  requestHeaderMode: HeaderSendMode;
  responseHeaderMode: HeaderSendMode;
  requestBodyMode: BodyMode;
  responseBodyMode: BodyMode;
  requestTrailerMode: HeaderSendMode;
  responseTrailerMode: HeaderSendMode;
}

/** A message after this filter, as the next hop sees it. */
interface Processed {
  headers: Header[];
  body: Uint8Array;
  chunks: Uint8Array[];
  trailers: Header[] | undefined;
}

/**
 * Creates a client that drives ext_proc streams exactly as Envoy's ext_proc filter
 * does (see README "Envoy-faithful client"), using @grpc/grpc-js so every server is
 * exercised by an independent gRPC implementation.
 */
export function createEnvoyClient(target: string, options: { tls?: boolean } = {}): EnvoyClient {
  const credentials = options.tls
    ? grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined, rejectUnauthorized: false })
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(target, credentials, {
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
    "grpc.http2.write_buffer_size": 1024 * 1024,
  });
  return {
    exchange: (config, exchange) => new Exchange(client, config, exchange).run(),
    close: () => client.close(),
  };
}

class Exchange {
  private readonly call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  private readonly queue = new ReplyQueue();
  private readonly modes: Modes;
  private readonly trace: TraceEntry[] = [];
  private serverActive = true;
  private firstSent = false;
  private routeCacheCleared = false;
  private rejected = 0;
  private error: ExchangeResult["error"];
  private immediate: ExchangeResult["immediateResponse"];
  private readonly metadata: Record<string, Record<string, JsonValue>> = {};
  private responseStarted = false;
  private aborted = false;

  constructor(
    client: grpc.Client,
    private readonly config: FilterConfig,
    private readonly ex: HttpExchange,
  ) {
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
        (message as { __size?: number }).__size = bytes.length;
        return message;
      },
    );
    this.call.on("data", (message: ProcessingResponse) => {
      const size = (message as { __size?: number }).__size ?? 0;
      if (this.ex.trace) this.record("received", message.response.case ?? "none", message);
      this.queue.push(message, size);
    });
    this.call.on("error", (err: grpc.ServiceError) => this.queue.fail(err.code, err.details));
    this.call.on("end", () => this.queue.close());
  }

  async run(): Promise<ExchangeResult> {
    let upstream: UpstreamRequest | undefined;
    let downstream: ExchangeResult["downstream"];
    const limitMs = this.config.exchangeTimeoutMs ?? 10_000;
    let limitTimer: NodeJS.Timeout | undefined;
    const overall = new Promise<never>((_, reject) => {
      limitTimer = setTimeout(() => reject(new Error("exchange timed out")), limitMs);
    });
    try {
      downstream = await Promise.race([
        (async () => {
          const request = await this.direction("request", normalizeRequest(this.ex.request));
          upstream = { headers: request.headers, body: request.body, trailers: request.trailers };
          const spec = typeof this.ex.upstream === "function" ? await this.ex.upstream(upstream) : this.ex.upstream;
          const response = await this.direction("response", normalizeResponse(spec));
          return {
            status: Number(response.headers.find(([n]) => n === ":status")?.[1] ?? 200),
            headers: response.headers.filter(([n]) => !n.startsWith(":")),
            body: response.body,
            chunks: response.chunks,
            trailers: response.trailers,
            reset: this.aborted,
          };
        })(),
        overall,
      ]);
    } catch (thrown) {
      if (thrown instanceof LocalReply) {
        downstream = {
          status: thrown.status,
          headers: thrown.headers,
          body: thrown.body,
          chunks: [thrown.body],
          trailers: undefined,
          reset: false,
        };
        if (thrown.immediate) this.immediate = { status: thrown.status, details: thrown.details };
        if (thrown.immediate && this.responseStarted) downstream = { ...downstream, reset: true };
      } else if (thrown instanceof Error && thrown.message === "exchange timed out") {
        this.error = { kind: "timeout", message: `no completion within ${limitMs} ms`, failedOpen: false };
        downstream = { status: 504, headers: [], body: new Uint8Array(), chunks: [], trailers: undefined, reset: true };
      } else {
        throw thrown;
      }
    } finally {
      clearTimeout(limitTimer);
      this.finish();
    }
    return {
      upstream,
      downstream,
      immediateResponse: this.immediate,
      dynamicMetadata: this.metadata,
      routeCacheCleared: this.routeCacheCleared,
      error: this.error,
      rejectedHeaderMutations: this.rejected,
      trace: this.trace,
    };
  }

  private finish() {
    if (this.aborted || this.immediate || this.error) this.call.cancel();
    else this.call.end();
  }

  // ---- one direction ----------------------------------------------------------

  private async direction(dir: Direction, message: NormalizedMessage): Promise<Processed> {
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
      this.send(dir, "Headers", {
        headers: writeHeaderMap(headers),
        endOfStream: !hasBody && !hasTrailers,
      });
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
    if (dir === "response") this.responseStarted = bodyMode !== "BUFFERED" && bodyMode !== "BUFFERED_PARTIAL";

    let body: Uint8Array;
    let chunks: Uint8Array[];
    let trailers = message.trailers;
    const trailerMode = this.modes[`${dir}TrailerMode`];
    const sendTrailers = hasTrailers && trailerMode === "SEND";
    if (replacedBody !== undefined) {
      // CONTINUE_AND_REPLACE: the body is replaced and nothing more is sent this way.
      await drain(message.body);
      body = replacedBody;
      chunks = [replacedBody];
    } else if (!hasBody || (bodyMode === "NONE" && !headerReplyPending) || !this.serverActive || observability) {
      chunks = await collect(message.body, dir === "response" ? this.abortCheck() : undefined);
      if (observability && hasBody && bodyMode !== "NONE") {
        for (const [i, chunk] of chunks.entries()) {
          this.send(dir, "Body", { body: chunk, endOfStream: i === chunks.length - 1 && !hasTrailers });
        }
      }
      body = concatBytes(chunks);
    } else if (duplex) {
      ({ body, chunks, headers, trailers } = await this.duplexBody(dir, message, headers, headerReplyPending));
    } else if (bodyMode === "STREAMED") {
      ({ body, chunks, headers } = await this.streamedBody(dir, message, headers, headerReplyPending));
    } else {
      ({ body, headers } = await this.bufferedBody(dir, message, headers, bodyMode));
      chunks = [body];
    }

    if (sendTrailers && this.serverActive && !duplex && !observability && replacedBody === undefined) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
      const reply = await this.expect(dir, ["Trailers"], this.messageTimeout());
      if (reply?.response.case === `${dir}Trailers`) {
        trailers = this.mutate(trailers ?? [], (reply.response.value as { headerMutation?: never }).headerMutation);
      }
    } else if (sendTrailers && observability) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
    }

    this.checkContentLength(headers, body);
    return { headers, body, chunks, trailers };
  }

  private async bufferedBody(
    dir: Direction,
    message: NormalizedMessage,
    headers: Header[],
    mode: BodyMode,
  ): Promise<{ body: Uint8Array; headers: Header[] }> {
    const limit = this.config.bufferLimitBytes ?? 32 * 1024 * 1024;
    const all = concatBytes(await collect(message.body));
    const partial = mode === "BUFFERED_PARTIAL" && all.length > limit;
    if (!partial && all.length > limit) {
      // Envoy: 413 on the request path, 500 on the response path.
      throw this.localReply(dir === "request" ? 413 : 500, "buffer_limit_exceeded", false);
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
    const before = headers;
    headers = this.mutate(headers, common?.headerMutation);
    if (dir === "request" && common?.clearRouteCache) this.routeCacheCleared = true;
    const body = partial ? concatBytes([processed, all.subarray(limit)]) : processed;
    // With headers SEND the server owns content-length: a size change needs it fixed.
    const length = headers.find(([n]) => n === "content-length")?.[1];
    if (processed.length !== sent.length && length !== undefined && Number(length) !== body.length) {
      this.error = {
        kind: "content-length",
        message: `body changed to ${body.length} bytes but content-length stayed ${length}`,
        failedOpen: false,
      };
      throw this.localReply(500, "ext_proc_content_length_mismatch", false);
    }
    void before;
    return { body, headers };
  }

  private async streamedBody(
    dir: Direction,
    message: NormalizedMessage,
    headers: Header[],
    headerReplyPending: boolean,
  ): Promise<{ body: Uint8Array; chunks: Uint8Array[]; headers: Header[] }> {
    const sent: Uint8Array[] = [];
    let sendingDone = false;
    let wake: (() => void) | undefined;
    const hasTrailers = message.trailers !== undefined;
    const sender = (async () => {
      const source = toAsync(message.body ?? []);
      let previous: Uint8Array | undefined;
      for await (const chunk of source) {
        if (previous !== undefined) {
          this.send(dir, "Body", { body: previous, endOfStream: false });
          sent.push(previous);
          wake?.();
        }
        previous = toBytes(chunk);
        if (this.aborted || !this.serverActive) break;
      }
      if (this.serverActive && !this.aborted) {
        const last = previous ?? new Uint8Array();
        this.send(dir, "Body", { body: last, endOfStream: !hasTrailers });
        sent.push(last);
      }
      sendingDone = true;
      wake?.();
    })();
    if (headerReplyPending) {
      const reply = await this.expect(dir, ["Headers"], this.messageTimeout());
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
    }
    const out: Uint8Array[] = [];
    const abortAfter = dir === "response" ? this.ex.abortAfterResponseChunks : undefined;
    for (let i = 0; ; i++) {
      while (i >= sent.length && !sendingDone) await new Promise<void>((resolve) => (wake = resolve));
      if (i >= sent.length) break;
      const original = sent[i]!;
      if (!this.serverActive) {
        out.push(original);
        continue;
      }
      const reply = await this.expect(dir, ["Body"], this.messageTimeout());
      const mutation = reply ? commonOf(reply)?.bodyMutation?.mutation : undefined;
      if (mutation?.case === "streamedResponse")
        this.protocolFault("spurious", "streamed_response in a STREAMED reply");
      out.push(
        mutation?.case === "body" ? mutation.value : mutation?.case === "clearBody" ? new Uint8Array() : original,
      );
      if (abortAfter !== undefined && out.length >= abortAfter) {
        this.aborted = true;
        break;
      }
    }
    await sender;
    return { body: concatBytes(out), chunks: out, headers };
  }

  private async duplexBody(
    dir: Direction,
    message: NormalizedMessage,
    headers: Header[],
    headerReplyPending: boolean,
  ): Promise<{ body: Uint8Array; chunks: Uint8Array[]; headers: Header[]; trailers: Header[] | undefined }> {
    const hasTrailers = message.trailers !== undefined;
    const sendTrailers = hasTrailers && this.modes[`${dir}TrailerMode`] === "SEND";
    let trailers = message.trailers;
    const sender = (async () => {
      const source = toAsync(message.body ?? []);
      let previous: Uint8Array | undefined;
      for await (const chunk of source) {
        if (previous !== undefined) this.send(dir, "Body", { body: previous, endOfStream: false });
        previous = toBytes(chunk);
        if (this.aborted || !this.serverActive) return;
      }
      this.send(dir, "Body", { body: previous ?? new Uint8Array(), endOfStream: !hasTrailers });
      if (sendTrailers) this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
    })();
    if (headerReplyPending) {
      // Duplex: no message timeout; the server may hold this reply until the body is complete.
      const reply = await this.expect(dir, ["Headers"], undefined);
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
    }
    const out: Uint8Array[] = [];
    const abortAfter = dir === "response" ? this.ex.abortAfterResponseChunks : undefined;
    let bodyEnded = false;
    while (this.serverActive && !bodyEnded) {
      const reply = await this.expect(dir, sendTrailers ? ["Body", "Trailers"] : ["Body"], undefined);
      if (!reply) break;
      if (reply.response.case === `${dir}Trailers`) {
        trailers = this.mutate(trailers ?? [], (reply.response.value as { headerMutation?: never }).headerMutation);
        break;
      }
      const mutation = commonOf(reply)?.bodyMutation?.mutation;
      if (mutation?.case !== "streamedResponse") {
        // Envoy: BUFFERED-style replies to a duplex filter leave the upstream an empty body.
        this.protocolFault("spurious", `${mutation?.case ?? "empty"} body reply to a FULL_DUPLEX_STREAMED filter`);
        break;
      }
      out.push(mutation.value.body);
      if (mutation.value.endOfStream) {
        if (hasTrailers) this.protocolFault("spurious", "end_of_stream on a body reply although trailers follow");
        bodyEnded = true;
        if (sendTrailers) {
          const t = await this.expect(dir, ["Trailers"], undefined);
          if (t)
            trailers = this.mutate(trailers ?? [], (t.response.value as { headerMutation?: never }).headerMutation);
        }
      }
      if (abortAfter !== undefined && out.length >= abortAfter) {
        this.aborted = true;
        break;
      }
    }
    await sender;
    return { body: concatBytes(out), chunks: out, headers, trailers };
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
      this.rejected += result.rejected;
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
  ) {
    if (!this.serverActive) return undefined;
    const next = await this.queue.next(timeoutMs);
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
    if (!uncapped && this.config.maxReplyBytes !== 0 && next.size > (this.config.maxReplyBytes ?? 128 * 1024)) {
      this.protocolFault("grpc", `reply of ${next.size} bytes exceeds ${this.config.maxReplyBytes ?? 131072}`);
      return undefined;
    }
    this.acceptMetadata(message);
    if (message.response.case === "immediateResponse") {
      const r = message.response.value;
      const defaults: Header[] = [["content-type", "text/plain"]];
      const replyHeaders = this.mutate(defaults, r.headers);
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
      this.metadata[ns] = { ...this.metadata[ns], ...(value as Record<string, JsonValue>) };
    }
  }

  /** An Envoy-side stream error: fail open (continue without the server) or a local reply. */
  private protocolFault(kind: ErrorKind, message: string): void {
    const failedOpen = this.config.failureModeAllow === true;
    this.error ??= { kind, message, failedOpen };
    this.serverActive = false;
    this.call.cancel();
    if (failedOpen) return;
    if (this.responseStarted) {
      this.aborted = true;
      return;
    }
    const status = kind === "timeout" ? 504 : (this.config.statusOnError ?? 500);
    throw this.localReply(status, `ext_proc_error_${kind}`, false);
  }

  private localReply(status: number, details: string, immediate: boolean): LocalReply {
    return new LocalReply(status, [["content-type", "text/plain"]], encoder.encode(details), details, immediate);
  }

  private checkContentLength(headers: Header[], body: Uint8Array): void {
    const length = headers.find(([n]) => n === "content-length")?.[1];
    if (length === undefined || Number(length) === body.length) return;
    this.error ??= {
      kind: "content-length",
      message: `content-length ${length} but ${body.length} body bytes`,
      failedOpen: false,
    };
  }

  private messageTimeout(): number {
    return this.config.messageTimeoutMs ?? 200;
  }

  private abortCheck(): number | undefined {
    return this.ex.abortAfterResponseChunks;
  }

  private send(dir: Direction, kind: "Headers" | "Body" | "Trailers", value: object): void {
    const request = create(ProcessingRequestSchema, {
      request: { case: `${dir}${kind}` as "requestHeaders", value: value as never },
      observabilityMode: this.config.observabilityMode === true,
      metadataContext: this.config.forwardedMetadata
        ? { filterMetadata: this.config.forwardedMetadata as Record<string, never> }
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
    if (this.ex.trace) this.record("sent", `${dir}${kind}`, request);
    this.call.write(request);
  }

  private record(dir: "sent" | "received", kind: string, message: ProcessingRequest | ProcessingResponse) {
    const schema = dir === "sent" ? ProcessingRequestSchema : ProcessingResponseSchema;
    this.trace.push({ dir, kind, message: toJson(schema as never, message as never) as JsonValue });
  }
}

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

interface NormalizedMessage {
  headers: Header[];
  body: BodySource | undefined;
  trailers: Header[] | undefined;
}

/** Adds what Envoy always sends: pseudo-headers and x-request-id. */
function normalizeRequest(message: HttpMessage): NormalizedMessage {
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

function normalizeResponse(message: HttpMessage | undefined): NormalizedMessage {
  const spec: HttpMessage = message ?? { headers: { ":status": "200" }, body: [] };
  const headers = toHeaderList(spec.headers).map(([n, v]) => [n.toLowerCase(), v] as Header);
  if (!headers.some(([n]) => n === ":status")) headers.unshift([":status", "200"]);
  return {
    headers,
    body: spec.body,
    trailers: spec.trailers ? toHeaderList(spec.trailers) : undefined,
  };
}

function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === "string" ? encoder.encode(chunk) : chunk;
}

async function* toAsync(source: BodySource): AsyncIterable<string | Uint8Array> {
  for await (const chunk of source as AsyncIterable<string | Uint8Array>) yield chunk;
}

async function collect(source: BodySource | undefined, limitChunks?: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  if (!source) return out;
  for await (const chunk of toAsync(source)) {
    out.push(toBytes(chunk));
    if (limitChunks !== undefined && out.length >= limitChunks) break;
  }
  return out;
}

async function drain(source: BodySource | undefined): Promise<void> {
  if (source) for await (const _ of toAsync(source)) void _;
}
