import { gzipSync } from "node:zlib";
import { createHeaderMap } from "@llm-callouts/ext-proc";
import { describe, expect, it } from "vitest";
import { buildBaseModelIndex } from "./base-model-map.js";
import { createStaticBaseModelSource } from "./base-model-source.js";
import { configSchema } from "./config.js";
import { createModelRouter } from "./model-router.js";
import { createRequestRouter, type RouteOutcome } from "./request-router.js";

const config = configSchema.parse({
  routes: [
    { model: "fast", targets: [{ model: "sql-lora" }] },
    {
      model: "split",
      targets: [
        { model: "a", weight: 1 },
        { model: "b", weight: 1 },
      ],
    },
  ],
  stickyHeader: "x-session-id",
});
const built = buildBaseModelIndex([{ baseModel: "llama-8b", adapters: ["sql-lora"] }]);
if (!("value" in built)) throw new Error("bad index");
const index = built.value;

function makeRouter(overrides: Record<string, unknown> = {}, random = () => 0.25) {
  const cfg = configSchema.parse({ ...config, ...overrides });
  return createRequestRouter({
    config: cfg,
    models: createModelRouter({ routes: cfg.routes, random }),
    baseModels: createStaticBaseModelSource(index),
  });
}

const chat = (extra: Record<string, string> = {}) =>
  createHeaderMap({ ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", ...extra });
const body = (text: string) => new TextEncoder().encode(text);
const route = (text: string | Uint8Array, headers = chat(), overrides = {}) =>
  makeRouter(overrides).routeBody({ headers, body: typeof text === "string" ? body(text) : text, partial: false });
const summary = (o: RouteOutcome) =>
  o.kind === "rejected"
    ? { kind: o.kind, status: o.error.status, code: o.error.code }
    : o.kind === "passed"
      ? { kind: o.kind, reason: o.reason, remove: o.headers.remove }
      : o;

describe("createRequestRouter().routeBody()", () => {
  it("skips string contents by default (a raw control character in a prompt passes); strictJson rejects it", async () => {
    const text = '{"model":"llama-8b","messages":[{"role":"user","content":"a\u0001b"}]}';
    expect((await route(text)).kind).toBe("routed");
    expect(summary(await route(text, chat(), { strictJson: true }))).toMatchObject({
      kind: "rejected",
      status: 400,
      code: "invalid_json",
    });
    // Broken structure is rejected in both modes, and so is a control character in the model.
    expect(summary(await route('{"model":"llama-8b","messages":[}'))).toMatchObject({ kind: "rejected", status: 400 });
    expect(summary(await route('{"model":"llama\u0001"}'))).toMatchObject({ kind: "rejected", status: 400 });
  });

  it("routes a chat body by its model", async () => {
    expect(await route('{"model":"llama-8b","messages":[]}')).toEqual({
      kind: "routed",
      api: "chat_completions",
      model: "llama-8b",
      target: "llama-8b",
      baseModel: "llama-8b",
      sticky: false,
      headers: {
        set: {
          "x-gateway-model-name": "llama-8b",
          "x-gateway-model-target": "llama-8b",
          "x-gateway-base-model-name": "llama-8b",
        },
        remove: [],
      },
      body: undefined,
      spoofed: 0,
    });
  });

  it("rewrites the body for an alias and maps the target's base model", async () => {
    const outcome = await route('{"model":"fast","n":1.0}');
    if (outcome.kind !== "routed") throw new Error(outcome.kind);
    expect([outcome.target, outcome.baseModel]).toEqual(["sql-lora", "llama-8b"]);
    expect(new TextDecoder().decode(outcome.body)).toBe('{"model":"sql-lora","n":1.0}');
  });

  it("overwrites spoofed headers and removes ones it does not set", async () => {
    const headers = chat({
      "x-gateway-model-name": "evil",
      "x-gateway-base-model-name": "evil",
      "x-gateway-destination-endpoint": "1.2.3.4:80",
    });
    const outcome = await route('{"model":"unknown-model"}', headers);
    if (outcome.kind !== "routed") throw new Error(outcome.kind);
    expect(outcome.headers).toEqual({
      set: { "x-gateway-model-name": "unknown-model", "x-gateway-model-target": "unknown-model" },
      remove: ["x-gateway-base-model-name", "x-gateway-destination-endpoint"],
    });
    expect(outcome.spoofed).toBe(3);
  });

  it("uses the sticky header for splits", async () => {
    const a = await route('{"model":"split"}', chat({ "x-session-id": "s1" }));
    const b = await route('{"model":"split"}', chat({ "x-session-id": "s1" }));
    expect(a.kind === "routed" && a.sticky).toBe(true);
    expect(a.kind === "routed" && b.kind === "routed" && a.target === b.target).toBe(true);
  });

  it("decodes a gzip body and sends the rewrite decoded", async () => {
    const outcome = await route(gzipSync('{"model":"fast"}'), chat({ "content-encoding": "gzip" }));
    if (outcome.kind !== "routed") throw new Error(outcome.kind);
    expect(new TextDecoder().decode(outcome.body)).toBe('{"model":"sql-lora"}');
    expect(outcome.headers.remove).toEqual(["content-encoding"]);
  });

  it.each([
    { name: "invalid JSON", text: '{"model":', expected: { kind: "rejected", status: 400, code: "invalid_json" } },
    { name: "array body", text: "[]", expected: { kind: "rejected", status: 400, code: "invalid_body" } },
    { name: "number model", text: '{"model":7}', expected: { kind: "rejected", status: 400, code: "invalid_model" } },
    {
      name: "duplicate model",
      text: '{"model":"a","model":"b"}',
      expected: { kind: "rejected", status: 400, code: "duplicate_model" },
    },
    {
      name: "control character",
      text: '{"model":"a\\nb"}',
      expected: { kind: "rejected", status: 400, code: "invalid_model" },
    },
    {
      name: "too long",
      text: `{"model":"${"m".repeat(1025)}"}`,
      expected: { kind: "rejected", status: 400, code: "invalid_model" },
    },
    {
      name: "missing model",
      text: '{"messages":[]}',
      expected: { kind: "passed", reason: "missing_model", remove: [] },
    },
    { name: "empty model", text: '{"model":""}', expected: { kind: "passed", reason: "empty_model", remove: [] } },
    { name: "empty body", text: "", expected: { kind: "passed", reason: "no_body", remove: [] } },
  ])("maps $name", async ({ text, expected }) => {
    expect(summary(await route(text))).toEqual(expected);
  });

  it("rejects a missing model when configured to", async () => {
    expect(summary(await route('{"x":1}', chat(), { missingModel: "reject" }))).toEqual({
      kind: "rejected",
      status: 400,
      code: "missing_model",
    });
  });

  it("accepts duplicate keys with last-wins semantics when configured to", async () => {
    const outcome = await route('{"model":"a","model":"b"}', chat(), { duplicateModel: "last" });
    expect(outcome.kind === "routed" && outcome.model).toBe("b");
  });

  it("rejects a body over the limit with 413, and a gzip bomb too", async () => {
    expect(summary(await route(`{"model":"m","p":"${"x".repeat(200)}"}`, chat(), { bodyLimitBytes: 100 }))).toEqual({
      kind: "rejected",
      status: 413,
      code: "request_too_large",
    });
    const bomb = gzipSync(`{"model":"m","p":"${"x".repeat(100_000)}"}`);
    expect(summary(await route(bomb, chat({ "content-encoding": "gzip" }), { bodyLimitBytes: 1000 }))).toEqual({
      kind: "rejected",
      status: 413,
      code: "request_too_large",
    });
  });

  it("routes a partial (BUFFERED_PARTIAL) body by a model before the cut and rewrites the prefix", async () => {
    const outcome = await makeRouter().routeBody({
      headers: chat(),
      body: body('{"model":"fast","messages":[{"content":"ab'),
      partial: true,
    });
    if (outcome.kind !== "routed") throw new Error(outcome.kind);
    expect(new TextDecoder().decode(outcome.body)).toBe('{"model":"sql-lora","messages":[{"content":"ab');
  });

  it("passes a partial body whose model is after the cut", async () => {
    const outcome = await makeRouter().routeBody({
      headers: chat(),
      body: body('{"messages":[{"content":"ab'),
      partial: true,
    });
    expect(summary(outcome)).toEqual({ kind: "passed", reason: "model_not_in_prefix", remove: [] });
  });

  it("rejects a partial compressed body with 413", async () => {
    const outcome = await makeRouter().routeBody({
      headers: chat({ "content-encoding": "gzip" }),
      body: gzipSync('{"model":"a"}').subarray(0, 10),
      partial: true,
    });
    expect(summary(outcome)).toEqual({ kind: "rejected", status: 413, code: "request_too_large" });
  });

  it("passes a body in an unsupported encoding without a model", async () => {
    expect(summary(await route('{"model":"a"}', chat({ "content-encoding": "zstd" })))).toEqual({
      kind: "passed",
      reason: "unsupported_content_encoding",
      remove: [],
    });
  });

  it("reports extraction time", async () => {
    const seconds: number[] = [];
    let t = 0;
    const router = createRequestRouter({
      config,
      models: createModelRouter({ routes: [] }),
      baseModels: undefined,
      now: () => (t += 0.5),
      onExtraction: (s) => seconds.push(s),
    });
    await router.routeBody({ headers: chat(), body: body('{"model":"a"}'), partial: false });
    expect(seconds).toEqual([0.5]);
  });
});

describe("createRequestRouter().routeHeaders()", () => {
  const router = makeRouter();

  it("asks for the body of a body-addressed request", () => {
    expect(router.routeHeaders(chat(), false)).toEqual({ kind: "needs-body", api: "chat_completions" });
  });

  it("passes a bodiless request, removing spoofed headers", () => {
    const headers = createHeaderMap({ ":method": "GET", ":path": "/v1/models", "x-gateway-model-name": "evil" });
    expect(summary(router.routeHeaders(headers, true))).toEqual({
      kind: "passed",
      reason: "no_body",
      remove: ["x-gateway-model-name"],
    });
  });

  it("rejects a declared content-length over the limit", () => {
    const headers = chat({ "content-length": String(17 * 1024 * 1024) });
    expect(summary(router.routeHeaders(headers, false))).toEqual({
      kind: "rejected",
      status: 413,
      code: "request_too_large",
    });
  });

  it("routes a Gemini path and rewrites the path for an alias", () => {
    const headers = createHeaderMap({
      ":method": "POST",
      ":path": "/v1beta/models/fast:streamGenerateContent?alt=sse",
    });
    const outcome = router.routeHeaders(headers, false);
    if (outcome.kind !== "routed") throw new Error(outcome.kind);
    expect(outcome.headers.set).toEqual({
      "x-gateway-model-name": "fast",
      "x-gateway-model-target": "sql-lora",
      "x-gateway-base-model-name": "llama-8b",
      ":path": "/v1beta/models/sql-lora:streamGenerateContent?alt=sse",
    });
  });
});
