import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import type { StreamRunner } from "./ext-proc-handler.js";

/** The one method this handler serves. */
export const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

/**
 * A lean gRPC (HTTP/2) handler for ExternalProcessor.Process. gRPC framing for one bidi
 * method is small (a 1-byte flag and a 4-byte length per message, status in trailers), and
 * connect's per-call machinery was most of the server's CPU per round trip (see the README
 * benchmark); everything else on the server still goes through connect-node.
 */
export function createProcessHandler(run: StreamRunner, readMaxBytes: number) {
  return (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    const contentType = req.headers["content-type"] ?? "";
    if (
      req.method !== "POST" ||
      !contentType.startsWith("application/grpc") ||
      contentType.startsWith("application/grpc-web")
    ) {
      res.writeHead(415, { "content-type": "text/plain" });
      res.end("expected application/grpc\n");
      return;
    }
    const encoding = req.headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      trailersOnly(res, Code.Unimplemented, `grpc-encoding ${encoding} is not supported`);
      return;
    }
    void serve(run, readMaxBytes, req, res);
  };
}

async function serve(run: StreamRunner, readMaxBytes: number, req: Http2ServerRequest, res: Http2ServerResponse) {
  let headersSent = false;
  const sendHeaders = () => {
    if (headersSent) return;
    headersSent = true;
    res.writeHead(200, { "content-type": "application/grpc+proto", "grpc-accept-encoding": "identity" });
  };
  try {
    for await (const reply of run(readMessages(req, readMaxBytes))) {
      // A reset stream (the client went away mid-call) is closed before it is destroyed: its
      // 'close' has already fired, so waiting for 'drain' or 'close' below would never end.
      if (res.destroyed || res.stream.closed) break;
      sendHeaders();
      if (!writeMessage(res, toBinary(ProcessingResponseSchema, reply)) && !res.stream.closed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    finish(res, headersSent, 0, undefined);
  } catch (error) {
    const e = ConnectError.from(error);
    finish(res, headersSent, e.code, e.rawMessage);
  }
}

/** Ends the call: trailers after messages, or a trailers-only response. */
function finish(res: Http2ServerResponse, headersSent: boolean, code: number, message: string | undefined) {
  if (res.destroyed || res.writableEnded) return;
  if (!headersSent) {
    trailersOnly(res, code, message);
    return;
  }
  res.addTrailers(statusTrailers(code, message));
  res.end();
}

/** A gRPC "Trailers-Only" response: one HEADERS frame carrying the status and END_STREAM. */
function trailersOnly(res: Http2ServerResponse, code: number, message: string | undefined) {
  const stream = res.stream;
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ":status": 200, "content-type": "application/grpc+proto", ...statusTrailers(code, message) },
    { endStream: true },
  );
}

function statusTrailers(code: number, message: string | undefined): Record<string, string> {
  return message === undefined || code === 0
    ? { "grpc-status": "0" }
    : { "grpc-status": String(code), "grpc-message": encodeURIComponent(message) };
}

/**
 * Writes one length-prefixed message. Large ones go out as prefix + payload (two writes into the
 * same HTTP/2 stream) instead of being copied behind the prefix; small ones as one buffer, where
 * a second write would cost more than the copy.
 */
function writeMessage(res: Http2ServerResponse, message: Uint8Array): boolean {
  if (message.length < 16 * 1024) return res.write(frame(message));
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(message.length, 1);
  res.write(prefix);
  return res.write(message);
}

/** gRPC length-prefixed message framing. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Parses length-prefixed messages from the request body as they arrive. */
async function* readMessages(req: Http2ServerRequest, readMaxBytes: number): AsyncGenerator<ProcessingRequest> {
  let buffer: Buffer = Buffer.alloc(0);
  // DATA frames of a large message are collected and joined once it is complete, not on every
  // frame (joining on every frame copied a 64 KB message about 2.5 times over).
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let needed = 5;
  let clientEnded = false;
  req.once("end", () => {
    clientEnded = true;
  });
  const chunks = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch {
      // ERR_STREAM_PREMATURE_CLOSE and friends: the client reset the stream.
      throw new ConnectError("stream cancelled by the client", Code.Canceled);
    }
    if (next.done) break;
    const chunk = next.value;
    if (buffer.length + pendingBytes + chunk.length < needed) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      continue;
    }
    if (pending.length > 0) {
      buffer = Buffer.concat([buffer, ...pending, chunk]);
      pending.length = 0;
      pendingBytes = 0;
    } else {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    }
    needed = 5;
    while (buffer.length >= 5) {
      const compressed = buffer[0]!;
      const length = buffer.readUInt32BE(1);
      if (compressed !== 0) throw new ConnectError("compressed messages are not supported", Code.Unimplemented);
      if (length > readMaxBytes) {
        throw new ConnectError(
          `message of ${length} bytes exceeds the ${readMaxBytes} byte limit`,
          Code.ResourceExhausted,
        );
      }
      if (buffer.length < 5 + length) {
        needed = 5 + length;
        break;
      }
      const bytes = buffer.subarray(5, 5 + length);
      buffer = buffer.subarray(5 + length);
      let message: ProcessingRequest;
      try {
        message = fromBinary(ProcessingRequestSchema, bytes);
      } catch (error) {
        throw new ConnectError(`invalid ProcessingRequest: ${(error as Error).message}`, Code.InvalidArgument);
      }
      yield message;
    }
  }
  if (buffer.length > 0 || pendingBytes > 0) {
    throw new ConnectError("stream ended inside a message", Code.InvalidArgument);
  }
  // The client reset the stream instead of half-closing it: an abort, not a clean end.
  if (!clientEnded || req.aborted) throw new ConnectError("stream cancelled by the client", Code.Canceled);
}
