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

type Call = grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

async function serve(answer: Answer): Promise<string> {
  return serveCalls((call) =>
    call.on("data", (request: ProcessingRequest) => {
      for (const reply of answer(request)) call.write(reply);
    }),
  );
}

/** A bare grpc-js server whose `onCall` handles each stream (end and errors are handled here). */
async function serveCalls(onCall: (call: Call) => void): Promise<string> {
  server = new grpc.Server();
  server.register(
    "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
    (call: Call) => {
      onCall(call);
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
    // validateContentLength's error goes to handleErrorResponse: status_on_error, never fail-open.
    const open = createEnvoyClient(target);
    const allowed = await open.exchange(
      { processingMode: { requestBodyMode: "BUFFERED" }, failureModeAllow: true, statusOnError: 503 },
      { request: { headers: {}, body: ["abc"] } },
    );
    open.close();
    expect(allowed.error).toMatchObject({ kind: "content-length", failedOpen: false });
    expect(allowed.downstream.status).toBe(503);
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

  it("lower-cases set names, rejects appending to or removing a `:`-header (Checker::isAllowed)", async () => {
    const target = await serve(() => [
      reply({
        response: {
          case: "requestHeaders",
          value: {
            response: {
              headerMutation: {
                setHeaders: [
                  { header: { key: "X-Upper", rawValue: Buffer.from("1") } },
                  { header: { key: ":path", rawValue: Buffer.from("/again") }, append: true },
                ],
                removeHeaders: [":path", "host"],
              },
            },
          },
        },
      }),
    ]);
    const client = createEnvoyClient(target);
    const result = await client.exchange(
      { processingMode: { responseHeaderMode: "SKIP" } },
      { request: { headers: { ":path": "/v1", host: "h" } } },
    );
    client.close();
    expect(result.error).toBeUndefined();
    expect(result.rejectedHeaderMutations).toBe(3);
    const headers = result.upstream!.headers;
    expect(headers).toContainEqual(["x-upper", "1"]);
    expect(headers.filter(([n]) => n === ":path")).toEqual([[":path", "/v1"]]);
    expect(headers).toContainEqual(["host", "h"]);
  });

  it("ignores a bare clear_route_cache (no header mutation) and counts it", async () => {
    let withMutation = false;
    const target = await serve(() => [
      reply({
        response: {
          case: "requestHeaders",
          value: { response: { clearRouteCache: true, headerMutation: withMutation ? {} : undefined } },
        },
      }),
    ]);
    const client = createEnvoyClient(target);
    const requestOnly = { processingMode: { responseHeaderMode: "SKIP" } } as const;
    const bare = await client.exchange(requestOnly, { request: { headers: {} } });
    withMutation = true;
    const paired = await client.exchange(requestOnly, { request: { headers: {} } });
    client.close();
    expect(bare.routeCacheCleared).toBe(false);
    expect(bare.clearRouteCacheIgnored).toBe(1);
    expect(paired.routeCacheCleared).toBe(true);
  });

  it("cannot fail open once a FULL_DUPLEX_STREAMED body was received (Filter::failureModeAllow)", async () => {
    const target = await serve(() => [reply({ response: { case: "responseHeaders", value: {} } })]);
    const client = createEnvoyClient(target);
    const config = {
      processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", responseHeaderMode: "SKIP" },
      failureModeAllow: true,
    } as const;
    const bodiless = await client.exchange(config, { request: { headers: {} } });
    const withBody = await client.exchange(config, { request: { headers: {}, body: ["a"] } });
    client.close();
    // A wrong reply type is spurious: failure_mode_allow continues without the server...
    expect(bodiless.error).toMatchObject({ kind: "spurious", failedOpen: true });
    expect(bodiless.upstream).toBeDefined();
    // ...unless a duplex body already went out: then it is a local reply.
    expect(withBody.error).toMatchObject({ kind: "spurious", failedOpen: false });
    expect(withBody.downstream.status).toBe(500);
  });

  it("CONTINUE_AND_REPLACE in duplex replaces the body and drops the direction to NONE", async () => {
    const target = await serve((r) =>
      r.request.case === "requestHeaders"
        ? [
            reply({
              response: {
                case: "requestHeaders",
                value: {
                  response: {
                    status: 1, // CONTINUE_AND_REPLACE
                    bodyMutation: { mutation: { case: "body", value: Buffer.from("replaced") } },
                  },
                },
              },
            }),
          ]
        : [],
    );
    const client = createEnvoyClient(target);
    const result = await client.exchange(
      { processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", responseHeaderMode: "SKIP" } },
      { request: { headers: { "content-length": "6" }, body: ["abc", "def"] } },
    );
    client.close();
    expect(result.error).toBeUndefined();
    expect(Buffer.from(result.upstream!.body).toString()).toBe("replaced");
    expect(result.upstream!.headers.some(([n]) => n === "content-length")).toBe(false);
  });

  it("override_message_timeout restarts the timer within max_message_timeout (Filter::onNewTimeout)", async () => {
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let extendTo = 0;
    const target = await serveCalls((call) =>
      call.on("data", async () => {
        await later(50);
        call.write(reply({ overrideMessageTimeout: { seconds: 0n, nanos: extendTo * 1e6 } }));
        await later(100);
        call.write(headersOk);
      }),
    );
    const client = createEnvoyClient(target);
    const config = { processingMode: { responseHeaderMode: "SKIP" }, messageTimeoutMs: 80 } as const;
    extendTo = 500;
    const extended = await client.exchange({ ...config, maxMessageTimeoutMs: 1000 }, { request: { headers: {} } });
    const overMax = await client.exchange({ ...config, maxMessageTimeoutMs: 200 }, { request: { headers: {} } });
    client.close();
    expect(extended.error).toBeUndefined();
    expect(extended.messageTimeoutOverrides).toEqual({ applied: 1, ignored: 0 });
    expect(overMax.messageTimeoutOverrides).toEqual({ applied: 0, ignored: 1 });
    expect(overMax.error?.kind).toBe("timeout");
  });

  it("sends an immediate response despite a bad header and an informational status (Filter::sendImmediateResponse)", async () => {
    const target = await serve(() => [
      reply({
        response: {
          case: "immediateResponse",
          value: {
            status: { code: 101 as never },
            body: Buffer.from("denied"),
            headers: {
              setHeaders: [
                { header: { key: "x-first", rawValue: Buffer.from("1") } },
                { header: { key: "x-bad", rawValue: Buffer.from("a\r\nb") } },
              ],
            },
          },
        },
      }),
    ]);
    const client = createEnvoyClient(target);
    const result = await client.exchange({}, { request: { headers: {} } });
    client.close();
    expect(result.downstream.status).toBe(200);
    expect(Buffer.from(result.downstream.body).toString()).toBe("denied");
    expect(result.downstream.headers).toContainEqual(["x-first", "1"]);
    expect(result.downstream.headers.some(([n]) => n === "x-bad")).toBe(false);
  });
});
