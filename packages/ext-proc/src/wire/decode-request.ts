import { fromBinary } from "@bufbuild/protobuf";
import type { HeaderMap, HeaderValue } from "@llm-callouts/proto/gen/envoy/config/core/v3/base_pb";
import type { ProcessingMode_BodySendMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  type HttpBody,
  type HttpHeaders,
  type HttpTrailers,
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProtocolConfiguration,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";

/**
 * Decodes one ProcessingRequest: the same message `fromBinary` returns, built without
 * protobuf-es's reflection for the fields Envoy sends on every stream (headers, body,
 * trailers, observability_mode, protocol_config). Anything else (metadata_context,
 * attributes, unknown fields, a message field given twice, malformed bytes) goes to
 * `fromBinary`, so its answer, its merging rules and its errors are protobuf-es's own.
 * Bytes fields (header raw values, bodies) are views into `bytes`, as with `fromBinary`.
 * The property test in decode-request.test.ts holds the two to the same output.
 */
export function decodeProcessingRequest(bytes: Uint8Array): ProcessingRequest {
  return decodeFast(bytes) ?? fromBinary(ProcessingRequestSchema, bytes);
}

// Reader state for one synchronous decode.
let buf: Uint8Array = new Uint8Array(0);
let pos = 0;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Thrown inside the fast path for anything it leaves to fromBinary. */
const unsupported = new Error("unsupported by the fast path");

/** The fast path alone: undefined where it defers to fromBinary (exported for its tests). */
export function decodeFast(bytes: Uint8Array): ProcessingRequest | undefined {
  buf = bytes;
  pos = 0;
  try {
    return readRequest(bytes.length);
  } catch {
    // `unsupported`, or invalid UTF-8 from the fatal decoder: fromBinary decides (and reports).
    return undefined;
  } finally {
    buf = empty;
  }
}

const empty = new Uint8Array(0);

function readRequest(end: number): ProcessingRequest {
  const message = {
    $typeName: "envoy.service.ext_proc.v3.ProcessingRequest",
    request: { case: undefined },
    attributes: {},
    observabilityMode: false,
  } as ProcessingRequest;
  let oneofSet = false;
  let configSet = false;
  while (pos < end) {
    const tag = varint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 10 && wireType === 0) {
      message.observabilityMode = bool();
      continue;
    }
    if (wireType !== 2) throw unsupported;
    const length = varint32();
    const stop = pos + length;
    if (stop > end) throw unsupported;
    switch (field) {
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7:
        // A second oneof member (or the same one again, which protobuf merges) is left to fromBinary.
        if (oneofSet) throw unsupported;
        oneofSet = true;
        message.request = readOneof(field, stop);
        break;
      case 11:
        if (configSet) throw unsupported;
        configSet = true;
        message.protocolConfig = readProtocolConfig(stop);
        break;
      default:
        throw unsupported;
    }
  }
  if (pos !== end) throw unsupported;
  return message;
}

function readOneof(field: number, end: number): ProcessingRequest["request"] {
  switch (field) {
    case 2:
      return { case: "requestHeaders", value: readHeaders(end) };
    case 3:
      return { case: "responseHeaders", value: readHeaders(end) };
    case 4:
      return { case: "requestBody", value: readBody(end) };
    case 5:
      return { case: "responseBody", value: readBody(end) };
    case 6:
      return { case: "requestTrailers", value: readTrailers(end) };
    default:
      return { case: "responseTrailers", value: readTrailers(end) };
  }
}

function readHeaders(end: number): HttpHeaders {
  const message = {
    $typeName: "envoy.service.ext_proc.v3.HttpHeaders",
    attributes: {},
    endOfStream: false,
  } as HttpHeaders;
  let mapSet = false;
  while (pos < end) {
    const tag = varint32();
    if (tag === 0x18 /* 3: end_of_stream, varint */) {
      message.endOfStream = bool();
    } else if (tag === 0x0a /* 1: headers */ && !mapSet) {
      mapSet = true;
      message.headers = readHeaderMap(delimitedEnd(end));
    } else {
      throw unsupported;
    }
  }
  if (pos !== end) throw unsupported;
  return message;
}

function readTrailers(end: number): HttpTrailers {
  const message = { $typeName: "envoy.service.ext_proc.v3.HttpTrailers" } as HttpTrailers;
  let mapSet = false;
  while (pos < end) {
    const tag = varint32();
    if (tag !== 0x0a /* 1: trailers */ || mapSet) throw unsupported;
    mapSet = true;
    message.trailers = readHeaderMap(delimitedEnd(end));
  }
  if (pos !== end) throw unsupported;
  return message;
}

function readHeaderMap(end: number): HeaderMap {
  const headers: HeaderValue[] = [];
  while (pos < end) {
    if (varint32() !== 0x0a /* 1: headers, repeated */) throw unsupported;
    headers.push(readHeaderValue(delimitedEnd(end)));
  }
  if (pos !== end) throw unsupported;
  return { $typeName: "envoy.config.core.v3.HeaderMap", headers } as HeaderMap;
}

function readHeaderValue(end: number): HeaderValue {
  let key = "";
  let value = "";
  let rawValue: Uint8Array = empty;
  while (pos < end) {
    const tag = varint32();
    if (tag !== 0x0a && tag !== 0x12 && tag !== 0x1a) throw unsupported;
    const stop = delimitedEnd(end);
    // Repeated scalars: the last one wins, as in protobuf.
    if (tag === 0x0a) key = string(stop);
    else if (tag === 0x12) value = string(stop);
    else rawValue = buf.subarray(pos, stop);
    pos = stop;
  }
  if (pos !== end) throw unsupported;
  return { $typeName: "envoy.config.core.v3.HeaderValue", key, value, rawValue } as HeaderValue;
}

function readBody(end: number): HttpBody {
  const message = {
    $typeName: "envoy.service.ext_proc.v3.HttpBody",
    body: empty,
    endOfStream: false,
    endOfStreamWithoutMessage: false,
    grpcMessageCompressed: false,
  } as HttpBody;
  while (pos < end) {
    const tag = varint32();
    switch (tag) {
      case 0x0a: {
        const stop = delimitedEnd(end);
        message.body = buf.subarray(pos, stop);
        pos = stop;
        break;
      }
      case 0x10:
        message.endOfStream = bool();
        break;
      case 0x18:
        message.endOfStreamWithoutMessage = bool();
        break;
      case 0x20:
        message.grpcMessageCompressed = bool();
        break;
      default:
        throw unsupported;
    }
  }
  if (pos !== end) throw unsupported;
  return message;
}

function readProtocolConfig(end: number): ProtocolConfiguration {
  const message = {
    $typeName: "envoy.service.ext_proc.v3.ProtocolConfiguration",
    requestBodyMode: 0 as ProcessingMode_BodySendMode,
    responseBodyMode: 0 as ProcessingMode_BodySendMode,
    sendBodyWithoutWaitingForHeaderResponse: false,
  } as ProtocolConfiguration;
  while (pos < end) {
    const tag = varint32();
    if (tag === 0x08) message.requestBodyMode = int32() as ProcessingMode_BodySendMode;
    else if (tag === 0x10) message.responseBodyMode = int32() as ProcessingMode_BodySendMode;
    else if (tag === 0x18) message.sendBodyWithoutWaitingForHeaderResponse = bool();
    else throw unsupported;
  }
  if (pos !== end) throw unsupported;
  return message;
}

/** Reads a length and returns where the delimited field ends (within `end`). */
function delimitedEnd(end: number): number {
  const length = varint32();
  const stop = pos + length;
  if (stop > end) throw unsupported;
  return stop;
}

/** An unsigned varint of at most 5 bytes (tags, lengths). */
function varint32(): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) throw unsupported;
    const b = buf[pos++] as number;
    if (shift === 28 && b > 0x0f) throw unsupported;
    result |= (b & 0x7f) << shift;
    if (b < 0x80) return result >>> 0;
  }
  throw unsupported;
}

/** A varint of up to 10 bytes; its low 32 bits, and whether any bit is set. */
function varint64(): { low: number; any: boolean } {
  let low = 0;
  let any = false;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw unsupported;
    const b = buf[pos++] as number;
    if (i < 5) low |= (b & 0x7f) << (7 * i);
    if ((b & 0x7f) !== 0) any = true;
    if (b < 0x80) return { low, any };
  }
  throw unsupported;
}

function bool(): boolean {
  // One byte 0 or 1 is what every encoder writes; longer forms take the general reader.
  const b = buf[pos];
  if (b === 0 || b === 1) {
    pos++;
    return b === 1;
  }
  return varint64().any;
}

function int32(): number {
  const b = buf[pos];
  if (b !== undefined && b < 0x80) {
    pos++;
    return b;
  }
  return varint64().low | 0;
}

/** A UTF-8 string field `[pos, end)`; invalid UTF-8 throws (protobuf-es validates proto3 strings). */
function string(end: number): string {
  const start = pos;
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if ((buf[i] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  return strictUtf8.decode(buf.subarray(start, end));
}
