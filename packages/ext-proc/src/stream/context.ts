import type { Logger } from "pino";
import type { HeaderMap } from "../headers.js";
import type { BodyMode, Direction, ForwardedMetadata, JsonValue, StreamContext } from "../processor.js";

/** The SDK's writable side of a StreamContext. */
export interface MutableStreamContext extends StreamContext {
  bodyModes: Readonly<Record<Direction, BodyMode>>;
  observability: boolean;
  metadata: ForwardedMetadata;
  attributes: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  setRequestHeaders(headers: HeaderMap): void;
  /** Aborts `signal` (only if a processor ever asked for it). */
  abort(): void;
}

/**
 * Per-stream context. The child logger and the AbortController are created on first
 * use: most streams never log or listen, and both showed up in the round-trip profile.
 */
export function createStreamContext(streamId: string, parentLog: Logger): MutableStreamContext {
  let requestHeaders: HeaderMap | undefined;
  let requestId: string | undefined;
  let log: Logger | undefined;
  let controller: AbortController | undefined;
  let ended = false;
  return {
    streamId,
    bodyModes: { request: "NONE", response: "NONE" },
    observability: false,
    metadata: {},
    attributes: {},
    get log() {
      log ??= parentLog.child(requestId ? { stream_id: streamId, request_id: requestId } : { stream_id: streamId });
      return log;
    },
    get signal() {
      controller ??= new AbortController();
      if (ended) controller.abort();
      return controller.signal;
    },
    get requestId() {
      return requestId;
    },
    get requestHeaders() {
      return requestHeaders;
    },
    setRequestHeaders(headers) {
      requestHeaders = headers;
      requestId = headers.get("x-request-id");
      log = undefined;
    },
    abort() {
      ended = true;
      controller?.abort();
    },
  };
}
