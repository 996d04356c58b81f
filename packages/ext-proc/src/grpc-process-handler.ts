import { constants, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  ProcessingRequest,
  ProcessingResponse,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { type ConnectionLimits, TokenBucket } from "./connection-limits.js";
import type { StreamOpener, StreamSession } from "./ext-proc-handler.js";
import { decodeProcessingRequest } from "./wire/decode-request.js";
import { encodeResponseFrame } from "./wire/encode-response.js";

/** The one method this handler serves. */
export const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

/**
 * A lean gRPC (HTTP/2) handler for ExternalProcessor.Process on the raw `Http2Stream` (no
 * `node:http2` compatibility objects, no stream iterators). gRPC framing for one bidi method
 * is small (a 1-byte flag and a 4-byte length per message, status in trailers), and
 * connect's per-call machinery was most of the server's CPU per round trip (see the README
 * benchmark); everything else on the server still goes through connect-node.
 *
 * Messages are decoded as their last byte arrives and handled one at a time, in order; replies
 * are written as they come. More than `maxQueuedMessages` waiting pauses the stream (HTTP/2
 * flow control then holds the client), so a fast client cannot queue without bound.
 */
export function createProcessStreamHandler(
  open: StreamOpener,
  readMaxBytes: number,
  limits: Pick<ConnectionLimits, "earlyResetBurst" | "earlyResetsPerSecond"> = {
    earlyResetBurst: Number.POSITIVE_INFINITY,
    earlyResetsPerSecond: 0,
  },
) {
  const earlyResets = new WeakMap<Http2Session, TokenBucket>();
  /** A stream the client reset before sending one whole message (Rapid Reset's pattern). */
  const onEarlyReset = (session: Http2Session | undefined) => {
    if (!session || session.destroyed) return;
    let bucket = earlyResets.get(session);
    if (!bucket) {
      bucket = new TokenBucket(limits.earlyResetBurst, limits.earlyResetsPerSecond);
      earlyResets.set(session, bucket);
    }
    if (!bucket.take()) session.destroy(undefined, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  };
  return (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    const contentType = headers["content-type"] ?? "";
    if (
      headers[":method"] !== "POST" ||
      !contentType.startsWith("application/grpc") ||
      contentType.startsWith("application/grpc-web")
    ) {
      stream.on("error", ignore);
      stream.respond({ ":status": 415, "content-type": "text/plain" });
      stream.end("expected application/grpc\n");
      return;
    }
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      stream.on("error", ignore);
      trailersOnly(stream, Code.Unimplemented, `grpc-encoding ${encoding} is not supported`);
      return;
    }
    let session: StreamSession;
    try {
      session = open();
    } catch (error) {
      stream.on("error", ignore);
      const e = ConnectError.from(error);
      trailersOnly(stream, e.code, e.rawMessage);
      return;
    }
    new ProcessCall(stream, session, readMaxBytes, onEarlyReset);
  };
}

const maxQueuedMessages = 16;
const responseHeaders = {
  ":status": 200,
  "content-type": "application/grpc+proto",
  "grpc-accept-encoding": "identity",
};
const okTrailers = { "grpc-status": "0" };
const emptyBuffer = Buffer.alloc(0);

function ignore(): void {}

/** One Process stream: framing in, session calls in order, framing and status out. */
class ProcessCall {
  private buffer: Buffer = emptyBuffer;
  /** DATA frames of a large message, joined once it is complete (not on every frame). */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 5;
  private readonly queue: ProcessingRequest[] = [];
  private busy = false;
  private clientEnded = false;
  private finished = false;
  private headersSent = false;
  /** A whole message arrived (Envoy sends one as it opens the stream). */
  private received = false;
  /** The client sent END_STREAM (not a reset). */
  private halfClosed = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly session: StreamSession,
    private readonly readMaxBytes: number,
    onEarlyReset: (session: Http2Session | undefined) => void,
  ) {
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => {
      // node:http2 also ends the readable side on RST_STREAM, with rstCode already set.
      if (stream.rstCode === undefined) this.halfClosed = true;
      this.onEnd();
    });
    // Held now: a closed stream no longer knows its session.
    const connection = stream.session;
    // A reset or a dropped connection: the stream closes without the client's END_STREAM.
    // A reset before any message or END_STREAM is Rapid Reset's pattern, never Envoy's.
    stream.on("close", () => {
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR && !this.received && !this.halfClosed) {
        onEarlyReset(connection);
      }
      if (!this.finished) this.finish(new ConnectError("stream cancelled by the client", Code.Canceled));
    });
    stream.on("error", ignore);
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.buffer.length + this.pendingBytes + chunk.length < this.needed) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return;
    }
    if (this.pending.length > 0) {
      this.buffer = Buffer.concat([this.buffer, ...this.pending, chunk]);
      this.pending.length = 0;
      this.pendingBytes = 0;
    } else {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    }
    this.needed = 5;
    let buffer = this.buffer;
    while (buffer.length >= 5) {
      const compressed = buffer[0];
      const length = buffer.readUInt32BE(1);
      if (compressed !== 0) {
        // Any grpc-encoding but identity was refused at the start, so the flag claims a
        // compression the stream never declared: INTERNAL, as grpc-go and grpc-java answer.
        this.finish(new ConnectError("compressed flag set with identity or no grpc-encoding", Code.Internal));
        return;
      }
      if (length > this.readMaxBytes) {
        this.finish(
          new ConnectError(
            `message of ${length} bytes exceeds the ${this.readMaxBytes} byte limit`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      if (buffer.length < 5 + length) {
        this.needed = 5 + length;
        break;
      }
      let message: ProcessingRequest;
      try {
        message = decodeProcessingRequest(buffer.subarray(5, 5 + length));
      } catch (error) {
        this.finish(new ConnectError(`invalid ProcessingRequest: ${(error as Error).message}`, Code.InvalidArgument));
        return;
      }
      buffer = buffer.subarray(5 + length);
      this.received = true;
      this.queue.push(message);
    }
    this.buffer = buffer.length === 0 ? emptyBuffer : buffer;
    if (this.queue.length > maxQueuedMessages) this.stream.pause();
    if (!this.busy && this.queue.length > 0) void this.pump();
  }

  private onEnd(): void {
    this.clientEnded = true;
    if (this.buffer.length > 0 || this.pendingBytes > 0) {
      this.finish(new ConnectError("stream ended inside a message", Code.InvalidArgument));
      return;
    }
    if (!this.busy && this.queue.length === 0) this.finish(undefined);
  }

  /** Handles queued messages one at a time; ends the call once the client has and all are answered. */
  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.finished) {
        const message = this.queue.shift() as ProcessingRequest;
        if (this.queue.length === maxQueuedMessages && this.stream.isPaused()) this.stream.resume();
        const replies = await this.session.handle(message);
        for (const reply of replies) {
          if (this.finished || this.stream.closed) return;
          if (!this.write(reply)) await this.drained();
        }
      }
    } catch (error) {
      this.finish(error);
      return;
    } finally {
      this.busy = false;
    }
    if (this.clientEnded && this.queue.length === 0) this.finish(undefined);
  }

  /** Writes one length-prefixed message; false when the stream's buffer is full. */
  private write(reply: ProcessingResponse): boolean {
    const stream = this.stream;
    if (!this.headersSent) {
      this.headersSent = true;
      stream.respond(responseHeaders, { waitForTrailers: true });
    }
    // Framing in one buffer, a large body as a view of its own: no copy of the body here.
    const parts = encodeResponseFrame(reply);
    if (parts.length === 1) return stream.write(parts[0]);
    stream.cork();
    let ok = true;
    for (const part of parts) ok = stream.write(part);
    stream.uncork();
    return ok;
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off("drain", done);
        this.stream.off("close", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("close", done);
    });
  }

  /** Ends the call once: the session learns why, the client gets the status. */
  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.length = 0;
    const failure = this.session.close(error);
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    const trailers = failure ? statusTrailers(failure.code, failure.rawMessage) : okTrailers;
    if (!this.headersSent) {
      trailersOnly(stream, failure?.code ?? 0, failure?.rawMessage);
      return;
    }
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    stream.end();
  }
}

/** A gRPC "Trailers-Only" response: one HEADERS frame carrying the status and END_STREAM. */
function trailersOnly(stream: ServerHttp2Stream, code: number, message: string | undefined) {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ":status": 200, "content-type": "application/grpc+proto", ...statusTrailers(code, message) },
    { endStream: true },
  );
}

function statusTrailers(code: number, message: string | undefined): Record<string, string> {
  return message === undefined || code === 0
    ? okTrailers
    : { "grpc-status": String(code), "grpc-message": encodeURIComponent(message) };
}
