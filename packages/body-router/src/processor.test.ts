import { createHeaderMap, type Processor, type StreamContext } from "@llm-callouts/ext-proc";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { configSchema } from "./config.js";
import { createBodyRouterMetrics } from "./metrics.js";
import { createModelRouter } from "./model-router.js";
import { createBodyRouterProcessor } from "./processor.js";
import { createRequestRouter, type RequestRouter } from "./request-router.js";
import { createRecordingLogger } from "./testing/recording-logger.js";

const config = configSchema.parse({ routes: [{ model: "fast", targets: [{ model: "small" }] }] });

function setup(router?: RequestRouter) {
  const registry = new Registry();
  const { log, lines } = createRecordingLogger();
  const factory = createBodyRouterProcessor({
    config,
    router:
      router ??
      createRequestRouter({ config, models: createModelRouter({ routes: config.routes }), baseModels: undefined }),
    metrics: createBodyRouterMetrics(registry, 10),
  });
  const processor = factory({ log } as unknown as StreamContext) as Required<
    Pick<Processor, "onRequestHeaders" | "onRequestBody">
  >;
  return { processor, registry, lines };
}

const headers = (extra: Record<string, string> = {}) =>
  createHeaderMap({ ":method": "POST", ":path": "/v1/chat/completions", ...extra });
const bytes = (text: string) => new TextEncoder().encode(text);

describe("createBodyRouterProcessor()", () => {
  it("asks for the whole body on request headers", async () => {
    const { processor } = setup();
    expect(await processor.onRequestHeaders({ headers: headers(), endOfStream: false })).toEqual({ body: "whole" });
  });

  it("sets headers with overwrite semantics, clears the route cache and emits metadata", async () => {
    const { processor } = setup();
    const decision = await processor.onRequestBody({
      headers: headers(),
      body: bytes('{"model":"m"}'),
      partial: false,
    });
    expect(decision).toEqual({
      headers: { set: { "x-gateway-model-name": "m", "x-gateway-model-target": "m" }, remove: [] },
      clearRouteCache: true,
      dynamicMetadata: { "com.llm-callouts.body-router": { api: "chat_completions", model: "m", target: "m" } },
    });
  });

  it("replaces the body when an alias rewrote it", async () => {
    const { processor } = setup();
    const decision = await processor.onRequestBody({
      headers: headers(),
      body: bytes('{"model":"fast"}'),
      partial: false,
    });
    expect(new TextDecoder().decode(decision?.replaceBody as Uint8Array)).toBe('{"model":"small"}');
  });

  it("answers a client error with an OpenAI-style local reply", async () => {
    const { processor } = setup();
    const decision = await processor.onRequestBody({ headers: headers(), body: bytes("{"), partial: false });
    expect(decision?.respond).toEqual({
      status: 400,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        error: {
          message: "request body is not valid JSON: unexpected end of input at byte 1",
          type: "invalid_request_error",
          code: "invalid_json",
        },
      }),
      details: "body_router_invalid_json",
    });
  });

  it("passes a bodiless request untouched", async () => {
    const { processor } = setup();
    expect(await processor.onRequestHeaders({ headers: headers({ ":method": "GET" }), endOfStream: true })).toEqual({
      body: "pass",
    });
  });

  it("removes a spoofed header from a bodiless request", async () => {
    const { processor } = setup();
    const decision = await processor.onRequestHeaders({
      headers: headers({ "x-gateway-model-name": "evil" }),
      endOfStream: true,
    });
    expect(decision).toEqual({ headers: { remove: ["x-gateway-model-name"] }, clearRouteCache: true, body: "pass" });
  });

  it("passes the request on, without gateway-owned headers, when the router throws", async () => {
    const broken: RequestRouter = {
      routeHeaders: () => {
        throw new Error("bug");
      },
      routeBody: () => Promise.reject(new Error("bug")),
    };
    const { processor, registry, lines } = setup(broken);
    const h = headers({ "x-gateway-model-name": "evil" });
    expect(await processor.onRequestHeaders({ headers: h, endOfStream: false })).toEqual({
      headers: { remove: ["x-gateway-model-name"] },
      clearRouteCache: true,
      body: "pass",
    });
    expect(await processor.onRequestBody({ headers: h, body: bytes("{}"), partial: false })).toEqual({
      headers: { remove: ["x-gateway-model-name"] },
      clearRouteCache: true,
    });
    expect(await registry.getSingleMetricAsString("callouts_body_router_errors_total")).toContain(
      'reason="internal"} 2',
    );
    expect(lines.filter((l) => l.includes('"level":"error"'))).toHaveLength(2);
  });

  it("never logs the prompt, at any level, whatever the outcome", async () => {
    const { processor, lines } = setup();
    const secret = "PROMPT-SECRET-4711";
    const bodies = [
      `{"model":"m","messages":[{"role":"user","content":"${secret}"}]}`,
      `{"model":"fast","prompt":"${secret}"}`,
      `{"prompt":"${secret}"}`,
      `{"model":1,"prompt":"${secret}"}`,
      `{"prompt":"${secret}`,
      `["${secret}"]`,
    ];
    for (const body of bodies) await processor.onRequestBody({ headers: headers(), body: bytes(body), partial: false });
    expect(lines.length).toBeGreaterThanOrEqual(bodies.length);
    for (const line of lines) expect(line).not.toContain(secret);
  });
});
