import { emptyBytes } from "../bytes.js";
import { createHeaderMap, type Header, type HeaderMap } from "../headers.js";
import type {
  BodyHandling,
  BodyMode,
  DynamicMetadata,
  HeaderMutation,
  HeadersDecision,
  ModeOverride,
} from "../processor.js";

/** Per-direction progress. */
export interface DirectionState {
  headers: HeaderMap;
  handling: BodyHandling | undefined;
  bodyMode: BodyMode;
  /** A headers reply held until the body decision (FULL_DUPLEX_STREAMED, or STREAMED without waiting). */
  heldHeaders: HeadersDecision | undefined;
  heldModeOverride: ModeOverride | undefined;
  chunks: Uint8Array[];
  bufferedBytes: number;
  /** STREAMED/BUFFERED body messages whose replies wait for the whole body. */
  heldBodyReplies: number;
  carry: Uint8Array;
  chunkIndex: number;
  /** The body was finished (EoS, trailers or no body). */
  bodyDone: boolean;
  pendingMetadata: DynamicMetadata | undefined;
}

/** A direction before its first message. */
export function newDirection(bodyMode: BodyMode): DirectionState {
  return {
    headers: createHeaderMap(),
    handling: undefined,
    bodyMode,
    heldHeaders: undefined,
    heldModeOverride: undefined,
    chunks: [],
    bufferedBytes: 0,
    heldBodyReplies: 0,
    carry: emptyBytes,
    chunkIndex: 0,
    bodyDone: false,
    pendingMetadata: undefined,
  };
}

/** Concatenates two mutations (the held headers decision and the body decision). */
export function mergeMutations(
  a: HeaderMutation | undefined,
  b: HeaderMutation | undefined,
): HeaderMutation | undefined {
  if (!a) return b;
  if (!b) return a;
  const list = (input: HeaderMutation["set"]) => (input ? (Array.isArray(input) ? input : Object.entries(input)) : []);
  return {
    set: [...list(a.set), ...list(b.set)] as Header[],
    append: [...list(a.append), ...list(b.append)] as Header[],
    remove: [...(a.remove ?? []), ...(b.remove ?? [])],
  };
}
