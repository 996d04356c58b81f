import type { BodyMode, Header, HeaderInput, HeaderSendMode, JsonValue } from "./http.js";
import type { ProcessingModeSpec } from "./override-rules.js";

/**
 * The slice of Envoy's `envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor`
 * filter configuration that the Envoy-faithful client honours. Defaults are Envoy's.
 */
export interface FilterConfig {
  readonly processingMode?: {
    readonly requestHeaderMode?: HeaderSendMode; // default SEND
    readonly responseHeaderMode?: HeaderSendMode; // default SEND
    readonly requestBodyMode?: BodyMode; // default NONE
    readonly responseBodyMode?: BodyMode; // default NONE
    readonly requestTrailerMode?: HeaderSendMode; // default SKIP
    readonly responseTrailerMode?: HeaderSendMode; // default SKIP
  };
  /** Honour `mode_override` on header replies (default false). */
  readonly allowModeOverride?: boolean;
  /** `allowed_override_modes`: unset or empty allows every override; else an exact match is needed. */
  readonly allowedOverrideModes?: readonly ProcessingModeSpec[];
  /** `max_message_timeout` (default 0: every `override_message_timeout` is ignored). */
  readonly maxMessageTimeoutMs?: number;
  /** `route_cache_action` (default DEFAULT: clear when a reply with a header mutation asks). */
  readonly routeCacheAction?: "DEFAULT" | "CLEAR" | "RETAIN";
  /** `allow_content_length_header` (Envoy >= 1.38): content-length is kept and may be set in every mode. */
  readonly allowContentLengthHeader?: boolean;
  /** HCM `max_headers_count` (default 100) and `max_request_headers_kb` (default 60) for mutations. */
  readonly maxHeadersCount?: number;
  readonly maxHeadersKb?: number;
  /** Continue without the server on errors (default false). */
  readonly failureModeAllow?: boolean;
  /** Per-message timeout (default 200 ms); not applied to FULL_DUPLEX_STREAMED bodies. */
  readonly messageTimeoutMs?: number;
  /** Send messages without waiting for replies; replies are ignored. */
  readonly observabilityMode?: boolean;
  readonly sendBodyWithoutWaitingForHeaderResponse?: boolean;
  /** Send `protocol_config` on the first message (Envoy >= 1.34; default true). */
  readonly sendProtocolConfig?: boolean;
  /** `metadata_options.receiving_namespaces.untyped`; unset = accept nothing (as Envoy). */
  readonly receivingNamespaces?: readonly string[];
  /** Forwarded as `metadata_context.filter_metadata` on every message. */
  readonly forwardedMetadata?: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  /** `mutation_rules.disallow_is_error`: a disallowed header change fails the request. */
  readonly disallowIsError?: boolean;
  /** `status_on_error` (default 500). */
  readonly statusOnError?: number;
  /**
   * Envoy's per-connection buffer limit (default 32 MiB here; Envoy's is 1 MiB): the most a
   * BUFFERED body may hold (413 / 500 above it), and in STREAMED the high watermark of chunks
   * sent but not yet answered, above which Envoy reads no more of the body until replies bring
   * the queue under half of it.
   */
  readonly bufferLimitBytes?: number;
  /**
   * Largest reply message accepted (default 128 KiB: GCP closes the stream above it; 0 = no
   * limit). Replies to BUFFERED bodies are exempt: only Envoy has that mode, and it has no limit.
   */
  readonly maxReplyBytes?: number;
  /** Safety limit for a whole exchange (default 10 s), reported as a timeout. */
  readonly exchangeTimeoutMs?: number;
}

/** Body bytes as a list of chunks (each becomes one data frame), or an async source. */
export type BodySource = readonly (string | Uint8Array)[] | AsyncIterable<string | Uint8Array>;

export interface HttpMessage {
  readonly headers: HeaderInput;
  /** Omit for no body (headers carry end_of_stream). */
  readonly body?: BodySource;
  readonly trailers?: HeaderInput;
}

/** What the upstream received after the filter's mutations. */
export interface UpstreamRequest {
  readonly headers: readonly Header[];
  readonly body: Uint8Array;
  readonly trailers: readonly Header[] | undefined;
}

/** Upstream behaviour: a fixed response or a function of what it received. */
export type Upstream = HttpMessage | ((request: UpstreamRequest) => HttpMessage | Promise<HttpMessage>);

export interface HttpExchange {
  readonly request: HttpMessage;
  /** Omit when the exchange is expected to end on the request path. Default: 200, empty. */
  readonly upstream?: Upstream;
  /** Abort the downstream request after this many response body chunks were delivered. */
  readonly abortAfterResponseChunks?: number;
  /** Record every message in `ExchangeResult.trace` (off by default: costly for big bodies). */
  readonly trace?: boolean;
}

export interface DownstreamResponse {
  readonly status: number;
  readonly headers: readonly Header[];
  readonly body: Uint8Array;
  /** Body chunks as the downstream client received them. */
  readonly chunks: readonly Uint8Array[];
  readonly trailers: readonly Header[] | undefined;
  /** The response had started when processing failed, so Envoy reset the stream. */
  readonly reset: boolean;
}

export interface ExchangeResult {
  /** What the upstream saw; undefined when the request never got there. */
  readonly upstream: UpstreamRequest | undefined;
  /** What the downstream client saw. */
  readonly downstream: DownstreamResponse;
  /** Set when the server answered with an immediate response. */
  readonly immediateResponse: { readonly status: number; readonly details: string } | undefined;
  /** Metadata accepted through `receivingNamespaces`, merged per namespace. */
  readonly dynamicMetadata: Record<string, Record<string, JsonValue>>;
  readonly routeCacheCleared: boolean;
  /** `clear_route_cache` replies Envoy ignored (no header mutation, or RETAIN): clear_route_cache_ignored. */
  readonly clearRouteCacheIgnored: number;
  /** Mode overrides Envoy did not apply, with the reason (debug log "...overridden by server is disallowed"). */
  readonly modeOverridesIgnored: readonly string[];
  /** `override_message_timeout` messages that restarted the timer / were ignored. */
  readonly messageTimeoutOverrides: { readonly applied: number; readonly ignored: number };
  /** A protocol or transport error as Envoy would count it, and what it did about it. */
  readonly error:
    | {
        readonly kind: "spurious" | "timeout" | "grpc" | "mutation" | "content-length" | "closed";
        readonly message: string;
        /** true when failure_mode_allow let the request continue. */
        readonly failedOpen: boolean;
      }
    | undefined;
  /** Header changes Envoy refused (protected headers), counted like `rejected_header_mutations`. */
  readonly rejectedHeaderMutations: number;
  /** Every message exchanged, in order, for assertions on the wire shape (with `trace: true`). */
  readonly trace: readonly TraceEntry[];
}

export interface TraceEntry {
  readonly dir: "sent" | "received";
  /** The oneof case, e.g. `requestHeaders`, `immediateResponse`. */
  readonly kind: string;
  /** The message as JSON (protobuf JSON form). */
  readonly message: JsonValue;
}

export interface EnvoyClient {
  /** Drives one HTTP exchange through one ext_proc stream. */
  exchange(config: FilterConfig, exchange: HttpExchange): Promise<ExchangeResult>;
  close(): void;
}
