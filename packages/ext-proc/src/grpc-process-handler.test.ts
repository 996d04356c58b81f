import { connect } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ProcessingMode_BodySendMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  ProcessingRequestSchema,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningService, startService } from "./server.js";
import { createTestRuntime } from "./testing/runtime.js";

/** Raw HTTP/2 requests against the lean Process handler, for the framing edge cases. */
describe("createProcessStreamHandler()", () => {
  let server: RunningService;
  beforeAll(async () => {
    const runtime = createTestRuntime();
    server = await startService(
      { name: "t", processor: () => ({}) },
      { host: "127.0.0.1", port: 0, adminPort: null, log: runtime.log, maxBufferedBodyBytes: 1024 },
    );
  });
  afterAll(() => server.shutdown());

  /** One call; `later` goes out (and the request ends) once the first reply bytes are back. */
  function call(
    headers: Record<string, string>,
    body: Buffer,
    later?: Buffer,
  ): Promise<{ status: number; grpc: Record<string, unknown>; data: Buffer }> {
    return new Promise((resolve, reject) => {
      const session = connect(`http://127.0.0.1:${server.port}`);
      const req = session.request({
        ":method": "POST",
        ":path": "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
        "content-type": "application/grpc",
        te: "trailers",
        ...headers,
      });
      let status = 0;
      let grpc: Record<string, unknown> = {};
      req.on("response", (h) => {
        status = Number(h[":status"]);
        if (h["grpc-status"] !== undefined) grpc = h;
      });
      req.on("trailers", (t) => {
        grpc = t;
      });
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => {
        if (later && chunks.length === 0) req.end(later);
        chunks.push(chunk);
      });
      req.on("error", reject);
      req.on("close", () => {
        session.close();
        resolve({ status, grpc, data: Buffer.concat(chunks) });
      });
      if (later) req.write(body);
      else req.end(body);
    });
  }

  const framed = (flag: number, payload: Buffer) => {
    const head = Buffer.alloc(5);
    head[0] = flag;
    head.writeUInt32BE(payload.length, 1);
    return Buffer.concat([head, payload]);
  };

  it("refuses a non-gRPC content type with 415", async () => {
    expect((await call({ "content-type": "application/json" }, Buffer.alloc(0))).status).toBe(415);
  });

  it("answers an unsupported grpc-encoding with UNIMPLEMENTED", async () => {
    const { grpc } = await call({ "grpc-encoding": "gzip" }, Buffer.alloc(0));
    expect(grpc["grpc-status"]).toBe("12");
  });

  it("answers a compressed flag without a grpc-encoding with INTERNAL (as grpc-go and grpc-java)", async () => {
    const { grpc } = await call({}, framed(1, Buffer.from([0x12, 0x00])));
    expect(grpc["grpc-status"]).toBe("13");
    expect(decodeURIComponent(String(grpc["grpc-message"]))).toMatch(/compressed flag/);
  });

  it("answers a message over the size limit with RESOURCE_EXHAUSTED", async () => {
    const { grpc } = await call({}, framed(0, Buffer.alloc(1024 * 1024 + 2048)));
    expect(grpc["grpc-status"]).toBe("8");
  });

  it("answers a truncated message with INVALID_ARGUMENT", async () => {
    const { grpc } = await call({}, framed(0, Buffer.from([0x12, 0x00])).subarray(0, 6));
    expect(grpc["grpc-status"]).toBe("3");
    expect(decodeURIComponent(String(grpc["grpc-message"]))).toMatch(/inside a message/);
  });

  it("answers 400 messages in order when 200 arrive at once (the queue pauses, then resumes the stream)", async () => {
    const messages = [
      create(ProcessingRequestSchema, {
        request: { case: "requestHeaders", value: { headers: { headers: [] } } },
        protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.STREAMED },
      }),
      ...Array.from({ length: 399 }, (_, i) =>
        create(ProcessingRequestSchema, {
          request: { case: "requestBody", value: { body: new Uint8Array([i % 256]), endOfStream: i === 398 } },
        }),
      ),
    ];
    const wire = messages.map((m) => framed(0, Buffer.from(toBinary(ProcessingRequestSchema, m))));
    const { grpc, data } = await call({}, Buffer.concat(wire.slice(0, 200)), Buffer.concat(wire.slice(200)));
    expect(grpc["grpc-status"]).toBe("0");
    const cases: string[] = [];
    for (let at = 0; at < data.length; ) {
      const length = data.readUInt32BE(at + 1);
      cases.push(String(fromBinary(ProcessingResponseSchema, data.subarray(at + 5, at + 5 + length)).response.case));
      at += 5 + length;
    }
    expect(cases).toEqual(["requestHeaders", ...Array.from({ length: 399 }, () => "requestBody")]);
  });

  it("answers an undecodable message with INVALID_ARGUMENT", async () => {
    const { grpc } = await call({}, framed(0, Buffer.from([0x12, 0x05, 0x0a])));
    expect(grpc["grpc-status"]).toBe("3");
    expect(decodeURIComponent(String(grpc["grpc-message"]))).toMatch(/invalid ProcessingRequest/);
  });

  it("ends a clean empty stream with OK", async () => {
    const { grpc } = await call({}, Buffer.alloc(0));
    expect(grpc["grpc-status"]).toBe("0");
  });
});
