import { Channel } from "./channel.js";
import { FilterStream } from "./filter-stream.js";
import { concatBytes, type Direction, type Header, writeHeaderMap } from "./http.js";
import {
  drain,
  type FilterMessage,
  LocalReply,
  type ProcessedRequest,
  type ProcessedResponse,
  type Sink,
  StreamReset,
} from "./messages.js";
import { bufferedBody } from "./modes/buffered.js";
import { duplexBody } from "./modes/duplex.js";
import { streamedBody } from "./modes/streamed.js";
import { unprocessedBody } from "./modes/unprocessed.js";
import type { FilterConfig } from "./types.js";

/**
 * One instance of Envoy's ext_proc HTTP filter for one HTTP request: one gRPC stream,
 * the request path, then the response path (streamed). `createEnvoyClient().exchange`
 * and the local gateway's filter chain are both built on it. This file is the direction
 * driver (headers, then the body in its mode from `modes/`, then trailers).
 */
export class ExtProcFilter extends FilterStream {
  private finished = false;

  /** The request path. Throws LocalReply when the exchange ends here. */
  async processRequest(message: FilterMessage): Promise<ProcessedRequest> {
    let headers: Header[] = [];
    const chunks: Uint8Array[] = [];
    const trailers = await this.direction("request", message, {
      headers: (h) => {
        headers = h;
      },
      chunk: (c) => chunks.push(c),
    });
    return { headers, body: concatBytes(chunks), trailers };
  }

  /**
   * The response path. Resolves when the headers would go downstream; the body is
   * produced as chunks are processed. Throws LocalReply before the headers left.
   */
  processResponse(message: FilterMessage): Promise<ProcessedResponse> {
    const body = new Channel<Uint8Array>();
    let resolveHeaders: ((h: Header[]) => void) | undefined;
    const headersReady = new Promise<Header[]>((resolve) => {
      resolveHeaders = resolve;
    });
    const done = this.direction("response", message, {
      headers: (h) => {
        resolveHeaders?.(h);
        resolveHeaders = undefined;
      },
      chunk: (c) => body.push(c),
    });
    const trailers = done.then(
      (t) => {
        body.end();
        return t;
      },
      (error: unknown) => {
        body.fail(error instanceof LocalReply ? new StreamReset(`reset: ${error.details}`) : error);
        return undefined;
      },
    );
    return Promise.race([
      headersReady,
      // Before the headers left, a failure is a local reply the caller sees.
      done.then(() => headersReady),
    ]).then((headers) => ({ headers, body, trailers: () => trailers }));
  }

  /** Metadata sent as `metadata_context` from now on (e.g. the served endpoint on the response path). */
  setForwardedMetadata(metadata: FilterConfig["forwardedMetadata"]): void {
    this.forwardedMetadata = metadata;
  }

  /** The downstream client went away: Envoy resets the ext_proc stream. */
  abort(): void {
    this.aborted = true;
    this.serverActive = false;
    this.resetCall();
  }

  /**
   * Closes the gRPC stream as Envoy does when the filter is done: ProcessorStreamImpl::close()
   * half-closes, then resets (closeStream() + resetStream() in grpc_client_impl.h); after an
   * error or abort it resets. Observability mode defers the close (Filter::deferredCloseStream),
   * so the server still reads every message: there the stream is only half-closed.
   */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.aborted || this.immediateResponse || this.error) {
      this.resetCall();
      return;
    }
    this.endCall();
    if (!this.observability) setImmediate(() => this.resetCall());
  }

  get wasAborted(): boolean {
    return this.aborted;
  }

  /** One direction: headers, the body in its mode, trailers. Returns the trailers as they went on. */
  private async direction(dir: Direction, message: FilterMessage, sink: Sink): Promise<Header[] | undefined> {
    const headerMode = this.modes[`${dir}HeaderMode`];
    let bodyMode = this.modes[`${dir}BodyMode`];
    const observability = this.observability;
    let headers = message.headers;
    const hasBody = message.body !== undefined;
    const hasTrailers = message.trailers !== undefined;
    let replacedBody: Uint8Array | undefined;

    const duplex = bodyMode === "FULL_DUPLEX_STREAMED";
    const noWait =
      observability ||
      duplex ||
      (bodyMode === "STREAMED" && this.config.sendBodyWithoutWaitingForHeaderResponse === true);
    let headerReplyPending = false;
    const sendsHeaders = headerMode !== "SKIP" && this.serverActive;
    if (sendsHeaders) {
      this.send(dir, "Headers", { headers: writeHeaderMap(headers), endOfStream: !hasBody && !hasTrailers });
    }
    // decodeHeaders/encodeHeaders: after the headers message went out (so the server saw it),
    // content-length is removed in the modes where the body may change chunk by chunk.
    if (this.serverActive && !observability && this.shouldRemoveContentLength(dir)) {
      headers = headers.filter(([n]) => n !== "content-length");
    }
    if (sendsHeaders) {
      if (!noWait) {
        const reply = await this.expect(dir, ["Headers"], this.messageTimeout());
        if (reply) {
          const applied = this.applyHeadersReply(dir, headers, reply);
          headers = applied.headers;
          replacedBody = applied.replacedBody;
          bodyMode = this.modes[`${dir}BodyMode`];
        }
      } else if (!observability) {
        headerReplyPending = true;
      }
    }

    if (headerReplyPending && !hasBody && !hasTrailers) {
      // Nothing else follows the headers: Envoy waits for their reply in every mode.
      const reply = await this.expect(dir, ["Headers"], duplex ? undefined : this.messageTimeout());
      if (reply) headers = this.applyHeadersReply(dir, headers, reply).headers;
      headerReplyPending = false;
    }

    let trailers = message.trailers;
    if (replacedBody !== undefined) {
      // CONTINUE_AND_REPLACE: the body is replaced and nothing more is sent this way.
      await drain(message.body);
      sink.headers(headers);
      sink.chunk(replacedBody);
      return trailers;
    }
    if (!hasBody || (bodyMode === "NONE" && !headerReplyPending) || !this.serverActive || observability) {
      await unprocessedBody(this, dir, message, headers, sink);
    } else if (duplex) {
      ({ headers, trailers } = await duplexBody(this, { dir, message, headers, headerReplyPending, sink }));
    } else if (bodyMode === "STREAMED") {
      headers = await streamedBody(this, { dir, message, headers, headerReplyPending, sink });
    } else if (bodyMode === "BUFFERED" || bodyMode === "BUFFERED_PARTIAL") {
      const result = await bufferedBody(this, dir, message, headers, bodyMode);
      sink.headers(result.headers);
      sink.chunk(result.body);
      headers = result.headers;
    }

    const sendTrailers = hasTrailers && this.modes[`${dir}TrailerMode`] === "SEND";
    if (sendTrailers && this.serverActive && !duplex && !observability && !this.replaced[dir]) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
      const reply = await this.expect(dir, ["Trailers"], this.messageTimeout());
      if (reply?.response.case === `${dir}Trailers`) trailers = this.applyTrailersReply(trailers, reply);
    } else if (sendTrailers && observability) {
      this.send(dir, "Trailers", { trailers: writeHeaderMap(trailers ?? []) });
    }
    return trailers;
  }
}
