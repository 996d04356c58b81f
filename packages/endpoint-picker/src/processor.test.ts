import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createEnvoyClient,
  type EnvoyClient,
  type ExchangeResult,
  type FilterConfig,
  type HttpMessage,
} from "@llm-callouts/envoy-emulator";
import { type RunningService, startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointPickerConfigSchema } from "./config.js";
import { vllmMetricsPage } from "./metrics/vllm-page.testdata.js";
import { createEndpointPickerService } from "./service.js";

/**
 * The endpoint picker through the real gRPC server and the Envoy-faithful client, with
 * real HTTP servers standing in for the model servers' /metrics pages.
 */

const modes: readonly { readonly name: string; readonly filter: FilterConfig }[] = [
  {
    name: "FULL_DUPLEX_STREAMED",
    filter: {
      processingMode: {
        requestBodyMode: "FULL_DUPLEX_STREAMED",
        responseBodyMode: "FULL_DUPLEX_STREAMED",
        requestTrailerMode: "SEND",
        responseTrailerMode: "SEND",
      },
      receivingNamespaces: ["envoy.lb"],
      messageTimeoutMs: 5_000,
    },
  },
  {
    name: "BUFFERED",
    filter: {
      processingMode: { requestBodyMode: "BUFFERED", responseBodyMode: "BUFFERED" },
      receivingNamespaces: ["envoy.lb"],
      messageTimeoutMs: 5_000,
    },
  },
];

interface MetricsServer {
  readonly id: string;
  set(g: { waiting: number; running: number; kv: number }): void;
  close(): Promise<void>;
}

/** A metrics page on its own loopback address (as pods have their own IPs: subset hints match by IP). */
async function metricsServer(
  host: string,
  initial: { waiting: number; running: number; kv: number },
): Promise<MetricsServer> {
  let page = vllmMetricsPage(initial);
  const server: Server = createServer((_req, res) => res.end(page));
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return {
    id: `${host}:${port}`,
    set: (g) => {
      page = vllmMetricsPage(g);
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const header = (headers: readonly (readonly [string, string])[], name: string) =>
  headers.find(([n]) => n === name)?.[1];
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const chat = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], ...extra });
const post = (body: string | string[], headers: Record<string, string> = {}): HttpMessage["headers"] => ({
  ":method": "POST",
  ":path": "/v1/chat/completions",
  ":authority": "gw",
  "content-type": "application/json",
  "content-length": String(Array.isArray(body) ? body.join("").length : body.length),
  ...headers,
});

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function metricValue(runtime: ReturnType<typeof createTestRuntime>, name: string, labels = ""): Promise<number> {
  const textOut = await runtime.metrics.metrics();
  const line = textOut
    .split("\n")
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name} `)));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** Waits until every stream routed so far has ended (no in-flight requests left). */
const settled = () =>
  until(async () => !(await runtime.metrics.metrics()).includes("callouts_endpoint_picker_inflight_requests{"));

/**
 * Envoy removes content-length in FULL_DUPLEX_STREAMED and skips a processor's set of it
 * (ProcessorState::shouldRemoveContentLength) unless allow_content_length_header; in BUFFERED the
 * original passes.
 */
function expectContentLength(r: ExchangeResult, filter: FilterConfig, length: number) {
  const duplex = filter.processingMode?.requestBodyMode === "FULL_DUPLEX_STREAMED";
  expect(header(r.upstream?.headers ?? [], "content-length")).toBe(duplex ? undefined : String(length));
}

let idle: MetricsServer;
let busy: MetricsServer;
let full: MetricsServer;
let server: RunningService;
let client: EnvoyClient;
const runtime = createTestRuntime();
const abort = new AbortController();

beforeAll(async () => {
  idle = await metricsServer("127.0.0.11", { waiting: 0, running: 1, kv: 0.1 });
  busy = await metricsServer("127.0.0.12", { waiting: 3, running: 20, kv: 0.5 });
  full = await metricsServer("127.0.0.13", { waiting: 20, running: 50, kv: 0.95 });
  const config = endpointPickerConfigSchema.parse({
    endpoints: {
      static: [idle, busy, full].map((s) => ({ address: s.id.split(":")[0], port: Number(s.id.split(":")[1]) })),
    },
    metrics: { scrapeIntervalMs: 20 },
    saturation: { metricsStalenessThresholdMs: 10_000 },
    fallbackEndpoints: 1,
    objectives: { batch: { priority: -1 } },
    modelRewrites: [{ from: "alias", to: "served-model" }],
  });
  const service = createEndpointPickerService(config, { ...runtime, signal: abort.signal });
  await until(async () => (await metricValue(runtime, "callouts_endpoint_picker_ready_endpoints")) === 3);
  server = await startService(service, { port: 0, adminPort: null, log: runtime.log });
  client = createEnvoyClient(`127.0.0.1:${server.port}`);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  abort.abort();
  await Promise.all([idle?.close(), busy?.close(), full?.close()]);
});

describe.each(modes)("endpoint picker in $name mode", ({ filter }) => {
  it("holds the headers reply until the body is complete, then routes to the best endpoint with a fallback", async () => {
    const body = chat("m");
    const r = await client.exchange(filter, { request: { headers: post(body), body: [body] }, trace: true });
    const dest = header(r.upstream?.headers ?? [], "x-gateway-destination-endpoint");
    expect(dest).toBe(`${idle.id},${busy.id}`);
    expect(r.dynamicMetadata).toEqual({ "envoy.lb": { "x-gateway-destination-endpoint": dest } });
    expect(r.routeCacheCleared).toBe(true);
    expect(text(r.upstream?.body ?? new Uint8Array())).toBe(body);
    expectContentLength(r, filter, body.length);
    expect(r.error).toBeUndefined();
    const kinds = r.trace.filter((t) => t.dir === "sent").map((t) => t.kind);
    expect(kinds.slice(0, 2)).toEqual(["requestHeaders", "requestBody"]);
  });

  it("overwrites a client-sent destination header", async () => {
    const body = chat("m");
    const r = await client.exchange(filter, {
      request: { headers: post(body, { "x-gateway-destination-endpoint": "6.6.6.6:80" }), body: [body] },
    });
    expect(r.upstream?.headers.filter(([n]) => n === "x-gateway-destination-endpoint").map(([, v]) => v)).toEqual([
      `${idle.id},${busy.id}`,
    ]);
  });

  it("reassembles a body sent in many chunks and forwards a 70 KB body intact", async () => {
    const big = chat("m", { padding: "x".repeat(70_000) });
    const chunks = big.match(/[\s\S]{1,9000}/g) ?? [];
    const r = await client.exchange(filter, { request: { headers: post(big), body: chunks }, trace: true });
    expect(r.error).toBeUndefined();
    if (filter.processingMode?.requestBodyMode === "FULL_DUPLEX_STREAMED") {
      // Re-streamed in chunks of at most 62,000 bytes (GIE chunking.go), EoS on the last.
      const sizes = r.trace
        .filter((t) => t.dir === "received" && t.kind === "requestBody")
        .map((t) => {
          const m = t.message as {
            requestBody?: { response?: { bodyMutation?: { streamedResponse?: { body?: string } } } };
          };
          return Buffer.from(m.requestBody?.response?.bodyMutation?.streamedResponse?.body ?? "", "base64").length;
        });
      expect(sizes).toEqual([62_000, big.length - 62_000]);
    }
    expect(text(r.upstream?.body ?? new Uint8Array())).toBe(big);
    expectContentLength(r, filter, big.length);
    expect(header(r.upstream?.headers ?? [], "x-gateway-destination-endpoint")).toBe(`${idle.id},${busy.id}`);
  });

  it.each([
    { name: "a list", hint: () => [busy.id], want: () => busy.id },
    { name: "a comma string", hint: () => `${full.id}, ${busy.id}`, want: () => busy.id },
    { name: "a bare IP (all ports of it)", hint: () => ["127.0.0.11"], want: () => idle.id },
    // GIE's subset filter compares the address only: the entry's port does not matter.
    { name: "ip:port with another port", hint: () => [`${busy.id.split(":")[0]}:1`], want: () => busy.id },
  ])("honours the subset hint given as $name", async ({ hint, want }) => {
    const body = chat("m");
    const r = await client.exchange(
      { ...filter, forwardedMetadata: { "envoy.lb.subset_hint": { "x-gateway-destination-endpoint-subset": hint() } } },
      { request: { headers: post(body), body: [body] } },
    );
    expect(header(r.upstream?.headers ?? [], "x-gateway-destination-endpoint")?.split(",")[0]).toBe(want());
  });

  it.each([
    { name: "an empty subset", hint: [] as string[] },
    { name: "a subset with no known endpoint", hint: ["10.9.9.9:8000"] },
  ])("answers 503 for $name", async ({ hint }) => {
    const body = chat("m");
    const r = await client.exchange(
      { ...filter, forwardedMetadata: { "envoy.lb.subset_hint": { "x-gateway-destination-endpoint-subset": hint } } },
      { request: { headers: post(body), body: [body] } },
    );
    expect(r.upstream).toBeUndefined();
    expect(r.downstream.status).toBe(503);
    expect(JSON.parse(text(r.downstream.body))).toEqual({
      error: {
        message: "inference error: ServiceUnavailable - failed to find endpoint candidates for serving the request",
        type: "server_error",
        code: "ServiceUnavailable",
      },
    });
  });

  it.each([
    {
      name: "invalid JSON",
      body: "{nope",
      message: /^inference error: BadRequest - error unmarshaling request bodyMap: /,
    },
    {
      name: "a missing model",
      body: '{"messages":[]}',
      message: /^inference error: BadRequest - model not found in request body$/,
    },
    {
      name: "chat without messages",
      body: '{"model":"m"}',
      message: /^inference error: BadRequest - invalid chat completions request: must have valid messages field$/,
    },
  ])("answers 400 for $name", async ({ body, message }) => {
    const r = await client.exchange(filter, { request: { headers: post(body), body: [body] } });
    expect(r.downstream.status).toBe(400);
    expect(header(r.downstream.headers, "content-type")).toBe("application/json");
    const err = JSON.parse(text(r.downstream.body)).error;
    expect(err.type).toBe("invalid_request_error");
    expect(err.message).toMatch(message);
  });

  it("answers 429 to a sheddable request on a saturated pool and serves a critical one", async () => {
    const body = chat("m");
    const saturated = {
      ...filter,
      forwardedMetadata: { "envoy.lb.subset_hint": { "x-gateway-destination-endpoint-subset": [full.id] } },
    };
    const shed = await client.exchange(saturated, {
      request: { headers: post(body, { "x-gateway-inference-objective": "batch" }), body: [body] },
    });
    expect(shed.downstream.status).toBe(429);
    expect(JSON.parse(text(shed.downstream.body)).error).toEqual({
      message: "inference error: ResourceExhausted - system saturated, sheddable request dropped",
      type: "rate_limit_error",
      code: "ResourceExhausted",
    });
    const aliased = await client.exchange(saturated, {
      request: { headers: post(body, { "x-llm-d-inference-objective": "batch" }), body: [body] },
    });
    expect(aliased.downstream.status).toBe(429);
    const critical = await client.exchange(saturated, { request: { headers: post(body), body: [body] } });
    expect(header(critical.upstream?.headers ?? [], "x-gateway-destination-endpoint")).toBe(full.id);
  });

  it("picks for a header-only request without a body phase", async () => {
    const r = await client.exchange(filter, {
      request: { headers: { ":method": "GET", ":path": "/v1/models", ":authority": "gw" } },
      trace: true,
    });
    const reply = r.trace.find((t) => t.dir === "received" && t.kind === "requestHeaders")?.message as {
      dynamicMetadata?: { "envoy.lb"?: { "x-gateway-destination-endpoint"?: string } };
    };
    const dest = reply?.dynamicMetadata?.["envoy.lb"]?.["x-gateway-destination-endpoint"];
    expect([idle.id, busy.id, full.id]).toContain(dest);
    expect(header(r.upstream?.headers ?? [], "x-gateway-destination-endpoint")).toBe(dest);
    expect(r.trace.filter((t) => t.dir === "sent").map((t) => t.kind)).not.toContain("requestBody");
  });

  it("rewrites the model by header, and rewrites it back in a JSON response", async () => {
    await settled();
    const sizes = [
      "inference_objective_response_sizes_sum",
      '{model_name="client-model",target_model_name="served-model"}',
    ] as const;
    const before = await metricValue(runtime, ...sizes);
    const body = chat("client-model");
    const r = await client.exchange(filter, {
      request: { headers: post(body, { "x-gateway-model-name-rewrite": "served-model" }), body: [body] },
      upstream: (req) => {
        const seen = JSON.parse(text(req.body));
        const out = JSON.stringify({
          id: "x",
          model: seen.model,
          choices: [],
          usage: { prompt_tokens: 5, completion_tokens: 2 },
        });
        return {
          headers: { ":status": "200", "content-type": "application/json" },
          body: [out.slice(0, 10), out.slice(10)],
        };
      },
    });
    expect(JSON.parse(text(r.upstream?.body ?? new Uint8Array())).model).toBe("served-model");
    // A new length where Envoy keeps content-length (BUFFERED); none in duplex (removed by Envoy).
    expectContentLength(r, filter, r.upstream?.body.length ?? -1);
    expect(JSON.parse(text(r.downstream.body)).model).toBe("client-model");
    // GIE's response size counts the upstream bytes once, though the first chunk was carried into the second.
    await settled();
    const after = await metricValue(runtime, ...sizes);
    const served = JSON.stringify({
      id: "x",
      model: "served-model",
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    });
    expect(after - before).toBe(Buffer.byteLength(served));
  });

  it("rewrites by configured rule and back in SSE chunks, counting usage from the SSE usage chunk", async () => {
    await settled(); // earlier streams end (and count their usage) just after their exchange returns
    const before = await metricValue(runtime, "callouts_endpoint_picker_tokens_total", '{kind="completion"}');
    const body = chat("alias", { stream: true, stream_options: { include_usage: true } });
    const events = [
      'data: {"model":"served-model","choices":[{"delta":{"content":"hi"}}]}\n\n',
      'data: {"model":"served-model","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4}}\n\n',
      "data: [DONE]\n\n",
    ];
    const r = await client.exchange(filter, {
      request: { headers: post(body), body: [body] },
      upstream: { headers: { ":status": "200", "content-type": "text/event-stream" }, body: events },
    });
    expect(JSON.parse(text(r.upstream?.body ?? new Uint8Array())).model).toBe("served-model");
    expect(text(r.downstream.body)).toBe(events.join("").replaceAll('"served-model"', '"alias"'));
    expect(r.downstream.chunks.length).toBe(filter.processingMode?.responseBodyMode === "BUFFERED" ? 1 : 3);
    await until(
      async () =>
        (await metricValue(runtime, "callouts_endpoint_picker_tokens_total", '{kind="completion"}')) === before + 4,
    );
  });

  it("passes SSE chunks through one by one", async () => {
    const body = chat("m", { stream: true });
    const events = ['data: {"a":1}\n\n', 'data: {"a":2}\n\n', "data: [DONE]\n\n"];
    const r = await client.exchange(filter, {
      request: { headers: post(body), body: [body] },
      upstream: { headers: { ":status": "200", "content-type": "text/event-stream" }, body: events },
    });
    expect(text(r.downstream.body)).toBe(events.join(""));
    if (filter.processingMode?.responseBodyMode === "FULL_DUPLEX_STREAMED") {
      expect(r.downstream.chunks.map(text)).toEqual(events);
    }
  });

  it("charges the endpoint that served when the proxy reports a fallback", async () => {
    await settled();
    const before = await metricValue(runtime, "callouts_endpoint_picker_fallbacks_served_total");
    const body = chat("m");
    const r = await client.exchange(
      { ...filter, forwardedMetadata: { "envoy.lb": { "x-gateway-destination-endpoint-served": busy.id } } },
      { request: { headers: post(body), body: [body] } },
    );
    expect(header(r.upstream?.headers ?? [], "x-gateway-destination-endpoint")).toBe(`${idle.id},${busy.id}`);
    await settled();
    expect(await metricValue(runtime, "callouts_endpoint_picker_fallbacks_served_total")).toBe(before + 1);
  });

  it("releases in-flight counts on completion and on client abort", async () => {
    const body = chat("m", { stream: true });
    await settled();
    let during = "";
    const r = await client.exchange(filter, {
      request: { headers: post(body), body: [body] },
      upstream: async () => {
        during = await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_inflight_requests");
        return {
          headers: { ":status": "200", "content-type": "text/event-stream" },
          body: ["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"],
        };
      },
      abortAfterResponseChunks: 1,
    });
    expect(during).toContain(`callouts_endpoint_picker_inflight_requests{endpoint="${idle.id}"} 1`);
    if (filter.processingMode?.responseBodyMode === "FULL_DUPLEX_STREAMED") expect(r.downstream.reset).toBe(true);
    await settled();
  });
});

describe("endpoint picker edge cases", () => {
  it("answers 500 to a header-only request and 503 to a body request when the pool is empty", async () => {
    const rt = createTestRuntime();
    const ctrl = new AbortController();
    const service = createEndpointPickerService(endpointPickerConfigSchema.parse({}), { ...rt, signal: ctrl.signal });
    const s = await startService(service, { port: 0, adminPort: null, log: rt.log });
    const c = createEnvoyClient(`127.0.0.1:${s.port}`);
    try {
      const filter = modes[0]!.filter;
      const get = await c.exchange(filter, {
        request: { headers: { ":method": "GET", ":path": "/v1/models", ":authority": "gw" } },
      });
      expect(get.downstream.status).toBe(500);
      expect(JSON.parse(text(get.downstream.body)).error.message).toBe(
        "inference error: Internal - no pods available in datastore",
      );
      const body = chat("m");
      const r = await c.exchange(filter, { request: { headers: post(body), body: [body] } });
      expect(r.downstream.status).toBe(503);
    } finally {
      c.close();
      await s.shutdown();
      ctrl.abort();
    }
  });

  it("emits each candidate's score with emitEndpointScores, and ignores subset hints with subsetFilter: false", async () => {
    const rt = createTestRuntime();
    const ctrl = new AbortController();
    const config = endpointPickerConfigSchema.parse({
      endpoints: {
        static: [idle, busy, full].map((m) => ({ address: m.id.split(":")[0], port: Number(m.id.split(":")[1]) })),
      },
      metrics: { scrapeIntervalMs: 20 },
      emitEndpointScores: true,
      subsetFilter: false,
    });
    const service = createEndpointPickerService(config, { ...rt, signal: ctrl.signal });
    await until(async () => (await metricValue(rt, "callouts_endpoint_picker_ready_endpoints")) === 3);
    const s = await startService(service, { port: 0, adminPort: null, log: rt.log });
    const c = createEnvoyClient(`127.0.0.1:${s.port}`);
    try {
      const body = chat("m");
      const r = await c.exchange(
        // A hint naming only the full endpoint, which subsetFilter: false ignores.
        {
          ...modes[0]!.filter,
          forwardedMetadata: { "envoy.lb.subset_hint": { "x-gateway-destination-endpoint-subset": [full.id] } },
        },
        { request: { headers: post(body), body: [body] } },
      );
      const lb = r.dynamicMetadata["envoy.lb"] as Record<string, unknown>;
      expect(lb["x-gateway-destination-endpoint"]).toBe(idle.id);
      const scores = lb["x-gateway-destination-endpoint-scores"] as Record<string, number>;
      expect(Object.keys(scores).sort()).toEqual([idle.id, busy.id, full.id].sort());
      expect(scores[idle.id]).toBeGreaterThan(scores[busy.id] as number);
      expect(scores[busy.id]).toBeGreaterThan(scores[full.id] as number);
    } finally {
      c.close();
      await s.shutdown();
      ctrl.abort();
    }
  });
});
