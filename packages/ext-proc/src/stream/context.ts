import type { Logger } from "pino";
import { createHeaderMap, type HeaderMap } from "../headers.js";
import type { BodyMode, Direction, ForwardedMetadata, JsonValue, StreamContext } from "../processor.js";

/** The SDK's writable side of a StreamContext. */
export interface MutableStreamContext extends StreamContext {
  log: Logger;
  bodyModes: Readonly<Record<Direction, BodyMode>>;
  observability: boolean;
  metadata: ForwardedMetadata;
  attributes: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  setRequestHeaders(headers: HeaderMap): void;
}

export function createStreamContext(streamId: string, log: Logger, signal: AbortSignal): MutableStreamContext {
  let requestHeaders: HeaderMap | undefined;
  let requestId: string | undefined;
  const ctx: MutableStreamContext = {
    streamId,
    log,
    signal,
    bodyModes: { request: "NONE", response: "NONE" },
    observability: false,
    metadata: {},
    attributes: {},
    get requestId() {
      return requestId;
    },
    get requestHeaders() {
      return requestHeaders;
    },
    setRequestHeaders(headers) {
      requestHeaders = headers;
      requestId = headers.get("x-request-id");
      if (requestId) ctx.log = ctx.log.child({ request_id: requestId });
    },
  };
  return ctx;
}

export const emptyHeaders: HeaderMap = createHeaderMap();
