import type { Logger } from "pino";
import type { HeaderInput, HeaderMap } from "./headers.js";

/**
 * The processor contract: a callout says *what* to do per phase with plain data;
 * the SDK's stream machine decides *how* that goes on the wire for each
 * processing mode (BUFFERED, STREAMED, FULL_DUPLEX_STREAMED, observability ...).
 * Nothing here imports Envoy types.
 */

export type Direction = "request" | "response";
export type Phase =
  | "requestHeaders"
  | "requestBody"
  | "requestTrailers"
  | "responseHeaders"
  | "responseBody"
  | "responseTrailers";

/** Envoy's ProcessingMode.BodySendMode, by name. */
export type BodyMode = "NONE" | "STREAMED" | "BUFFERED" | "BUFFERED_PARTIAL" | "FULL_DUPLEX_STREAMED";
/** Envoy's ProcessingMode.HeaderSendMode, by name (also used for trailers). */
export type HeaderSendMode = "DEFAULT" | "SEND" | "SKIP";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Dynamic metadata: top-level keys are namespaces, e.g. `{ "envoy.lb": { ... } }`. */
export type DynamicMetadata = Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;

/** Header changes. `set` overwrites (a client-sent copy never survives), `append` adds. */
export interface HeaderMutation {
  readonly set?: HeaderInput;
  readonly append?: HeaderInput;
  readonly remove?: readonly string[];
}

/** A local reply that ends processing (a denial, a cache hit, a validation error). */
export interface ImmediateResponse {
  /** HTTP status, >= 200. */
  readonly status: number;
  readonly headers?: HeaderInput;
  readonly body?: string | Uint8Array;
  /** Optional gRPC status code for gRPC clients. */
  readonly grpcStatus?: number;
  /** Goes to Envoy's %RESPONSE_CODE_DETAILS%. */
  readonly details?: string;
}

/** Per-request change of what Envoy sends next (honoured on header replies only). */
export interface ModeOverride {
  readonly responseHeaders?: HeaderSendMode;
  readonly requestBody?: BodyMode;
  readonly responseBody?: BodyMode;
  readonly requestTrailers?: HeaderSendMode;
  readonly responseTrailers?: HeaderSendMode;
}

/**
 * How the SDK hands a direction's body to the processor.
 * - `whole`: accumulated; `onXBody` is called once with all bytes. In FULL_DUPLEX_STREAMED
 *   (and STREAMED with send_body_without_waiting_for_header_response) the headers reply is
 *   held until the body decision, so body-derived header changes still apply.
 * - `chunks`: `onXBodyChunk` per chunk, with a carry-over buffer.
 * - `pass`: the SDK echoes the body unchanged and does not call the processor.
 */
export type BodyHandling = "whole" | "chunks" | "pass";

interface Mutations {
  readonly headers?: HeaderMutation;
  /** Request direction only; ignored by Envoy on responses. */
  readonly clearRouteCache?: boolean;
  readonly dynamicMetadata?: DynamicMetadata;
}

export interface HeadersDecision extends Mutations {
  /** Ends the exchange with a local reply. */
  readonly respond?: ImmediateResponse;
  readonly modeOverride?: ModeOverride;
  /** Overrides the default body handling for this direction. */
  readonly body?: BodyHandling;
}

export interface BodyDecision extends Mutations {
  readonly respond?: ImmediateResponse;
  /** The new body; the SDK fixes content-length and chunking. */
  readonly replaceBody?: string | Uint8Array;
}

export interface ChunkDecision {
  /** Bytes to forward now. Default: the event's `data` minus `carry`. */
  readonly emit?: string | Uint8Array;
  /** Bytes to hold back and prepend to the next chunk's `data` (flushed at end of stream). */
  readonly carry?: string | Uint8Array;
  readonly respond?: ImmediateResponse;
  readonly dynamicMetadata?: DynamicMetadata;
}

export interface TrailersDecision {
  readonly trailers?: HeaderMutation;
  readonly dynamicMetadata?: DynamicMetadata;
  readonly respond?: ImmediateResponse;
}

/** Metadata Envoy forwarded: namespace -> fields (`metadata_context.filter_metadata`). */
export type ForwardedMetadata = Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;

export interface HeadersEvent {
  readonly headers: HeaderMap;
  /** True when no body and no trailers follow in this direction. */
  readonly endOfStream: boolean;
}

export interface BodyEvent {
  /** The whole body (decoded as received; no content-encoding applied). */
  readonly body: Uint8Array;
  /** This direction's headers as Envoy sent them. */
  readonly headers: HeaderMap;
  /**
   * True when this is only the first part of the body: BUFFERED_PARTIAL over Envoy's limit, or a
   * STREAMED body past `streamedHoldBytes` (the rest then passes unprocessed).
   */
  readonly partial: boolean;
}

export interface ChunkEvent {
  /** Carried bytes followed by the new chunk. */
  readonly data: Uint8Array;
  readonly endOfStream: boolean;
  /** 0-based chunk number in this direction. */
  readonly index: number;
  readonly headers: HeaderMap;
}

export interface TrailersEvent {
  readonly trailers: HeaderMap;
}

export type Awaitable<T> = T | Promise<T>;

/** Why a stream ended, for bookkeeping such as in-flight counters. */
export interface StreamOutcome {
  /** The client (Envoy) ended the stream without a clean finish, or a transport error. */
  readonly aborted: boolean;
  /** The exchange ended with an immediate response (from this processor). */
  readonly respondedImmediately: boolean;
  /** Both directions finished as far as this filter saw. */
  readonly completed: boolean;
}

export interface StreamContext {
  /** Unique per gRPC stream, for logs. */
  readonly streamId: string;
  /** `x-request-id` once request headers were seen. */
  readonly requestId: string | undefined;
  /** Child logger carrying stream and request ids. */
  readonly log: Logger;
  /** Aborted when the stream ends for any reason. */
  readonly signal: AbortSignal;
  /** Effective body modes (protocol_config, else the server's assumed modes). */
  readonly bodyModes: Readonly<Record<Direction, BodyMode>>;
  /** Envoy sends asynchronously and ignores replies. */
  readonly observability: boolean;
  /** Metadata forwarded on the latest message. */
  readonly metadata: ForwardedMetadata;
  /** Envoy attributes (keyed by filter name), request and response ones merged per key. */
  readonly attributes: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  /** Request headers, once seen. */
  readonly requestHeaders: HeaderMap | undefined;
}

/**
 * One processor per ext_proc stream (per HTTP request per filter). Each hook is
 * optional; returning nothing means "continue unmodified". A thrown error becomes
 * the service's fail-open or fail-closed decision.
 */
export interface Processor {
  onRequestHeaders?(event: HeadersEvent): Awaitable<HeadersDecision | undefined | void>;
  onRequestBody?(event: BodyEvent): Awaitable<BodyDecision | undefined | void>;
  onRequestBodyChunk?(event: ChunkEvent): Awaitable<ChunkDecision | undefined | void>;
  onRequestTrailers?(event: TrailersEvent): Awaitable<TrailersDecision | undefined | void>;
  onResponseHeaders?(event: HeadersEvent): Awaitable<HeadersDecision | undefined | void>;
  onResponseBody?(event: BodyEvent): Awaitable<BodyDecision | undefined | void>;
  onResponseBodyChunk?(event: ChunkEvent): Awaitable<ChunkDecision | undefined | void>;
  onResponseTrailers?(event: TrailersEvent): Awaitable<TrailersDecision | undefined | void>;
  /** Called exactly once when the stream ends, whatever the reason. */
  onStreamEnd?(outcome: StreamOutcome): void;
}

/** Creates the processor for one stream. */
export type ProcessorFactory = (context: StreamContext) => Processor;
