import type { ProcessingResponse } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { emptyBytes } from "../bytes.js";
import type { Header } from "../headers.js";
import type { BodyDecision, Direction } from "../processor.js";
import { buildHeaderMutation } from "../wire/headers.js";
import { commonReply, replaceBodyMutation } from "../wire/replies.js";

export interface HeldBodyRepliesInput {
  readonly direction: Direction;
  /** Body messages whose replies were held (1 in BUFFERED, one per chunk in STREAMED). */
  readonly count: number;
  readonly finalBody: Uint8Array;
  readonly replaced: boolean;
  /** BUFFERED or BUFFERED_PARTIAL: header changes in body replies apply only there. */
  readonly buffered: boolean;
  /** The body decision's header changes already went out on a held headers reply. */
  readonly bodyLevelApplied: boolean;
  readonly decision: BodyDecision;
  /** `content-length` fix to send with a changed BUFFERED body (empty when not needed). */
  readonly lengthFix: readonly Header[];
}

/**
 * Replies to held STREAMED/BUFFERED body messages once the whole-body decision is known:
 * earlier chunks are cleared when the body changed, the last reply carries the new body and,
 * in BUFFERED modes, the decision's header changes, route-cache clearing and metadata.
 */
export function heldBodyReplies(input: HeldBodyRepliesInput): {
  replies: ProcessingResponse[];
  refused: readonly string[];
} {
  const { direction, count, finalBody, replaced, buffered, bodyLevelApplied, decision } = input;
  const replies: ProcessingResponse[] = [];
  for (let i = 0; i < count - 1; i++) {
    replies.push(
      commonReply(direction, "Body", { bodyMutation: replaced ? replaceBodyMutation(emptyBytes) : undefined }),
    );
  }
  if (count === 0) return { replies, refused: [] };
  const carriesHeaders = buffered && !bodyLevelApplied;
  const built = carriesHeaders ? buildHeaderMutation(decision.headers, input.lengthFix) : undefined;
  replies.push(
    commonReply(direction, "Body", {
      bodyMutation: replaced ? replaceBodyMutation(finalBody) : undefined,
      headerMutation: built?.mutation,
      clearRouteCache: carriesHeaders && decision.clearRouteCache,
      dynamicMetadata: bodyLevelApplied ? undefined : decision.dynamicMetadata,
    }),
  );
  return { replies, refused: built?.refused ?? [] };
}
