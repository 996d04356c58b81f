import { create } from "@bufbuild/protobuf";
import type { ProcessingMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  type BodyMutation,
  BodyMutationSchema,
  CommonResponse_ResponseStatus,
  CommonResponseSchema,
  HeaderMutationSchema,
  ImmediateResponseSchema,
  type HeaderMutation as PbHeaderMutation,
  type ProcessingResponse,
  ProcessingResponseSchema,
  StreamedBodyResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { HttpStatusSchema } from "@llm-callouts/proto/gen/envoy/type/v3/http_status_pb";
import type { Header } from "../headers.js";
import type { Direction, DynamicMetadata, ImmediateResponse } from "../processor.js";
import { buildHeaderMutation } from "./headers.js";
import { toStruct } from "./metadata.js";

const encoder = new TextEncoder();

export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Fields shared by header and body replies. */
export interface CommonReplyParts {
  readonly headerMutation?: PbHeaderMutation | undefined;
  readonly bodyMutation?: BodyMutation | undefined;
  readonly clearRouteCache?: boolean | undefined;
  readonly dynamicMetadata?: DynamicMetadata | undefined;
  readonly modeOverride?: ProcessingMode | undefined;
}

type Kind = "Headers" | "Body" | "Trailers";

function caseName(direction: Direction, kind: Kind) {
  return `${direction}${kind}` as "requestHeaders";
}

/** A HeadersResponse or BodyResponse for `direction`. */
export function commonReply(
  direction: Direction,
  kind: "Headers" | "Body",
  parts: CommonReplyParts,
): ProcessingResponse {
  // clear_route_cache is ignored on the response path; sending it there is noise.
  const clearRouteCache = direction === "request" && parts.clearRouteCache === true;
  const response = create(CommonResponseSchema, {
    status: CommonResponse_ResponseStatus.CONTINUE,
    // Envoy ignores clear_route_cache on a reply without a header mutation
    // (DecodingProcessorState::clearRouteCache), so one always goes with it, empty if need be.
    headerMutation: parts.headerMutation ?? (clearRouteCache ? create(HeaderMutationSchema) : undefined),
    bodyMutation: parts.bodyMutation,
    clearRouteCache,
  });
  return create(ProcessingResponseSchema, {
    response: { case: caseName(direction, kind), value: { response } },
    dynamicMetadata: parts.dynamicMetadata ? toStruct(parts.dynamicMetadata) : undefined,
    modeOverride: parts.modeOverride,
  });
}

export function trailersReply(
  direction: Direction,
  headerMutation: PbHeaderMutation | undefined,
  dynamicMetadata?: DynamicMetadata,
): ProcessingResponse {
  return create(ProcessingResponseSchema, {
    response: { case: caseName(direction, "Trailers") as "requestTrailers", value: { headerMutation } },
    dynamicMetadata: dynamicMetadata ? toStruct(dynamicMetadata) : undefined,
  });
}

/** Replaces the body of the message being answered (BUFFERED, STREAMED chunk). */
export function replaceBodyMutation(body: Uint8Array): BodyMutation {
  return create(BodyMutationSchema, {
    mutation: body.length === 0 ? { case: "clearBody", value: true } : { case: "body", value: body },
  });
}

/**
 * FULL_DUPLEX_STREAMED body replies: `streamed_response` chunks of at most
 * `maxChunkBytes` (GIE uses 62,000; GCP closes the stream on replies over 128 KB).
 * `endOfStream` goes on the last chunk only; an empty body with EoS is one empty chunk.
 */
export function streamedBodyReplies(
  direction: Direction,
  body: Uint8Array,
  endOfStream: boolean,
  maxChunkBytes: number,
): ProcessingResponse[] {
  const replies: ProcessingResponse[] = [];
  if (body.length === 0 && !endOfStream) return replies;
  for (let offset = 0; offset < body.length || (offset === 0 && body.length === 0); offset += maxChunkBytes) {
    const piece = body.subarray(offset, offset + maxChunkBytes);
    const last = offset + maxChunkBytes >= body.length;
    const bodyMutation = create(BodyMutationSchema, {
      mutation: {
        case: "streamedResponse",
        value: create(StreamedBodyResponseSchema, { body: piece, endOfStream: last && endOfStream }),
      },
    });
    replies.push(commonReply(direction, "Body", { bodyMutation }));
    if (body.length === 0) break;
  }
  return replies;
}

/** An immediate (local) reply; a denial is always this, never a gRPC error. */
export function immediateReply(reply: ImmediateResponse, dynamicMetadata?: DynamicMetadata): ProcessingResponse {
  const extra: Header[] = [];
  const { mutation } = buildHeaderMutation(reply.headers ? { set: reply.headers } : undefined, extra);
  return create(ProcessingResponseSchema, {
    response: {
      case: "immediateResponse",
      value: create(ImmediateResponseSchema, {
        status: create(HttpStatusSchema, { code: reply.status }),
        headers: mutation,
        body: reply.body === undefined ? new Uint8Array() : toBytes(reply.body),
        grpcStatus: reply.grpcStatus === undefined ? undefined : { status: reply.grpcStatus },
        details: reply.details ?? "",
      }),
    },
    dynamicMetadata: dynamicMetadata ? toStruct(dynamicMetadata) : undefined,
  });
}

/** Puts metadata on the first reply; returns it back when there is no reply to carry it. */
export function attachMetadata(replies: ProcessingResponse[], metadata: DynamicMetadata | undefined) {
  if (!metadata) return undefined;
  const first = replies[0];
  if (!first) return metadata;
  first.dynamicMetadata = toStruct(metadata);
  return undefined;
}
