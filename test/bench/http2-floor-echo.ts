/**
 * The floor for the SDK benchmark: what answering ext_proc costs on `node:http2` in
 * JavaScript with nothing but gRPC framing. No protobuf library, no state machine: each
 * request message's first byte says what it is (headers or a body chunk), a headers message
 * gets a constant CONTINUE, and a body chunk is sent back as a FULL_DUPLEX streamed response
 * whose framing is written by hand around a view of the request's own body bytes. It assumes
 * the exact messages ext-proc-roundtrip.ts sends; it is a measuring stick, not a server.
 *
 *   node --import tsx test/bench/http2-floor-echo.ts --port N
 */
import { createServer, type ServerHttp2Stream } from "node:http2";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function readVarint(bytes: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++] as number;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return [value >>> 0, i];
    shift += 7;
  }
}

function frame(parts: Uint8Array[]): Uint8Array[] {
  let length = 0;
  for (const p of parts) length += p.length;
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(length, 1);
  return [prefix, ...parts];
}

/** `{requestHeaders: {response: {}}}` and `{requestBody: {}}` (BUFFERED: body unchanged). */
const headersReply = Buffer.concat(frame([Buffer.from([0x0a, 0x02, 0x0a, 0x00])]) as Buffer[]);
const bufferedBodyReply = Buffer.concat(frame([Buffer.from([0x1a, 0x02, 0x0a, 0x00])]) as Buffer[]);

/** A body chunk message (ProcessingRequest.request_body): its body view and end_of_stream. */
function bodyOf(message: Buffer): { body: Buffer; endOfStream: boolean } {
  const [, bodyMessageStart] = readVarint(message, 1); // after tag 0x22 and the HttpBody length
  let i = bodyMessageStart;
  let body: Buffer = Buffer.alloc(0);
  let endOfStream = false;
  while (i < message.length) {
    const tag = message[i++];
    if (tag === 0x0a) {
      const [length, start] = readVarint(message, i);
      body = message.subarray(start, start + length);
      i = start + length;
    } else {
      endOfStream = message[i++] === 1;
    }
  }
  return { body, endOfStream };
}

function streamedReply(body: Buffer, endOfStream: boolean): Uint8Array[] {
  const streamed = [0x0a, ...varint(body.length)];
  const tail = endOfStream ? [0x10, 0x01] : [];
  const streamedLength = streamed.length + body.length + tail.length;
  const mutation = [0x1a, ...varint(streamedLength)];
  const common = [0x1a, ...varint(mutation.length + streamedLength)];
  const bodyResponse = [0x0a, ...varint(common.length + mutation.length + streamedLength)];
  const head = [0x1a, ...varint(bodyResponse.length + common.length + mutation.length + streamedLength)];
  return frame([Buffer.from([...head, ...bodyResponse, ...common, ...mutation, ...streamed]), body, Buffer.from(tail)]);
}

function serve(stream: ServerHttp2Stream): void {
  let buffer: Buffer = Buffer.alloc(0);
  let duplex = false;
  stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
  stream.on("data", (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readUInt32BE(1);
      if (buffer.length < 5 + length) break;
      const message = buffer.subarray(5, 5 + length);
      buffer = buffer.subarray(5 + length);
      if (message[0] === 0x12) {
        // protocol_config (field 11) with request_body_mode FULL_DUPLEX_STREAMED (4)?
        duplex = message.includes(Buffer.from([0x5a, 0x02, 0x08, 0x04]));
        stream.write(headersReply);
      } else if (message[0] === 0x22) {
        if (!duplex) {
          stream.write(bufferedBodyReply);
          continue;
        }
        const { body, endOfStream } = bodyOf(message);
        stream.cork();
        for (const part of streamedReply(body, endOfStream)) stream.write(part);
        stream.uncork();
      }
    }
  });
  stream.on("end", () => {
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end();
  });
  stream.on("error", () => {});
}

const server = createServer({ settings: { maxConcurrentStreams: 100_000, initialWindowSize: 4 * 1024 * 1024 } });
server.on("stream", serve);
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
