/**
 * The peer for the SDK benchmark: the least an ext_proc echo can be on `@grpc/grpc-js`.
 * One bidi handler, protobuf-es for the messages (as the SDK), no state machine, no
 * metrics, no logging: every phase answered CONTINUE, a FULL_DUPLEX_STREAMED body chunk sent
 * back as a streamed response, a BUFFERED body left unchanged.
 *
 *   node --import tsx test/bench/bare-grpc-echo.ts --port N
 *
 * Prints `listening <port>` once bound. Started by ext-proc-roundtrip.ts; not run by
 * `pnpm bench` on its own (run.ts skips it).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ProcessingMode_BodySendMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
/** A Buffer over the encoded bytes, not a copy of them. */
const wrap = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function reply(message: ProcessingRequest, duplex: boolean): ProcessingResponse {
  const r = message.request;
  switch (r.case) {
    case "requestHeaders":
      return create(ProcessingResponseSchema, { response: { case: "requestHeaders", value: { response: {} } } });
    case "responseHeaders":
      return create(ProcessingResponseSchema, { response: { case: "responseHeaders", value: { response: {} } } });
    case "requestBody":
    case "responseBody": {
      const response = duplex
        ? {
            bodyMutation: {
              mutation: {
                case: "streamedResponse" as const,
                value: { body: r.value.body, endOfStream: r.value.endOfStream },
              },
            },
          }
        : {};
      return create(ProcessingResponseSchema, { response: { case: r.case, value: { response } } });
    }
    case "requestTrailers":
      return create(ProcessingResponseSchema, { response: { case: "requestTrailers", value: {} } });
    case "responseTrailers":
      return create(ProcessingResponseSchema, { response: { case: "responseTrailers", value: {} } });
    default:
      return create(ProcessingResponseSchema, {});
  }
}

const server = new grpc.Server({ "grpc.max_receive_message_length": -1 });
server.addService(
  {
    process: {
      path: "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      requestStream: true,
      responseStream: true,
      requestSerialize: (m: ProcessingRequest) => wrap(toBinary(ProcessingRequestSchema, m)),
      requestDeserialize: (b: Buffer) => fromBinary(ProcessingRequestSchema, b),
      responseSerialize: (m: ProcessingResponse) => wrap(toBinary(ProcessingResponseSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(ProcessingResponseSchema, b),
    },
  },
  {
    process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      let duplex = false;
      call.on("data", (message: ProcessingRequest) => {
        if (message.protocolConfig?.requestBodyMode === ProcessingMode_BodySendMode.FULL_DUPLEX_STREAMED) duplex = true;
        call.write(reply(message, duplex));
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  },
);
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
  if (error) throw error;
  process.stdout.write(`listening ${bound}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
