import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { afterEach, describe, expect, it } from "vitest";
import { createEnvoyClient } from "./envoy-client.js";

/**
 * The client against deliberately wrong servers: each case is a rule Envoy enforces.
 * The server is a bare grpc-js handler answering each message with `answer(message)`.
 */
type Answer = (request: ProcessingRequest) => ProcessingResponse[];

let server: grpc.Server | undefined;
afterEach(() => server?.forceShutdown());

async function serve(answer: Answer): Promise<string> {
  server = new grpc.Server();
  server.register(
    "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
    (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      call.on("data", (request: ProcessingRequest) => {
        for (const reply of answer(request)) call.write(reply);
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
    (m: ProcessingResponse) => Buffer.from(toBinary(ProcessingResponseSchema, m)),
    (b: Buffer) => fromBinary(ProcessingRequestSchema, b),
    "bidi",
  );
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return `127.0.0.1:${port}`;
}

const reply = (init: Parameters<typeof create<typeof ProcessingResponseSchema>>[1]) =>
  create(ProcessingResponseSchema, init);
const headersOk = reply({ response: { case: "requestHeaders", value: {} } });

describe("createEnvoyClient() against wrong servers", () => {
  it("rejects a BUFFERED body change whose content-length stayed stale with a local 500", async () => {
    const target = await serve((r) =>
      r.request.case === "requestHeaders"
        ? [headersOk]
        : [
            reply({
              response: {
                case: "requestBody",
                value: { response: { bodyMutation: { mutation: { case: "body", value: new Uint8Array(10) } } } },
              },
            }),
          ],
    );
    const client = createEnvoyClient(target);
    const result = await client.exchange(
      { processingMode: { requestBodyMode: "BUFFERED" } },
      { request: { headers: {}, body: ["abc"] } },
    );
    client.close();
    expect(result.error?.kind).toBe("content-length");
    expect(result.downstream.status).toBe(500);
    expect(result.upstream).toBeUndefined();
  });

  it("treats a reply of the wrong type as a spurious message (500, or through with failure_mode_allow)", async () => {
    const target = await serve(() => [reply({ response: { case: "responseHeaders", value: {} } })]);
    const client = createEnvoyClient(target);
    const closed = await client.exchange({}, { request: { headers: {} } });
    const open = await client.exchange({ failureModeAllow: true }, { request: { headers: {} } });
    client.close();
    expect(closed.error?.kind).toBe("spurious");
    expect(closed.downstream.status).toBe(500);
    expect(open.error).toMatchObject({ kind: "spurious", failedOpen: true });
    expect(open.downstream.status).toBe(200);
  });

  it("refuses a BUFFERED-style body reply to a FULL_DUPLEX_STREAMED filter", async () => {
    const target = await serve((r) =>
      r.request.case === "requestHeaders" ? [headersOk] : [reply({ response: { case: "requestBody", value: {} } })],
    );
    const client = createEnvoyClient(target);
    const result = await client.exchange(
      { processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", requestTrailerMode: "SEND" } },
      { request: { headers: {}, body: ["abc"] } },
    );
    client.close();
    expect(result.error?.kind).toBe("spurious");
    expect(result.downstream.status).toBe(500);
  });

  it("reads only raw_value (value alone sets an empty header, both set is fine) and only `append`", async () => {
    // MutationUtils::applyHeaderMutations reads sh.header().raw_value() and the deprecated
    // `append` BoolValue; append_action is never read.
    const setHeaders = (value: string, rawValue: string, append: boolean | undefined, appendAction: number) => ({
      header: { key: "x-h", value, rawValue: Buffer.from(rawValue) },
      append,
      appendAction,
    });
    let mode: "both" | "value-only" | "append-action-only" = "both";
    const target = await serve(() => [
      reply({
        response: {
          case: "requestHeaders",
          value: {
            response: {
              headerMutation: {
                setHeaders: [
                  mode === "both"
                    ? setHeaders("v", "raw", false, 2)
                    : mode === "value-only"
                      ? setHeaders("v", "", false, 0)
                      : // APPEND_IF_EXISTS_OR_ADD (0) without `append`: Envoy overwrites anyway.
                        setHeaders("", "new", undefined, 0),
                ],
              },
            },
          },
        },
      }),
    ]);
    const client = createEnvoyClient(target);
    const requestOnly = { processingMode: { responseHeaderMode: "SKIP" } } as const;
    const both = await client.exchange(requestOnly, { request: { headers: { "x-h": "old" } } });
    mode = "value-only";
    const valueOnly = await client.exchange(requestOnly, { request: { headers: { "x-h": "old" } } });
    mode = "append-action-only";
    const appendAction = await client.exchange(requestOnly, { request: { headers: { "x-h": "old" } } });
    client.close();
    expect(both.error).toBeUndefined();
    expect(both.upstream!.headers.filter(([n]) => n === "x-h")).toEqual([["x-h", "raw"]]);
    expect(valueOnly.upstream!.headers.filter(([n]) => n === "x-h")).toEqual([["x-h", ""]]);
    expect(appendAction.upstream!.headers.filter(([n]) => n === "x-h")).toEqual([["x-h", "new"]]);
  });

  it("counts a refused host mutation, or fails with disallow_is_error", async () => {
    const target = await serve(() => [
      reply({
        response: {
          case: "requestHeaders",
          value: {
            response: { headerMutation: { setHeaders: [{ header: { key: "host", rawValue: Buffer.from("evil") } }] } },
          },
        },
      }),
    ]);
    const client = createEnvoyClient(target);
    const counted = await client.exchange({}, { request: { headers: { host: "good" } } });
    const failed = await client.exchange({ disallowIsError: true }, { request: { headers: { host: "good" } } });
    client.close();
    expect(counted.rejectedHeaderMutations).toBe(1);
    expect(counted.upstream!.headers).toContainEqual(["host", "good"]);
    expect(failed.error?.kind).toBe("mutation");
  });

  it("drops metadata outside receiving_namespaces", async () => {
    const target = await serve(() => [
      reply({
        response: { case: "requestHeaders", value: {} },
        dynamicMetadata: { kept: { a: 1 }, dropped: { b: 2 } },
      }),
    ]);
    const client = createEnvoyClient(target);
    const result = await client.exchange({ receivingNamespaces: ["kept"] }, { request: { headers: {} } });
    client.close();
    expect(result.dynamicMetadata).toEqual({ kept: { a: 1 } });
  });

  it("fails a reply over GCP's 128 KiB cap in STREAMED mode", async () => {
    const big = new Uint8Array(140 * 1024);
    const target = await serve((r) =>
      r.request.case === "requestHeaders"
        ? [headersOk]
        : [
            reply({
              response: {
                case: "requestBody",
                value: { response: { bodyMutation: { mutation: { case: "body", value: big } } } },
              },
            }),
          ],
    );
    const client = createEnvoyClient(target);
    const result = await client.exchange(
      { processingMode: { requestBodyMode: "STREAMED" } },
      { request: { headers: {}, body: ["abc"] } },
    );
    client.close();
    expect(result.error?.kind).toBe("grpc");
    expect(result.error?.message).toMatch(/exceeds/);
  });
});
