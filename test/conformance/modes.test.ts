import type { ExchangeResult, FilterConfig } from "@llm-callouts/envoy-emulator";
import type { BodyMode, HeaderSendMode } from "@llm-callouts/ext-proc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, pattern, split, startEcho, text } from "./harness.js";

/**
 * The conformance matrix: every body mode x header mode x body shape, through the
 * real server and the Envoy-faithful client, for a pass-through processor and for
 * processors that rewrite bodies (whole and chunk handling).
 */

const bodyModes: BodyMode[] = ["NONE", "BUFFERED", "BUFFERED_PARTIAL", "STREAMED", "FULL_DUPLEX_STREAMED"];
const headerModes: HeaderSendMode[] = ["SEND", "SKIP"];
const megabyte = pattern(1024 * 1024);
const bodies = {
  "no body": undefined,
  "empty body": [] as Uint8Array[],
  "small body": [Buffer.from("hello ext_proc")],
  "1 MB in 17 chunks": split(megabyte, 17),
} as const;

type BodyName = keyof typeof bodies;

const cases = bodyModes.flatMap((bodyMode) =>
  headerModes.flatMap((headerMode) =>
    (Object.keys(bodies) as BodyName[]).map((body) => ({
      name: `${bodyMode} / headers ${headerMode} / ${body}`,
      bodyMode,
      headerMode,
      body,
    })),
  ),
);

function filter(bodyMode: BodyMode, headerMode: HeaderSendMode, extra: Partial<FilterConfig> = {}): FilterConfig {
  return {
    processingMode: {
      requestHeaderMode: headerMode,
      requestBodyMode: bodyMode,
      // Envoy requires trailer SEND with FULL_DUPLEX_STREAMED.
      requestTrailerMode: bodyMode === "FULL_DUPLEX_STREAMED" ? "SEND" : "SKIP",
      responseHeaderMode: "SKIP",
    },
    bufferLimitBytes: 4 * 1024 * 1024,
    messageTimeoutMs: 2000,
    ...extra,
  };
}

function expectOneReplyPerMessage(result: ExchangeResult, bodyMode: BodyMode) {
  const sent = result.trace.filter((t) => t.dir === "sent").length;
  const received = result.trace.filter((t) => t.dir === "received").length;
  if (bodyMode !== "FULL_DUPLEX_STREAMED") expect(received).toBe(sent);
  for (const entry of result.trace.filter((t) => t.dir === "received")) {
    const body = JSON.stringify(entry.message);
    // Values only in raw_value; never `value` (GCP ignores it, Envoy errors on both).
    expect(body).not.toMatch(/"value":"[^"]/);
  }
}

function expectLengthConsistent(result: ExchangeResult) {
  const length = result.upstream?.headers.find(([n]) => n === "content-length")?.[1];
  if (length !== undefined) expect(Number(length)).toBe(result.upstream!.body.length);
}

describe.each(["lean", "connect"] as const)("conformance: pass-through (%s transport)", (processTransport) => {
  let echo: EchoServer;
  beforeAll(async () => {
    echo = await startEcho({}, { processTransport });
  });
  afterAll(() => echo.close());

  it.each(cases)("$name", async ({ bodyMode, headerMode, body }) => {
    const chunks = bodies[body];
    const result = await echo.client.exchange(filter(bodyMode, headerMode), {
      request: { headers: { ":path": "/v1/chat/completions" }, body: chunks },
      trace: true,
    });
    expect(result.error).toBeUndefined();
    expect(result.downstream.status).toBe(200);
    const expected = chunks ? Buffer.concat(chunks) : Buffer.alloc(0);
    expect(Buffer.compare(Buffer.from(result.upstream!.body), expected)).toBe(0);
    expectOneReplyPerMessage(result, bodyMode);
    expectLengthConsistent(result);
  });
});

describe("conformance: whole-body rewrite", () => {
  let echo: EchoServer;
  const replacement = `{"rewritten":true,"pad":"${"x".repeat(70_000)}"}`;
  beforeAll(async () => {
    echo = await startEcho({ replaceBody: { request: replacement } });
  });
  afterAll(() => echo.close());

  const rewriting = cases.filter((c) => c.bodyMode !== "NONE" && c.body !== "no body");
  it.each(rewriting)("$name", async ({ bodyMode, headerMode, body }) => {
    const chunks = bodies[body];
    const result = await echo.client.exchange(filter(bodyMode, headerMode), {
      request: { headers: { ":path": "/v1/chat/completions" }, body: chunks },
      trace: true,
    });
    expect(result.error).toBeUndefined();
    expect(text(result.upstream!.body)).toBe(replacement);
    expectOneReplyPerMessage(result, bodyMode);
    expectLengthConsistent(result);
    if (bodyMode === "FULL_DUPLEX_STREAMED") {
      // Re-emitted as streamed_response chunks of at most 62,000 bytes, EoS once.
      const replies = result.trace.filter((t) => t.kind === "requestBody" && t.dir === "received");
      expect(replies.length).toBe(Math.ceil(replacement.length / 62_000));
      // The held headers reply carries the new length, but Envoy removes content-length in
      // duplex and skips setting it (ProcessorState::shouldRemoveContentLength) unless
      // allow_content_length_header is on (next test).
      expect(result.upstream!.headers.some(([n]) => n === "content-length")).toBe(false);
      if (headerMode === "SEND") {
        const held = result.trace.find((t) => t.kind === "requestHeaders" && t.dir === "received");
        expect(JSON.stringify(held?.message)).toContain('"key":"content-length"');
      }
    }
  });

  it.each(rewriting.filter((c) => c.bodyMode === "FULL_DUPLEX_STREAMED" && c.headerMode === "SEND"))(
    "$name with allow_content_length_header: the new length reaches the upstream",
    async ({ bodyMode, headerMode, body }) => {
      const result = await echo.client.exchange(
        { ...filter(bodyMode, headerMode), allowContentLengthHeader: true },
        { request: { headers: { ":path": "/v1/chat/completions" }, body: bodies[body] } },
      );
      expect(result.error).toBeUndefined();
      expect(text(result.upstream!.body)).toBe(replacement);
      expect(result.upstream!.headers).toContainEqual(["content-length", String(replacement.length)]);
    },
  );
});

describe("conformance: chunk rewrite with carry-over", () => {
  let echo: EchoServer;
  beforeAll(async () => {
    echo = await startEcho({
      bodyHandling: { request: "chunks", response: "whole" },
      uppercaseChunks: true,
      carryBytes: 5,
    });
  });
  afterAll(() => echo.close());

  const chunked = cases.filter((c) => c.bodyMode !== "NONE" && c.body !== "no body");
  it.each(chunked)("$name", async ({ bodyMode, headerMode, body }) => {
    const chunks = bodies[body];
    const result = await echo.client.exchange(filter(bodyMode, headerMode), {
      request: { headers: { ":path": "/v1/completions" }, body: chunks },
      trace: true,
    });
    expect(result.error).toBeUndefined();
    expect(text(result.upstream!.body)).toBe(text(Buffer.concat(chunks ?? [])).toUpperCase());
    expectOneReplyPerMessage(result, bodyMode);
    expectLengthConsistent(result);
  });
});

describe("conformance: response direction", () => {
  let echo: EchoServer;
  beforeAll(async () => {
    echo = await startEcho({
      bodyHandling: { request: "pass", response: "chunks" },
      uppercaseChunks: true,
      carryBytes: 3,
    });
  });
  afterAll(() => echo.close());

  it.each(bodyModes.filter((m) => m !== "NONE"))("rewrites a 1 MB response in %s", async (mode) => {
    const result = await echo.client.exchange(
      {
        processingMode: {
          responseBodyMode: mode,
          responseTrailerMode: mode === "FULL_DUPLEX_STREAMED" ? "SEND" : "SKIP",
        },
        bufferLimitBytes: 4 * 1024 * 1024,
        messageTimeoutMs: 2000,
      },
      {
        request: { headers: { ":method": "GET", ":path": "/" } },
        upstream: { headers: { ":status": "200", "content-type": "text/plain" }, body: split(megabyte, 17) },
        trace: true,
      },
    );
    expect(result.error).toBeUndefined();
    expect(result.downstream.status).toBe(200);
    expect(text(result.downstream.body)).toBe(text(megabyte).toUpperCase());
    expectOneReplyPerMessage(result, mode);
  });
});
