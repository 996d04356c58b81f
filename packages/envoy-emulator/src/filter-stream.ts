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
import { applyHeaderMutation, MutationError } from "./header-rules.js";
import {
  type BodyMode,
  bodyModeValue,
  type Direction,
  type Header,
  type HeaderSendMode,
  type JsonValue,
} from "./http.js";
import { LocalReply } from "./messages.js";
import { decideModeOverride, modeSpecFromWire } from "./override-rules.js";
import { ReplyQueue } from "./reply-queue.js";
import type { ExchangeResult, FilterConfig, TraceEntry } from "./types.js";

const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

export type FilterError = NonNullable<ExchangeResult["error"]>;
type ErrorKind = FilterError["kind"];
export type MessageKind = "Headers" | "Body" | "Trailers";

export interface Modes {
  requestHeaderMode: HeaderSendMode;
  responseHeaderMode: HeaderSendMode;
  requestBodyMode: BodyMode;
  responseBodyMode: BodyMode;
  requestTrailerMode: HeaderSendMode;
  responseTrailerMode: HeaderSendMode;
}

/**
 * The filter's side of one ext_proc gRPC stream: its state (modes, whether the server is still
 * in the loop) and how it sends messages and takes replies, as Envoy's `Filter` and
 * `ProcessorState` do. The direction driver (`filter.ts`) and the body-mode modules
 * (`modes/*.ts`) are written over it; its members are shared by them, not a public API.
 */
export class FilterStream {
  private readonly call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  private readonly queue = new ReplyQueue();
  private firstSent = false;
  readonly modes: Modes;
  readonly trace: TraceEntry[] = [];
  /** false once the server left the loop (clean close, fail-open, immediate response). */
  serverActive = true;
  aborted = false;
  /** Filter::failureModeAllow(): false once a FULL_DUPLEX_STREAMED direction received body data. */
  duplexBodyReceived = false;
  /** CONTINUE_AND_REPLACE on a headers reply: that direction sends nothing more. */
  readonly replaced = { request: false, response: false };
  routeCacheCleared = false;
  clearRouteCacheIgnored = 0;
  rejectedHeaderMutations = 0;
  readonly modeOverridesIgnored: string[] = [];
  readonly messageTimeoutOverrides = { applied: 0, ignored: 0 };
  error: FilterError | undefined;
  immediateResponse: ExchangeResult["immediateResponse"];
  readonly dynamicMetadata: Record<string, Record<string, JsonValue>> = {};
  /** "Immediate response mutations failed with ..." (logged by Envoy; the reply still went out). */
  readonly immediateHeaderErrors: string[] = [];
  protected forwardedMetadata: FilterConfig["forwardedMetadata"];

  constructor(
    client: grpc.Client,
    readonly config: FilterConfig,
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

  get observability(): boolean {
    return this.config.observabilityMode === true;
  }

  bufferLimit(): number {
    return this.config.bufferLimitBytes ?? 32 * 1024 * 1024;
  }

  messageTimeout(): number {
    return this.config.messageTimeoutMs ?? 200;
  }

  /**
   * ProcessorState::shouldRemoveContentLength(): STREAMED, BUFFERED_PARTIAL, FULL_DUPLEX_STREAMED,
   * or BUFFERED with headers SKIP, unless `allow_content_length_header` (Envoy >= 1.38) keeps it.
   */
  shouldRemoveContentLength(dir: Direction): boolean {
    if (this.config.allowContentLengthHeader === true) return false;
    const body = this.modes[`${dir}BodyMode`];
    return (
      body === "STREAMED" ||
      body === "BUFFERED_PARTIAL" ||
      body === "FULL_DUPLEX_STREAMED" ||
      (body === "BUFFERED" && this.modes[`${dir}HeaderMode`] === "SKIP")
    );
  }

  // ---- sending ----------------------------------------------------------------

  send(dir: Direction, kind: MessageKind, value: object): void {
    if (this.aborted) return;
    const request = create(ProcessingRequestSchema, {
      request: { case: `${dir}${kind}` as "requestHeaders", value: value as never },
      observabilityMode: this.observability,
      metadataContext: this.forwardedMetadata
        ? { filterMetadata: this.forwardedMetadata as Record<string, never> }
        : undefined,
      // Filter::encodeProtocolConfig: never in observability mode.
      protocolConfig:
        !this.firstSent && this.config.sendProtocolConfig !== false && !this.observability
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

  /** Half-close (the filter is done), or reset (`cancel`). */
  protected endCall(): void {
    this.call.end();
  }

  protected resetCall(): void {
    this.call.cancel();
  }

  // ---- receiving --------------------------------------------------------------

  /** Waits for the reply to the oldest unanswered message and checks its type. */
  async expect(
    dir: Direction,
    kinds: MessageKind[],
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

  /** ProcessorState::handleHeadersResponse, with the mode override applied first (onReceiveMessage). */
  applyHeadersReply(
    dir: Direction,
    headers: Header[],
    reply: ProcessingResponse,
  ): { headers: Header[]; replacedBody: Uint8Array | undefined } {
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

  /** A trailers reply's mutation applied to the trailers. */
  applyTrailersReply(trailers: Header[] | undefined, reply: ProcessingResponse): Header[] {
    const r = reply.response;
    const mutation = r.case === "requestTrailers" || r.case === "responseTrailers" ? r.value.headerMutation : undefined;
    return this.mutate(trailers ?? [], mutation);
  }

  /**
   * DecodingProcessorState::clearRouteCache: request path only; a reply without a header mutation
   * never clears (clear_route_cache_ignored); `route_cache_action` CLEAR clears on every reply
   * that has one, RETAIN never (clear_route_cache_disabled).
   */
  noteRouteCache(dir: Direction, common: CommonResponse | undefined): void {
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
  mutate(
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

  private acceptMetadata(message: ProcessingResponse): void {
    const struct = message.dynamicMetadata as Record<string, JsonValue> | undefined;
    if (!struct) return;
    const allowed = this.config.receivingNamespaces ?? [];
    for (const [ns, value] of Object.entries(struct)) {
      if (!allowed.includes(ns) || typeof value !== "object" || value === null || Array.isArray(value)) continue;
      this.dynamicMetadata[ns] = { ...this.dynamicMetadata[ns], ...(value as Record<string, JsonValue>) };
    }
  }

  // ---- errors -----------------------------------------------------------------

  /**
   * A stream error (spurious message, timeout, gRPC error): fail open when Filter::failureModeAllow()
   * says so (never once a FULL_DUPLEX_STREAMED body was received), else a local reply.
   */
  protocolFault(kind: ErrorKind, message: string): void {
    const failedOpen = this.config.failureModeAllow === true && !this.duplexBodyReceived;
    this.error ??= { kind, message, failedOpen };
    this.serverActive = false;
    this.call.cancel();
    if (failedOpen) return;
    const status = kind === "timeout" ? 504 : (this.config.statusOnError ?? 500);
    throw LocalReply.error(status, `ext_proc_error_${kind}`);
  }

  /**
   * Filter::handleErrorResponse: a rejected mutation or a content-length mismatch ends the request
   * with `status_on_error` even with failure_mode_allow.
   */
  errorReply(kind: "mutation" | "content-length", message: string): never {
    this.error ??= { kind, message, failedOpen: false };
    this.serverActive = false;
    this.call.cancel();
    throw LocalReply.error(this.config.statusOnError ?? 500, `ext_proc_error_${kind}`);
  }

  private record(dir: "sent" | "received", kind: string, message: ProcessingRequest | ProcessingResponse) {
    const schema = dir === "sent" ? ProcessingRequestSchema : ProcessingResponseSchema;
    this.trace.push({ dir, kind, message: toJson(schema as never, message as never) as JsonValue });
  }
}

const sizes = new WeakMap<ProcessingResponse, number>();

/** The CommonResponse of a headers or body reply. */
export function commonOf(reply: ProcessingResponse): CommonResponse | undefined {
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
