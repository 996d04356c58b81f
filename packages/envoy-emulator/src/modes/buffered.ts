import { commonOf, type FilterStream } from "../filter-stream.js";
import { type BodyMode, concatBytes, type Direction, type Header } from "../http.js";
import { collect, type FilterMessage, LocalReply } from "../messages.js";

/**
 * BUFFERED and BUFFERED_PARTIAL: the body is held up to the buffer limit and sent as one
 * message (BUFFERED_PARTIAL sends the first `bufferLimitBytes` and passes the rest unprocessed).
 */
export async function bufferedBody(
  stream: FilterStream,
  dir: Direction,
  message: FilterMessage,
  headers: Header[],
  mode: BodyMode,
): Promise<{ body: Uint8Array; headers: Header[] }> {
  const limit = stream.bufferLimit();
  const all = concatBytes(await collect(message.body));
  const partial = mode === "BUFFERED_PARTIAL" && all.length > limit;
  if (!partial && all.length > limit) {
    // Envoy: 413 on the request path, 500 on the response path.
    throw LocalReply.error(dir === "request" ? 413 : 500, "buffer_limit_exceeded");
  }
  const sent = partial ? all.subarray(0, limit) : all;
  stream.send(dir, "Body", { body: sent, endOfStream: !partial && message.trailers === undefined });
  // Envoy's default max_receive_message_length is unlimited; the 128 KiB cap is GCP's,
  // and GCP has no BUFFERED mode.
  const reply = await stream.expect(dir, ["Body"], stream.messageTimeout(), true);
  if (!reply) return { body: all, headers };
  const common = commonOf(reply);
  const mutation = common?.bodyMutation?.mutation;
  if (mutation?.case === "streamedResponse") stream.protocolFault("spurious", "streamed_response in a BUFFERED reply");
  let processed = sent;
  if (mutation?.case === "body") processed = mutation.value;
  if (mutation?.case === "clearBody" && mutation.value) processed = new Uint8Array();
  // handleBufferedBodyCallback: header mutation first (headers are still held when SEND)...
  headers = stream.mutate(headers, common?.headerMutation, dir);
  stream.noteRouteCache(dir, common);
  const body = partial ? concatBytes([processed, all.subarray(limit)]) : processed;
  // ...then validateContentLength(): with a body mutation, a content-length the headers still
  // carry must equal the mutated body's size; a mismatch is an error reply, never fail-open.
  const length = headers.find(([n]) => n === "content-length")?.[1];
  if (common?.bodyMutation && mutation?.case !== undefined && length !== undefined && Number(length) !== body.length) {
    stream.errorReply("content-length", `body changed to ${body.length} bytes but content-length is ${length}`);
  }
  return { body, headers };
}
