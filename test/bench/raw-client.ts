/**
 * A lean ext_proc client for latency benchmarks: pre-encoded messages on a grpc-js bidi
 * stream, timing until the last expected reply. It leaves out the Envoy-faithful client's
 * bookkeeping, which Envoy (C++) does not add to a request.
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

export const encodeRequest = (m: ProcessingRequest) => Buffer.from(toBinary(ProcessingRequestSchema, m));
export const decodeResponse = (b: Buffer) => fromBinary(ProcessingResponseSchema, b);

export function createRawClient(target: string): grpc.Client {
  return new grpc.Client(target, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": -1 });
}

/** Headers (+ optional BUFFERED body) of one request, pre-encoded. */
export function bufferedRequest(headers: Record<string, string>, body?: Uint8Array): Buffer[] {
  const headerMap = { headers: Object.entries(headers).map(([key, value]) => ({ key, rawValue: Buffer.from(value) })) };
  const messages = [
    encodeRequest(
      create(ProcessingRequestSchema, {
        request: { case: "requestHeaders", value: { headers: headerMap, endOfStream: body === undefined } },
        protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.BUFFERED },
      }),
    ),
  ];
  if (body) {
    messages.push(
      encodeRequest(
        create(ProcessingRequestSchema, { request: { case: "requestBody", value: { body, endOfStream: true } } }),
      ),
    );
  }
  return messages;
}

/** One stream: writes `messages`, resolves with the elapsed ms at the `expected`-th reply (or an immediate response). */
export function roundTrip(
  client: grpc.Client,
  messages: readonly Buffer[],
  isLast: (reply: ProcessingResponse, count: number) => boolean = (r, n) =>
    n === messages.length || r.response.case === "immediateResponse",
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const call = client.makeBidiStreamRequest(
      "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      (b: Buffer) => b,
      decodeResponse,
    );
    let count = 0;
    call.on("data", (reply: ProcessingResponse) => {
      count++;
      if (isLast(reply, count)) {
        call.end();
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      }
    });
    call.on("error", reject);
    for (const m of messages) call.write(m);
  });
}
