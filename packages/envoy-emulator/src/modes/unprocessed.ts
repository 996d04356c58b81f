import type { FilterStream } from "../filter-stream.js";
import type { Direction, Header } from "../http.js";
import { chunksOf, type FilterMessage, type Sink } from "../messages.js";

/**
 * A body the server does not process: mode NONE, the server out of the loop, or observability
 * mode, where Filter::sendDataInObservabilityMode sends a copy of STREAMED bodies only and the
 * data goes on without waiting for any reply.
 */
export async function unprocessedBody(
  stream: FilterStream,
  dir: Direction,
  message: FilterMessage,
  headers: Header[],
  sink: Sink,
): Promise<void> {
  sink.headers(headers);
  const observed = stream.observability && stream.modes[`${dir}BodyMode`] === "STREAMED" && stream.serverActive;
  const copies: Uint8Array[] = [];
  for await (const chunk of chunksOf(message.body)) {
    if (observed) copies.push(chunk);
    sink.chunk(chunk);
  }
  const last = copies.length - 1;
  for (const [i, chunk] of copies.entries()) {
    stream.send(dir, "Body", { body: chunk, endOfStream: i === last && message.trailers === undefined });
  }
}
