import { commonOf, type FilterStream } from "../filter-stream.js";
import type { Header } from "../http.js";
import type { BodyStart } from "../messages.js";
import { sendChunks } from "./send-chunks.js";

/**
 * FULL_DUPLEX_STREAMED: body and trailers go out as they arrive, with no message timeout; the
 * server answers with `streamed_response` chunks of its own, in any number, ending with
 * `end_of_stream` (or a trailers reply when trailers follow).
 */
export async function duplexBody(
  stream: FilterStream,
  start: BodyStart,
): Promise<{ headers: Header[]; trailers: Header[] | undefined }> {
  const { dir, message, headerReplyPending, sink } = start;
  let headers = start.headers;
  const hasTrailers = message.trailers !== undefined;
  const sendTrailers = hasTrailers && stream.modes[`${dir}TrailerMode`] === "SEND";
  let trailers = message.trailers;
  const sender = sendChunks(stream, dir, message.body, hasTrailers, sendTrailers ? (trailers ?? []) : false, {
    onSent: () => {
      stream.duplexBodyReceived = true;
    },
  });
  if (headerReplyPending) {
    // Duplex: no message timeout; the server may hold this reply until the body is complete.
    const reply = await stream.expect(dir, ["Headers"], undefined);
    if (reply) {
      const applied = stream.applyHeadersReply(dir, headers, reply);
      headers = applied.headers;
      if (applied.replacedBody !== undefined) {
        // handleHeaderContinueAndReplace: body mode drops to NONE, queued data is cleared and
        // later body data is drained (Filter::onData, bodyReplaced()).
        stream.replaced[dir] = true;
        sink.headers(headers);
        sink.chunk(applied.replacedBody);
        await sender;
        return { headers, trailers };
      }
    }
  }
  sink.headers(headers);
  let bodyEnded = false;
  while (stream.serverActive && !bodyEnded) {
    const reply = await stream.expect(dir, sendTrailers ? ["Body", "Trailers"] : ["Body"], undefined);
    if (!reply) break;
    if (reply.response.case === `${dir}Trailers`) {
      trailers = stream.applyTrailersReply(trailers, reply);
      break;
    }
    const common = commonOf(reply);
    const mutation = common?.bodyMutation?.mutation;
    if (mutation?.case !== "streamedResponse") {
      // handleStreamedBodyCallback: a non-streamed body reply to a duplex filter is spurious.
      stream.protocolFault("spurious", `${mutation?.case ?? "empty"} body reply to a FULL_DUPLEX_STREAMED filter`);
      break;
    }
    stream.noteRouteCache(dir, common);
    sink.chunk(mutation.value.body);
    if (mutation.value.endOfStream) {
      if (hasTrailers) stream.protocolFault("spurious", "end_of_stream on a body reply although trailers follow");
      bodyEnded = true;
    }
  }
  await sender;
  return { headers, trailers };
}
