import { gzipSync } from "node:zlib";
import {
  createEnvoyClient,
  type EnvoyClient,
  type ExchangeResult,
  type FilterConfig,
} from "@llm-callouts/envoy-emulator";
import { type Header, type RunningService, startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { seededRandom } from "@llm-callouts/random";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "./config.js";
import { createBodyRouterService } from "./service.js";

/**
 * The body router through the real gRPC server and the Envoy-faithful client, in the
 * three body modes a body router runs in. Message timeouts are raised from Envoy's 200 ms
 * default so a loaded machine cannot turn a slow reply into a failure.
 */

const namespace = "com.llm-callouts.body-router";
const modes: readonly { readonly name: string; readonly filter: FilterConfig }[] = [
  {
    name: "BUFFERED",
    filter: { processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SKIP" }, messageTimeoutMs: 5_000 },
  },
  {
    name: "STREAMED",
    filter: {
      processingMode: { requestBodyMode: "STREAMED", responseHeaderMode: "SKIP" },
      sendBodyWithoutWaitingForHeaderResponse: true,
      messageTimeoutMs: 5_000,
    },
  },
  {
    name: "FULL_DUPLEX_STREAMED",
    filter: {
      processingMode: {
        requestBodyMode: "FULL_DUPLEX_STREAMED",
        requestTrailerMode: "SEND",
        responseHeaderMode: "SKIP",
      },
    },
  },
];

const config = configSchema.parse({
  routes: [
    { model: "fast", targets: [{ model: "sql-lora" }] },
    {
      model: "gpt-4o",
      targets: [
        { model: "llama-70b", weight: 80 },
        { model: "llama-70b-canary", weight: 20 },
      ],
    },
  ],
  stickyHeader: "x-session-id",
  baseModels: [{ baseModel: "llama-8b", adapters: ["sql-lora", "food-lora"] }],
  bodyLimitBytes: 200_000,
});

let server: RunningService;
let client: EnvoyClient;

beforeAll(async () => {
  const runtime = createTestRuntime();
  const service = await createBodyRouterService(config, runtime, { random: seededRandom(2024) });
  server = await startService(service, { host: "127.0.0.1", port: 0, adminPort: null, log: runtime.log });
  client = createEnvoyClient(`127.0.0.1:${server.port}`);
});

afterAll(async () => {
  client.close();
  await server.shutdown();
});

const chatHeaders = { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" };

function send(
  filter: FilterConfig,
  body: readonly (string | Uint8Array)[] | undefined,
  headers: Record<string, string> = {},
  trace = false,
): Promise<ExchangeResult> {
  return client.exchange(
    { ...filter, receivingNamespaces: [namespace] },
    { request: { headers: { ...chatHeaders, ...headers }, ...(body ? { body } : {}) }, trace },
  );
}

const values = (headers: readonly Header[] | undefined, name: string) =>
  (headers ?? []).filter(([n]) => n === name).map(([, v]) => v);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** The upstream's view of the gateway-owned headers. */
function routing(result: ExchangeResult) {
  const h = result.upstream?.headers;
  return {
    model: values(h, "x-gateway-model-name"),
    target: values(h, "x-gateway-model-target"),
    base: values(h, "x-gateway-base-model-name"),
  };
}

function expectRejected(result: ExchangeResult, status: number, code: string) {
  expect(result.error).toBeUndefined();
  expect(result.upstream).toBeUndefined();
  expect(result.immediateResponse).toEqual({ status, details: `body_router_${code}` });
  expect(values(result.downstream.headers, "content-type")).toEqual(["application/json"]);
  const body = JSON.parse(text(result.downstream.body));
  expect(body.error).toMatchObject({ type: "invalid_request_error", code });
  expect(typeof body.error.message).toBe("string");
}

describe.each(modes)("body router in $name", ({ filter }) => {
  it("routes a chat completion by its model", async () => {
    const body = '{"model":"llama-8b","messages":[{"role":"user","content":"hi"}]}';
    const result = await send(filter, [body]);
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: ["llama-8b"], target: ["llama-8b"], base: ["llama-8b"] });
    expect(result.routeCacheCleared).toBe(true);
    expect(text(result.upstream?.body)).toBe(body);
    expect(result.dynamicMetadata[namespace]).toEqual({
      api: "chat_completions",
      model: "llama-8b",
      target: "llama-8b",
      baseModel: "llama-8b",
    });
  });

  it("finds the model when the body is split at every byte position around it", async () => {
    const body = '{"messages":[{"role":"user","content":"x"}],"model":"food-lora","stream":true}';
    const start = body.indexOf('"model"');
    const end = body.indexOf(',"stream"');
    for (let cut = start; cut <= end; cut++) {
      const result = await send(filter, [body.slice(0, cut), body.slice(cut)]);
      expect(result.error, `cut at ${cut}`).toBeUndefined();
      expect(routing(result), `cut at ${cut}`).toEqual({
        model: ["food-lora"],
        target: ["food-lora"],
        base: ["llama-8b"],
      });
      expect(text(result.upstream?.body)).toBe(body);
    }
  });

  it("routes an Anthropic messages body", async () => {
    const result = await send(filter, ['{"max_tokens":10,"messages":[],"model":"claude-x"}'], {
      ":path": "/v1/messages",
    });
    expect(routing(result)).toEqual({ model: ["claude-x"], target: ["claude-x"], base: [] });
    expect(result.dynamicMetadata[namespace]?.api).toBe("messages");
  });

  it("routes a Gemini path-addressed request from its path", async () => {
    const result = await send(filter, ['{"contents":[]}'], {
      ":path": "/v1beta/models/fast:streamGenerateContent?alt=sse",
    });
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: ["fast"], target: ["sql-lora"], base: ["llama-8b"] });
    expect(values(result.upstream?.headers, ":path")).toEqual([
      "/v1beta/models/sql-lora:streamGenerateContent?alt=sse",
    ]);
    expect(text(result.upstream?.body)).toBe('{"contents":[]}');
  });

  it("routes a multipart audio transcription by its model field and rewrites it for an alias", async () => {
    const audio = Buffer.from([0x52, 0x49, 0x46, 0x46, 0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d]);
    const form = (model: string) =>
      Buffer.concat([
        Buffer.from('--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'),
        audio,
        Buffer.from(
          `\r\n--b0undary\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n--b0undary--\r\n`,
        ),
      ]);
    const result = await send(filter, [form("fast")], {
      ":path": "/v1/audio/transcriptions",
      "content-type": "multipart/form-data; boundary=b0undary",
    });
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: ["fast"], target: ["sql-lora"], base: ["llama-8b"] });
    expect(Buffer.from(result.upstream?.body ?? []).equals(form("sql-lora"))).toBe(true);
    expect(result.dynamicMetadata[namespace]?.api).toBe("audio");
  });

  it.each([
    { name: "missing", body: '{"messages":[]}' },
    { name: "empty", body: '{"model":"","messages":[]}' },
  ])("passes a $name model without the header", async ({ body }) => {
    const result = await send(filter, [body], { "x-gateway-model-name": "spoofed" });
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: [], target: [], base: [] });
    expect(text(result.upstream?.body)).toBe(body);
  });

  it.each([
    { name: "a number model", body: '{"model":42}', code: "invalid_model" },
    { name: "an object model", body: '{"model":{"name":"x"}}', code: "invalid_model" },
    { name: "invalid JSON", body: '{"model":"a",', code: "invalid_json" },
    { name: "a non-object body", body: '["model"]', code: "invalid_body" },
  ])("rejects $name with 400 and an OpenAI error", async ({ body, code }) => {
    expectRejected(await send(filter, [body]), 400, code);
  });

  it("overwrites a spoofed model header instead of appending", async () => {
    const result = await send(filter, ['{"model":"llama-8b"}'], {
      "x-gateway-model-name": "evil",
      "x-gateway-model-target": "evil",
      "x-gateway-base-model-name": "evil",
      "x-gateway-destination-endpoint": "10.0.0.1:8000",
    });
    expect(routing(result)).toEqual({ model: ["llama-8b"], target: ["llama-8b"], base: ["llama-8b"] });
    expect(values(result.upstream?.headers, "x-gateway-destination-endpoint")).toEqual([]);
  });

  it.each([
    { name: "an adapter", model: "sql-lora", base: ["llama-8b"] },
    { name: "a base model", model: "llama-8b", base: ["llama-8b"] },
    { name: "an unknown model", model: "mistral-7b", base: [] },
  ])("maps $name to its base model", async ({ model, base }) => {
    const result = await send(filter, [JSON.stringify({ model })], { "x-gateway-base-model-name": "spoofed" });
    expect(routing(result)).toEqual({ model: [model], target: [model], base });
  });

  it("rewrites the body for an alias with a correct content-length", async () => {
    const result = await send(filter, ['{"model":"fast","temperature":1.0}']);
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: ["fast"], target: ["sql-lora"], base: ["llama-8b"] });
    expect(text(result.upstream?.body)).toBe('{"model":"sql-lora","temperature":1.0}');
    const length = values(result.upstream?.headers, "content-length");
    expect(length.length === 0 || length[0] === String(result.upstream?.body.length)).toBe(true);
  });

  it("gives the same session the same split target", async () => {
    const targets = new Set<string>();
    for (let k = 0; k < 5; k++) {
      const result = await send(filter, ['{"model":"gpt-4o"}'], { "x-session-id": "session-7" });
      targets.add(text(result.upstream?.body));
    }
    expect(targets.size).toBe(1);
  });

  it("decodes a gzip body to find the model, forwarding it unchanged", async () => {
    const gz = gzipSync('{"model":"llama-8b","messages":[]}');
    const result = await send(filter, [gz], { "content-encoding": "gzip" });
    expect(result.error).toBeUndefined();
    expect(routing(result).model).toEqual(["llama-8b"]);
    expect(Buffer.from(result.upstream?.body ?? []).equals(gz)).toBe(true);
    expect(values(result.upstream?.headers, "content-encoding")).toEqual(["gzip"]);
  });

  it("sends a rewritten gzip body decoded", async () => {
    const result = await send(filter, [gzipSync('{"model":"fast"}')], { "content-encoding": "gzip" });
    expect(result.error).toBeUndefined();
    expect(text(result.upstream?.body)).toBe('{"model":"sql-lora"}');
    expect(values(result.upstream?.headers, "content-encoding")).toEqual([]);
  });

  it("passes a GET without a body untouched, removing a spoofed header", async () => {
    const plain = await send(filter, undefined, { ":method": "GET", ":path": "/v1/models" });
    expect(plain.error).toBeUndefined();
    expect(plain.routeCacheCleared).toBe(false);
    expect(routing(plain)).toEqual({ model: [], target: [], base: [] });
    const spoofed = await send(filter, undefined, {
      ":method": "GET",
      ":path": "/v1/models",
      "x-gateway-model-name": "x",
    });
    expect(spoofed.routeCacheCleared).toBe(true);
    expect(routing(spoofed).model).toEqual([]);
  });

  it("rejects a body over the limit with 413", async () => {
    const body = JSON.stringify({ model: "llama-8b", prompt: "x".repeat(250_000) });
    expectRejected(await send(filter, [body.slice(0, 100_000), body.slice(100_000)]), 413, "request_too_large");
  });

  it("rejects a gzip bomb over the limit with 413", async () => {
    const bomb = gzipSync(JSON.stringify({ model: "llama-8b", prompt: "x".repeat(2_000_000) }));
    expectRejected(await send(filter, [bomb], { "content-encoding": "gzip" }), 413, "request_too_large");
  });
});

describe("body router in FULL_DUPLEX_STREAMED with a large prompt", () => {
  const duplex = modes[2]?.filter as FilterConfig;

  it("re-emits a 70,000-character prompt in chunks of at most 62,000 bytes", async () => {
    const body = JSON.stringify({ model: "fast", messages: [{ role: "user", content: "é".repeat(70_000) }] });
    const result = await send(duplex, [body.slice(0, 30_000), body.slice(30_000)], {}, true);
    expect(result.error).toBeUndefined();
    const expected = body.replace('"fast"', '"sql-lora"');
    expect(text(result.upstream?.body)).toBe(expected);
    // The router sets the new length, but Envoy removes content-length in duplex and skips a
    // processor's set of it (ProcessorState::shouldRemoveContentLength) unless
    // allow_content_length_header is on.
    expect(values(result.upstream?.headers, "content-length")).toEqual([]);
    const kept = await send({ ...duplex, allowContentLengthHeader: true }, [body.slice(0, 30_000), body.slice(30_000)]);
    expect(values(kept.upstream?.headers, "content-length")).toEqual([String(Buffer.byteLength(expected))]);
    const chunks = result.trace
      .filter((e) => e.dir === "received" && e.kind === "requestBody")
      .map((e) => Buffer.from(String(streamedBody(e.message)), "base64").length);
    expect(chunks.length).toBeGreaterThan(2);
    for (const size of chunks) expect(size).toBeLessThanOrEqual(62_000);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(Buffer.byteLength(expected));
  });
});

describe("body router in BUFFERED_PARTIAL", () => {
  const partial: FilterConfig = {
    processingMode: { requestBodyMode: "BUFFERED_PARTIAL", responseHeaderMode: "SKIP" },
    bufferLimitBytes: 1_000,
    messageTimeoutMs: 5_000,
  };
  const prompt = "p".repeat(5_000);

  it("routes by a model in the buffered prefix and rewrites it, the rest streaming through", async () => {
    const body = JSON.stringify({ model: "fast", messages: [{ role: "user", content: prompt }] });
    const result = await send(partial, [body]);
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: ["fast"], target: ["sql-lora"], base: ["llama-8b"] });
    expect(text(result.upstream?.body)).toBe(body.replace('"fast"', '"sql-lora"'));
  });

  it("passes without the header when the model is past the prefix", async () => {
    const body = JSON.stringify({ messages: [{ role: "user", content: prompt }], model: "fast" });
    const result = await send(partial, [body], { "x-gateway-model-name": "spoofed" });
    expect(result.error).toBeUndefined();
    expect(routing(result)).toEqual({ model: [], target: [], base: [] });
    expect(text(result.upstream?.body)).toBe(body);
  });
});

describe.each(modes)("body router weighted split in $name", ({ filter }) => {
  it("sends 80/20 within binomial bounds (seeded), rewriting each body", async () => {
    const n = 200;
    let canary = 0;
    for (let k = 0; k < n; k++) {
      const result = await send(filter, ['{"model":"gpt-4o"}']);
      const target = routing(result).target[0];
      expect(text(result.upstream?.body)).toBe(JSON.stringify({ model: target }));
      if (target === "llama-70b-canary") canary++;
    }
    // 4 standard deviations of Binomial(200, 0.2): 40 +- 22.6.
    expect(Math.abs(canary - n * 0.2)).toBeLessThan(4 * Math.sqrt(n * 0.2 * 0.8));
  });
});

/** `requestBody.response.bodyMutation.streamedResponse.body` of a traced reply (protobuf JSON). */
function streamedBody(message: unknown): string {
  const m = message as {
    requestBody?: { response?: { bodyMutation?: { streamedResponse?: { body?: string } } } };
  };
  return m.requestBody?.response?.bodyMutation?.streamedResponse?.body ?? "";
}
