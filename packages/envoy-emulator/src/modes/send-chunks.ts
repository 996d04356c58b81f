import type { FilterStream } from "../filter-stream.js";
import { type Direction, type Header, writeHeaderMap } from "../http.js";
import { chunksOf } from "../messages.js";
import type { BodySource } from "../types.js";

export interface SendHooks {
  /** Holds the next chunk back (the STREAMED watermark). */
  readonly gate?: () => Promise<void>;
  readonly onSent?: (chunk: Uint8Array) => void;
}

/**
 * Sends body chunks as they arrive, then trailers (when `trailers` is a list), for the STREAMED
 * and FULL_DUPLEX_STREAMED modes. A body known up front (a list, like an HTTP/2 body ending with
 * END_STREAM) carries EoS on its last chunk; a streamed body (like chunked HTTP/1.1) is sent chunk
 * by chunk and ended by an empty EoS chunk, as Envoy does.
 */
export async function sendChunks(
  stream: FilterStream,
  dir: Direction,
  body: BodySource | undefined,
  hasTrailers: boolean,
  trailers: Header[] | false,
  hooks: SendHooks = {},
): Promise<void> {
  const stopped = () => stream.aborted || !stream.serverActive || stream.replaced[dir];
  const emit = async (bytes: Uint8Array, endOfStream: boolean) => {
    await hooks.gate?.();
    if (stopped()) return false;
    stream.send(dir, "Body", { body: bytes, endOfStream });
    hooks.onSent?.(bytes);
    return true;
  };
  const sendTrailers = () => {
    if (trailers) stream.send(dir, "Trailers", { trailers: writeHeaderMap(trailers) });
  };
  if (body !== undefined && !Array.isArray(body)) {
    for await (const chunk of chunksOf(body)) {
      if (stopped() || !(await emit(chunk, false))) return;
    }
    if (stopped()) return;
    if (!hasTrailers && !(await emit(new Uint8Array(), true))) return;
    sendTrailers();
    return;
  }
  let previous: Uint8Array | undefined;
  for await (const chunk of chunksOf(body)) {
    if (stopped()) return;
    if (previous !== undefined && !(await emit(previous, false))) return;
    previous = chunk;
  }
  if (stopped()) return;
  if (!(await emit(previous ?? new Uint8Array(), !hasTrailers))) return;
  sendTrailers();
}
