import { create, toBinary } from "@bufbuild/protobuf";
import {
  type BodyMutation,
  type CommonResponse,
  HeaderMutationSchema,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";

/**
 * Encodes one ProcessingResponse as a gRPC length-prefixed message, given as parts to write in
 * order: the same bytes as the 5-byte prefix followed by `toBinary`, but a body of `inlineLimit`
 * bytes or more is a part of its own (a view of the reply's body, never copied), so a 64 KB
 * streamed chunk costs no copy here.
 *
 * The framing of header and body replies (CommonResponse, BodyMutation, StreamedBodyResponse) is
 * written by hand; header mutations, dynamic metadata and mode overrides are encoded by
 * protobuf-es and appended as they are; any other reply (immediate, trailers, timeouts, unknown
 * fields) goes through `toBinary` whole. The property test in encode-response.test.ts holds the
 * output to `toBinary` byte for byte.
 */
export function encodeResponseFrame(reply: ProcessingResponse, inlineLimit = 16 * 1024): Uint8Array[] {
  const fast = encodeFast(reply, inlineLimit);
  if (fast) return fast;
  const message = toBinary(ProcessingResponseSchema, reply);
  return framed(message.length, [message], inlineLimit);
}

/** A message under construction: its parts in order and their total length. */
interface Parts {
  readonly list: Uint8Array[];
  length: number;
}

function encodeFast(reply: ProcessingResponse, inlineLimit: number): Uint8Array[] | undefined {
  if (hasUnknown(reply) || reply.overrideMessageTimeout !== undefined) return undefined;
  const response = reply.response;
  let field: number;
  switch (response.case) {
    case "requestHeaders":
      field = 1;
      break;
    case "responseHeaders":
      field = 2;
      break;
    case "requestBody":
      field = 3;
      break;
    case "responseBody":
      field = 4;
      break;
    case undefined:
      field = 0;
      break;
    default:
      return undefined;
  }
  const out: Parts = { list: [], length: 0 };
  if (field !== 0) {
    const value = (response as { value: { response?: CommonResponse } }).value;
    if (hasUnknown(value)) return undefined;
    const inner: Parts = { list: [], length: 0 };
    if (value.response !== undefined) {
      const common = commonResponse(value.response);
      if (!common) return undefined;
      messageField(inner, 1, common);
    }
    messageField(out, field, inner);
  }
  if (reply.dynamicMetadata !== undefined || reply.modeOverride !== undefined || reply.requestDrain) {
    // Fields 8, 9 and 12 follow the oneof: protobuf-es writes them (the Struct from its JSON
    // form) as a reply holding only them, appended as they are.
    const tail = toBinary(
      ProcessingResponseSchema,
      create(ProcessingResponseSchema, {
        dynamicMetadata: reply.dynamicMetadata,
        modeOverride: reply.modeOverride,
        requestDrain: reply.requestDrain,
      }),
    );
    out.list.push(tail);
    out.length += tail.length;
  }
  return framed(out.length, out.list, inlineLimit);
}

function commonResponse(common: CommonResponse): Parts | undefined {
  if (hasUnknown(common) || common.trailers !== undefined) return undefined;
  const out: Parts = { list: [], length: 0 };
  if (common.status !== 0) raw(out, [0x08, ...varint(common.status)]);
  if (common.headerMutation !== undefined) bytesPart(out, 2, toBinary(HeaderMutationSchema, common.headerMutation));
  if (common.bodyMutation !== undefined) {
    const body = bodyMutation(common.bodyMutation);
    if (!body) return undefined;
    messageField(out, 3, body);
  }
  if (common.clearRouteCache) raw(out, [0x28, 1]);
  return out;
}

function bodyMutation(mutation: BodyMutation): Parts | undefined {
  if (hasUnknown(mutation)) return undefined;
  const out: Parts = { list: [], length: 0 };
  const m = mutation.mutation;
  switch (m.case) {
    case undefined:
      return out;
    case "body":
      // A oneof member is written even when empty.
      bytesPart(out, 1, m.value);
      return out;
    case "clearBody":
      raw(out, [0x10, m.value ? 1 : 0]);
      return out;
    case "streamedResponse": {
      const s = m.value;
      if (hasUnknown(s)) return undefined;
      const inner: Parts = { list: [], length: 0 };
      if (s.body.length > 0) bytesPart(inner, 1, s.body);
      if (s.endOfStream) raw(inner, [0x10, 1]);
      if (s.endOfStreamWithoutMessage) raw(inner, [0x18, 1]);
      if (s.grpcMessageCompressed) raw(inner, [0x20, 1]);
      messageField(out, 3, inner);
      return out;
    }
    default:
      return undefined;
  }
}

function hasUnknown(message: object): boolean {
  const unknown = (message as { $unknown?: unknown[] }).$unknown;
  return unknown !== undefined && unknown.length > 0;
}

function raw(out: Parts, bytes: number[]): void {
  out.list.push(Uint8Array.from(bytes));
  out.length += bytes.length;
}

/** A length-delimited field holding `bytes` (a view, kept as its own part). */
function bytesPart(out: Parts, field: number, bytes: Uint8Array): void {
  raw(out, [(field << 3) | 2, ...varint(bytes.length)]);
  if (bytes.length > 0) {
    out.list.push(bytes);
    out.length += bytes.length;
  }
}

function messageField(out: Parts, field: number, inner: Parts): void {
  raw(out, [(field << 3) | 2, ...varint(inner.length)]);
  for (const part of inner.list) out.list.push(part);
  out.length += inner.length;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  // Enums are int32: a negative one is ten bytes on the wire, as protobuf-es writes it.
  if (value < 0) {
    let lo = value >>> 0;
    for (let i = 0; i < 4; i++) {
      bytes.push((lo & 0x7f) | 0x80);
      lo >>>= 7;
    }
    bytes.push((lo & 0x0f) | 0x70 | 0x80, 0xff, 0xff, 0xff, 0xff, 0x01);
    return bytes;
  }
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return bytes;
}

/**
 * The gRPC prefix (flag 0, big-endian length) and the message parts, with runs of small parts
 * joined into one buffer and parts of `inlineLimit` bytes or more left as they are.
 */
function framed(length: number, parts: readonly Uint8Array[], inlineLimit: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runLength = 5;
  const prefix = new Uint8Array(5);
  new DataView(prefix.buffer).setUint32(1, length);
  run.push(prefix);
  const flush = () => {
    if (runLength === 0) return;
    const joined = Buffer.allocUnsafe(runLength);
    let offset = 0;
    for (const p of run) {
      joined.set(p, offset);
      offset += p.length;
    }
    out.push(joined);
    run = [];
    runLength = 0;
  };
  for (const part of parts) {
    if (part.length >= inlineLimit) {
      flush();
      out.push(part);
    } else {
      run.push(part);
      runLength += part.length;
    }
  }
  flush();
  return out;
}
