import { concatBytes, emptyBytes } from "../bytes.js";
import type { ChunkDecision } from "../processor.js";
import { toBytes } from "../wire/replies.js";

/**
 * What a chunk processor's decision means for the bytes: `data` is the previous carry plus
 * the new chunk. Without a decision everything but the carry is emitted; at end of stream
 * the carry is flushed, so no byte is ever lost or emitted twice.
 */
export function chunkOutput(
  data: Uint8Array,
  decision: ChunkDecision | undefined,
  endOfStream: boolean,
): { emit: Uint8Array; carry: Uint8Array } {
  const carry = decision?.carry === undefined ? emptyBytes : toBytes(decision.carry);
  const emit = decision?.emit === undefined ? data.subarray(0, data.length - carry.length) : toBytes(decision.emit);
  if (!endOfStream) return { emit, carry };
  return { emit: carry.length > 0 ? concatBytes([emit, carry]) : emit, carry: emptyBytes };
}
