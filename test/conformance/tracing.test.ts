import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type Processor, type Service, startTracing } from "@llm-callouts/ext-proc";
import { CheckRequestSchema } from "@llm-callouts/proto/gen/envoy/service/auth/v3/external_auth_pb";
import { createRedisClient, createRedisStore } from "@llm-callouts/semantic-cache";
import { startTestRedis } from "@llm-callouts/semantic-cache/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWith } from "./harness.js";

// Traces as an operator gets them: the SDK started from the standard OTEL_* environment, spans
// exported over OTLP/HTTP to a real receiver started here, W3C trace context read from the
// request headers Envoy forwards, a span per stream with one per phase and per outbound call.

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

const received: OtlpSpan[] = [];
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => {
    body += c.toString();
  });
  req.on("end", () => {
    const json = JSON.parse(body) as {
      resourceSpans: { resource: unknown; scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    for (const rs of json.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
    resources.push(...json.resourceSpans.map((r) => r.resource));
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
const resources: unknown[] = [];
let tracing: ReturnType<typeof startTracing>;
const redis = await startTestRedis();

beforeAll(async () => {
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  const port = (receiver.address() as AddressInfo).port;
  tracing = startTracing("tracing-test", {
    OTEL_TRACES_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
  });
});

afterAll(async () => {
  await tracing?.shutdown();
  receiver.close();
  await redis?.stop();
});

const attr = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value;
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

async function spansOf(traceId: string, count: number): Promise<OtlpSpan[]> {
  for (let i = 0; i < 100; i++) {
    await tracing?.forceFlush();
    const mine = received.filter((s) => s.traceId === traceId);
    if (mine.length >= count) return mine;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return received.filter((s) => s.traceId === traceId);
}

describe.each(["lean", "connect"] as const)("tracing on the %s transport", (processTransport) => {
  it("continues the request's W3C trace: stream span, a span per phase, a Redis span inside the processor", async () => {
    expect(tracing).toBeDefined();
    if (!redis) throw new Error("no Redis for the tracing test");
    const client = createRedisClient(redis.url);
    await client.connect();
    const store = createRedisStore({ client });
    const service: Service = {
      name: "traced",
      processor: (): Processor => ({
        onRequestHeaders: async () => {
          await store.get("missing-partition", "missing-entry");
          return { body: "whole" };
        },
        onRequestBody: () => ({}),
      }),
    };
    const s = await startWith(service, { processTransport });
    try {
      const traceId = hex(32);
      const parentId = hex(16);
      const result = await s.client.exchange(
        { processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SKIP" } },
        {
          request: {
            headers: { ":path": "/v1/chat/completions?key=secret", traceparent: `00-${traceId}-${parentId}-01` },
            body: ["{}"],
          },
        },
      );
      expect(result.error).toBeUndefined();
      const spans = await spansOf(traceId, 4);
      const stream = spans.find((x) => x.name === "envoy.service.ext_proc.v3.ExternalProcessor/Process");
      expect(stream?.parentSpanId).toBe(parentId);
      expect(stream?.kind).toBe(2); // SPAN_KIND_SERVER
      expect(attr(stream!, "rpc.system")).toEqual({ stringValue: "grpc" });
      expect(attr(stream!, "url.path")).toEqual({ stringValue: "/v1/chat/completions" }); // no query string
      const phases = spans.filter((x) => x.name.startsWith("ext_proc ")).map((x) => [x.name, x.parentSpanId]);
      expect(phases).toEqual(
        expect.arrayContaining([
          ["ext_proc requestHeaders", stream?.spanId],
          ["ext_proc requestBody", stream?.spanId],
        ]),
      );
      const headersSpan = spans.find((x) => x.name === "ext_proc requestHeaders");
      const redisSpan = spans.find((x) => x.name === "redis GET");
      expect(redisSpan?.parentSpanId).toBe(headersSpan?.spanId);
      expect(redisSpan?.kind).toBe(3); // SPAN_KIND_CLIENT
      expect(attr(redisSpan!, "db.system.name")).toEqual({ stringValue: "redis" });
      expect(JSON.stringify(resources)).toContain("tracing-test");
      expect(JSON.stringify(resources)).toContain("deployment.environment.name");
    } finally {
      client.disconnect();
      await s.close();
    }
  });
});

describe("tracing ext_authz", () => {
  it("makes a SERVER span per Check, child of the request's traceparent", async () => {
    const s = await startWith({ name: "authz", processor: () => ({}), authorize: () => ({ allow: true }) });
    const raw = new grpc.Client(`127.0.0.1:${s.server.port}`, grpc.credentials.createInsecure());
    try {
      const traceId = hex(32);
      const parentId = hex(16);
      const request = create(CheckRequestSchema, {
        attributes: {
          request: { http: { method: "POST", path: "/v1", headers: { traceparent: `00-${traceId}-${parentId}-01` } } },
        },
      });
      await new Promise<void>((resolve, reject) =>
        raw.makeUnaryRequest(
          "/envoy.service.auth.v3.Authorization/Check",
          (m: Uint8Array) => Buffer.from(m),
          (b: Buffer) => b,
          toBinary(CheckRequestSchema, request),
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const [span] = await spansOf(traceId, 1);
      expect(span).toMatchObject({
        name: "envoy.service.auth.v3.Authorization/Check",
        parentSpanId: parentId,
        kind: 2,
      });
    } finally {
      raw.close();
      await s.close();
    }
  });
});
