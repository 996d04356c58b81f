import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { Phase, Processor, Service } from "@llm-callouts/ext-proc";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEcho, startWith, text } from "./harness.js";

const allPhases: Phase[] = [
  "requestHeaders",
  "requestBody",
  "requestTrailers",
  "responseHeaders",
  "responseBody",
  "responseTrailers",
];

/** A filter that sends every phase to the server. */
const everything = {
  processingMode: {
    requestHeaderMode: "SEND",
    responseHeaderMode: "SEND",
    requestBodyMode: "BUFFERED",
    responseBodyMode: "BUFFERED",
    requestTrailerMode: "SEND",
    responseTrailerMode: "SEND",
  },
  messageTimeoutMs: 2000,
} as const;

const exchangeWithTrailers = {
  request: { headers: { ":path": "/v1/x" }, body: ["{}"], trailers: { "x-req-trailer": "1" } },
  upstream: { headers: { ":status": "200" }, body: ["ok"], trailers: { "x-resp-trailer": "1" } },
};

describe("immediate response", () => {
  it.each(allPhases)("ends the exchange from %s", async (phase) => {
    const echo = await startEcho({ respond: { phase, status: 403, body: "denied", headers: { "x-reason": phase } } });
    try {
      const result = await echo.client.exchange(everything, exchangeWithTrailers);
      expect(result.error).toBeUndefined();
      expect(result.immediateResponse).toEqual({ status: 403, details: "echo_respond" });
      if (phase === "responseTrailers") {
        // Headers and body already went downstream: Envoy can only reset the stream.
        expect(result.downstream.reset).toBe(true);
        return;
      }
      expect(result.downstream.status).toBe(403);
      expect(text(result.downstream.body)).toBe("denied");
      expect(result.downstream.headers).toContainEqual(["x-reason", phase]);
      // Request-path replies never reach the upstream.
      expect(result.upstream === undefined).toBe(phase.startsWith("request"));
    } finally {
      await echo.close();
    }
  });
});

describe("mode override", () => {
  let echo: EchoServer;
  beforeAll(async () => {
    echo = await startEcho({ responseBodyOverride: "BUFFERED", replaceBody: { response: "rewritten" } });
  });
  afterAll(() => echo.close());

  it("switches the response body to BUFFERED when the filter allows it", async () => {
    const result = await echo.client.exchange(
      { allowModeOverride: true },
      { request: { headers: {} }, upstream: { headers: { ":status": "200" }, body: ["original"] } },
    );
    expect(result.error).toBeUndefined();
    expect(text(result.downstream.body)).toBe("rewritten");
  });

  it("is ignored when the filter does not allow it", async () => {
    const result = await echo.client.exchange(
      { allowModeOverride: false },
      { request: { headers: {} }, upstream: { headers: { ":status": "200" }, body: ["original"] } },
    );
    expect(result.error).toBeUndefined();
    expect(text(result.downstream.body)).toBe("original");
  });
});

describe("observability mode", () => {
  it("sends no replies and changes nothing", async () => {
    const echo = await startEcho({ addHeaders: [{ phase: "requestHeaders", name: "x-added", value: "1" }] });
    try {
      const result = await echo.client.exchange(
        { ...everything, observabilityMode: true },
        { ...exchangeWithTrailers, trace: true },
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(result.error).toBeUndefined();
      expect(result.trace.filter((t) => t.dir === "received")).toEqual([]);
      // Filter::sendDataInObservabilityMode sends bodies only in STREAMED: with BUFFERED bodies
      // Envoy sends headers and trailers of both directions, no body.
      expect(result.trace.filter((t) => t.dir === "sent").map((t) => t.kind)).toEqual([
        "requestHeaders",
        "requestTrailers",
        "responseHeaders",
        "responseTrailers",
      ]);
      expect(result.upstream!.headers.some(([n]) => n === "x-added")).toBe(false);
    } finally {
      await echo.close();
    }
  });

  it("sends STREAMED bodies without protocol_config; the SDK never takes a chunk for the whole body", async () => {
    // A processor that wants whole bodies. Envoy sends no protocol_config in observability mode
    // (Filter::encodeProtocolConfig): the SDK must not assume BUFFERED, or each chunk would be
    // taken for the whole body. Replies are dropped, so the processor's calls are recorded.
    const seen: string[] = [];
    const service: Service = {
      name: "observer",
      processor: (): Processor => ({
        onRequestBody: ({ body }) => {
          seen.push(text(body));
          return {};
        },
      }),
    };
    const s = await startWith(service);
    try {
      const streamed = { ...everything.processingMode, requestBodyMode: "STREAMED", responseBodyMode: "NONE" } as const;
      const result = await s.client.exchange(
        { ...everything, processingMode: streamed, observabilityMode: true },
        { request: { headers: { ":path": "/x" }, body: ["ab", "cd", "ef"] }, trace: true },
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(result.error).toBeUndefined();
      const sent = result.trace.filter((t) => t.dir === "sent");
      expect(sent.some((t) => JSON.stringify(t.message).includes("protocolConfig"))).toBe(false);
      expect(sent.filter((t) => t.kind === "requestBody").length).toBe(3);
      expect(seen).toEqual(["abcdef"]);
    } finally {
      await s.close();
    }
  });
});

describe("processor failures", () => {
  it.each(allPhases)("fail-closed answers 503 from %s", async (phase) => {
    const echo = await startEcho({ failIn: phase }, { failure: { mode: "closed", status: 503 } });
    try {
      const result = await echo.client.exchange(everything, exchangeWithTrailers);
      expect(result.error).toBeUndefined();
      if (phase === "responseTrailers") {
        expect(result.downstream.reset).toBe(true);
        return;
      }
      expect(result.downstream.status).toBe(503);
      expect(JSON.parse(text(result.downstream.body))).toMatchObject({ error: { code: "callout_failure" } });
    } finally {
      await echo.close();
    }
  });

  it.each(allPhases)("fail-open continues unmodified from %s", async (phase) => {
    const echo = await startEcho(
      { failIn: phase, replaceBody: { request: "changed", response: "changed" } },
      { failure: { mode: "open" } },
    );
    try {
      const result = await echo.client.exchange(everything, exchangeWithTrailers);
      expect(result.error).toBeUndefined();
      expect(result.downstream.status).toBe(200);
      expect(text(result.upstream!.body)).toBe(phase === "requestBody" ? "{}" : "changed");
    } finally {
      await echo.close();
    }
  });

  it("a processor slower than processorTimeoutMs follows the failure policy", async () => {
    const echo = await startEcho(
      { delayMs: 300 },
      { processorTimeoutMs: 50, failure: { mode: "closed", status: 502 } },
    );
    try {
      const result = await echo.client.exchange({ messageTimeoutMs: 1000 }, { request: { headers: {} } });
      expect(result.downstream.status).toBe(502);
    } finally {
      await echo.close();
    }
  });

  it("Envoy's message timeout gives 504 (or continues with failure_mode_allow)", async () => {
    const echo = await startEcho({ delayMs: 400 });
    try {
      const closed = await echo.client.exchange({ messageTimeoutMs: 100 }, { request: { headers: {} } });
      expect(closed.error?.kind).toBe("timeout");
      expect(closed.downstream.status).toBe(504);
      const open = await echo.client.exchange(
        { messageTimeoutMs: 100, failureModeAllow: true },
        { request: { headers: {} } },
      );
      expect(open.error).toMatchObject({ kind: "timeout", failedOpen: true });
      expect(open.downstream.status).toBe(200);
    } finally {
      await echo.close();
    }
  });
});

describe("header rules", () => {
  it("refuses protected headers, overwrites client copies and counts nothing rejected", async () => {
    const service: Service = {
      name: "rules",
      processor: (): Processor => ({
        onRequestHeaders: () => ({
          headers: { set: { host: "evil", "x-envoy-original-path": "/x", "x-model": "m1" }, remove: [":method"] },
        }),
      }),
    };
    const s = await startWith(service);
    try {
      const result = await s.client.exchange({}, { request: { headers: { "x-model": "spoofed", host: "h" } } });
      expect(result.error).toBeUndefined();
      const headers = result.upstream!.headers;
      expect(headers.filter(([n]) => n === "x-model")).toEqual([["x-model", "m1"]]);
      expect(headers).toContainEqual(["host", "h"]);
      // The SDK never sends them, so Envoy has nothing to reject.
      expect(result.rejectedHeaderMutations).toBe(0);
      expect(headers.some(([n]) => n === "x-envoy-original-path")).toBe(false);
    } finally {
      await s.close();
    }
  });
});

describe("malformed and out-of-order streams", () => {
  let echo: EchoServer;
  let raw: grpc.Client;
  beforeAll(async () => {
    echo = await startEcho();
    raw = new grpc.Client(`127.0.0.1:${echo.server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    raw.close();
    await echo.close();
  });

  const openRaw = (serialize: (m: unknown) => Buffer) =>
    raw.makeBidiStreamRequest("/envoy.service.ext_proc.v3.ExternalProcessor/Process", serialize, (b: Buffer) => b);
  const statusOf = (call: grpc.ClientDuplexStream<unknown, Buffer>) =>
    new Promise<grpc.StatusObject>((resolve) => {
      call.on("data", () => {});
      call.on("error", () => {});
      call.on("status", resolve);
    });

  it("ends a stream of bytes that are not a ProcessingRequest with a gRPC error, then keeps serving", async () => {
    const call = openRaw((m) => m as Buffer);
    const status = statusOf(call);
    call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    call.end();
    expect((await status).code).not.toBe(grpc.status.OK);
    const after = await echo.client.exchange({}, { request: { headers: {} } });
    expect(after.downstream.status).toBe(200);
  });

  it("ends an out-of-order stream with InvalidArgument, then keeps serving", async () => {
    const call = openRaw((m) => Buffer.from(toBinary(ProcessingRequestSchema, m as ProcessingRequest)));
    const status = statusOf(call);
    call.write(create(ProcessingRequestSchema, { request: { case: "responseHeaders", value: {} } }));
    call.write(create(ProcessingRequestSchema, { request: { case: "requestHeaders", value: {} } }));
    call.end();
    const s = await status;
    expect(s.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(s.details).toMatch(/request headers received after the response started/);
    const after = await echo.client.exchange({}, { request: { headers: {} } });
    expect(after.downstream.status).toBe(200);
  });

  it("ends a message with no request field with InvalidArgument", async () => {
    const call = openRaw((m) => Buffer.from(toBinary(ProcessingRequestSchema, m as ProcessingRequest)));
    const status = statusOf(call);
    call.write(create(ProcessingRequestSchema, {}));
    call.end();
    expect((await status).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("answers a duplicate end-of-stream body chunk once and never re-emits the body", async () => {
    const call = openRaw((m) => Buffer.from(toBinary(ProcessingRequestSchema, m as ProcessingRequest)));
    const replies: Buffer[] = [];
    call.on("data", (b: Buffer) => replies.push(b));
    const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    call.write(create(ProcessingRequestSchema, { request: { case: "requestHeaders", value: {} } }));
    call.write(
      create(ProcessingRequestSchema, {
        request: { case: "requestBody", value: { body: new Uint8Array([1]), endOfStream: true } },
      }),
    );
    call.write(
      create(ProcessingRequestSchema, {
        request: { case: "requestBody", value: { body: new Uint8Array(), endOfStream: true } },
      }),
    );
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    expect(replies.length).toBe(3);
  });
});

describe("concurrency", () => {
  it("serves 1,000 concurrent streams", async () => {
    const echo = await startEcho({ replaceBody: { request: "x" } });
    try {
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          echo.client.exchange(
            { processingMode: { requestBodyMode: "BUFFERED" }, messageTimeoutMs: 30_000, exchangeTimeoutMs: 60_000 },
            { request: { headers: { "x-i": String(i) }, body: [`{"i":${i}}`] } },
          ),
        ),
      );
      expect(
        results
          .filter((r) => r.error !== undefined)
          .map((r) => r.error)
          .slice(0, 3),
      ).toEqual([]);
      expect(results.every((r) => text(r.upstream!.body) === "x")).toBe(true);
    } finally {
      await echo.close();
    }
  });
});
