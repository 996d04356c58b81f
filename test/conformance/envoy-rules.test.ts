import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { FilterConfig } from "@llm-callouts/envoy-emulator";
import type { BodyEvent, Processor, Service, StreamOutcome } from "@llm-callouts/ext-proc";
import { ProcessingRequestSchema } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { describe, expect, it } from "vitest";
import { startEcho, startWith, text } from "./harness.js";

// The SDK driven the way Envoy's ext_proc filter behaves (envoy main, December 2025:
// source/extensions/filters/http/ext_proc/{ext_proc.cc,processor_state.cc,mutation_utils.cc,
// allowed_override_modes_set.h}); each case names the function whose rule it exercises.

const cacheLike: FilterConfig = {
  processingMode: {
    requestHeaderMode: "SEND",
    responseHeaderMode: "SEND",
    requestBodyMode: "BUFFERED",
    responseBodyMode: "NONE",
    requestTrailerMode: "SKIP",
    responseTrailerMode: "SKIP",
  },
  allowModeOverride: true,
  messageTimeoutMs: 2000,
};

const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";
const headersOnly = toBinary(
  ProcessingRequestSchema,
  create(ProcessingRequestSchema, { request: { case: "requestHeaders", value: { endOfStream: true } } }),
);

const answer = { headers: { ":status": "200" }, body: ["orig", "inal"] };

describe("mode_override (Filter::onReceiveMessage, effectiveModeOverride, AllowedOverrideModesSet)", () => {
  it("drops an override whose filled-in mode is not listed exactly: DEFAULT fields in the allow-list match nothing", async () => {
    const echo = await startEcho({
      bodyHandling: { request: "pass", response: "whole" },
      replaceBody: { response: "changed" },
      responseBodyOverride: "BUFFERED",
    });
    try {
      // The entries deploy/envoy/envoy.yaml shipped before: response_header_mode and the trailer
      // modes left DEFAULT while the filter says SEND/SKIP/SKIP.
      const stale = await echo.client.exchange(
        { ...cacheLike, allowedOverrideModes: [{ requestBodyMode: "BUFFERED", responseBodyMode: "BUFFERED" }] },
        { request: { headers: {}, body: ["q"] }, upstream: answer },
      );
      expect(stale.modeOverridesIgnored).toEqual(["not_in_allowed_override_modes"]);
      expect(text(stale.downstream.body)).toBe("original");

      const exact = await echo.client.exchange(
        {
          ...cacheLike,
          allowedOverrideModes: [
            {
              responseHeaderMode: "SEND",
              requestBodyMode: "BUFFERED",
              responseBodyMode: "BUFFERED",
              requestTrailerMode: "SKIP",
              responseTrailerMode: "SKIP",
            },
          ],
        },
        { request: { headers: {}, body: ["q"] }, upstream: answer },
      );
      expect(exact.modeOverridesIgnored).toEqual([]);
      expect(exact.error).toBeUndefined();
      expect(text(exact.downstream.body)).toBe("changed");
    } finally {
      await echo.close();
    }
  });

  it("under a FULL_DUPLEX_STREAMED filter the SDK neither sends nor applies an override", async () => {
    const echo = await startEcho({
      bodyHandling: { request: "pass", response: "whole" },
      replaceBody: { response: "changed" },
      responseBodyOverride: "BUFFERED",
    });
    try {
      // (a) duplex both ways: applying the override would answer with body mutations, spurious in duplex.
      const both = await echo.client.exchange(
        {
          ...cacheLike,
          processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", responseBodyMode: "FULL_DUPLEX_STREAMED" },
        },
        { request: { headers: {}, body: ["q"] }, upstream: answer, trace: true },
      );
      expect(both.error).toBeUndefined();
      expect(text(both.downstream.body)).toBe("changed");
      const replies = both.trace.filter((t) => t.dir === "received" && t.kind === "responseHeaders");
      expect(JSON.stringify(replies)).not.toContain("modeOverride");
    } finally {
      await echo.close();
    }
  });

  it("request FULL_DUPLEX + response STREAMED (the GCP/GKE cache modes): a multi-chunk answer reaches the processor whole", async () => {
    const seen: string[] = [];
    const service: Service = {
      name: "cache-like",
      processor: (): Processor => ({
        onRequestHeaders: () => ({ body: "pass" }),
        onResponseHeaders: () => ({ modeOverride: { responseBody: "BUFFERED" }, body: "whole" }),
        onResponseBody: ({ body }: BodyEvent) => {
          seen.push(text(body));
          return { replaceBody: text(body).toUpperCase() };
        },
      }),
    };
    const s = await startWith(service);
    try {
      const result = await s.client.exchange(
        {
          ...cacheLike,
          processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", responseBodyMode: "STREAMED" },
        },
        {
          request: { headers: {}, body: ["q"] },
          upstream: { headers: { ":status": "200" }, body: ["ab", "cd", "ef"] },
        },
      );
      expect(result.error).toBeUndefined();
      expect(seen).toEqual(["abcdef"]);
      expect(text(result.downstream.body)).toBe("ABCDEF");
    } finally {
      await s.close();
    }
  });
});

describe("clear_route_cache (DecodingProcessorState::clearRouteCache)", () => {
  it("the SDK always pairs it with a header mutation, so Envoy honours it", async () => {
    const echo = await startEcho({ clearRouteCache: true, bodyHandling: { request: "pass", response: "pass" } });
    try {
      const result = await echo.client.exchange({}, { request: { headers: {} }, trace: true });
      expect(result.routeCacheCleared).toBe(true);
      expect(result.clearRouteCacheIgnored).toBe(0);
      const retained = await echo.client.exchange({ routeCacheAction: "RETAIN" }, { request: { headers: {} } });
      expect(retained.routeCacheCleared).toBe(false);
      expect(retained.clearRouteCacheIgnored).toBe(1);
    } finally {
      await echo.close();
    }
  });
});

describe("header mutations (MutationUtils::applyHeaderMutations, Filter::handleErrorResponse)", () => {
  const mutating = (set: Record<string, string>, remove: string[] = []): Service => ({
    name: "mutating",
    processor: (): Processor => ({ onRequestHeaders: () => ({ headers: { set, remove } }) }),
  });

  it("a rejected mutation answers status_on_error even with failure_mode_allow", async () => {
    // 101 set_headers entries: over max_headers_count (100).
    const set = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${i}`, "v"]));
    const s = await startWith(mutating(set));
    try {
      const result = await s.client.exchange(
        { failureModeAllow: true, statusOnError: 503 },
        { request: { headers: {} } },
      );
      expect(result.error).toMatchObject({ kind: "mutation", failedOpen: false });
      expect(result.downstream.status).toBe(503);
      expect(result.upstream).toBeUndefined();
    } finally {
      await s.close();
    }
  });
});

describe("stream close (ProcessorStreamImpl::close: half-close, then reset)", () => {
  it("a stream Envoy half-closes and then resets after the last reply is a completed stream, not an abort", async () => {
    const ends: StreamOutcome[] = [];
    const s = await startWith({
      name: "ends",
      processor: (): Processor => ({ onStreamEnd: (end) => void ends.push(end) }),
    });
    try {
      const result = await s.client.exchange({}, { request: { headers: {} } });
      expect(result.error).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // `completed` stays false: with response body NONE the SDK never sees the response end.
      expect(ends).toEqual([{ aborted: false, respondedImmediately: false, completed: false }]);
    } finally {
      await s.close();
    }
  });

  it("half-close + reset after the last reply is clean; a reset mid-call is an abort; both streams end", async () => {
    const ends: StreamOutcome[] = [];
    const s = await startWith({
      name: "busy",
      processor: (): Processor => ({
        onStreamEnd: (end) => void ends.push(end),
        onRequestHeaders: async () => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          return {};
        },
      }),
    });
    const raw = new grpc.Client(`127.0.0.1:${s.server.port}`, grpc.credentials.createInsecure());
    const open = () => {
      const call = raw.makeBidiStreamRequest(
        processPath,
        (m: Uint8Array) => Buffer.from(m),
        (b: Buffer) => b,
      );
      call.on("error", () => {});
      call.on("data", () => {});
      call.write(headersOnly);
      return call;
    };
    const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
    try {
      open().end(); // warm the connection
      await settle();
      ends.length = 0;
      // With ext_proc_stream_close_optimization Envoy closes right after the last reply it expects.
      const closed = open();
      await new Promise((resolve) => closed.once("data", resolve));
      closed.end();
      closed.cancel();
      await settle();
      const reset = open();
      await new Promise((resolve) => setTimeout(resolve, 10));
      reset.cancel();
      await settle();
      expect(ends.map((e) => e.aborted)).toEqual([false, true]);
      const metrics = await fetch(`http://127.0.0.1:${s.server.adminPort}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/streams_active\{[^}]*\} 0/);
    } finally {
      raw.close();
      await s.close();
    }
  });
});

describe("STREAMED watermark (ProcessorState::enqueueStreamingChunk / clearWatermark)", () => {
  const wholeStreamed = (seen: { partial: boolean; bytes: number }[]): Service => ({
    name: "whole-streamed",
    processor: (): Processor => ({
      onRequestHeaders: () => ({ body: "pass" }),
      onResponseHeaders: () => ({ body: "whole" }),
      onResponseBody: ({ body, partial }: BodyEvent) => {
        seen.push({ partial, bytes: body.length });
        return {};
      },
    }),
  });
  const big = Array.from({ length: 8 }, () => new Uint8Array(16 * 1024).fill(97));
  const config: FilterConfig = {
    processingMode: { responseBodyMode: "STREAMED" },
    bufferLimitBytes: 64 * 1024,
    messageTimeoutMs: 300,
  };

  it("whole-body handling past the hold limit hands over what arrived and passes the rest", async () => {
    const seen: { partial: boolean; bytes: number }[] = [];
    const s = await startWith(wholeStreamed(seen), { streamedHoldBytes: 64 * 1024 });
    try {
      const result = await s.client.exchange(config, {
        request: { headers: {} },
        upstream: { headers: { ":status": "200" }, body: big },
      });
      expect(result.error).toBeUndefined();
      expect(result.downstream.body.length).toBe(128 * 1024);
      expect(seen).toEqual([{ partial: true, bytes: 80 * 1024 }]);
    } finally {
      await s.close();
    }
  });

  it("without the bound Envoy stops reading and the message timer fires (what the bound prevents)", async () => {
    const seen: { partial: boolean; bytes: number }[] = [];
    const s = await startWith(wholeStreamed(seen), { streamedHoldBytes: 1024 * 1024 });
    try {
      const result = await s.client.exchange(config, {
        request: { headers: {} },
        upstream: { headers: { ":status": "200" }, body: big },
      });
      expect(result.error?.kind).toBe("timeout");
      expect(seen).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe("attributes (request_attributes / response_attributes)", () => {
  it("response attributes join the request ones under the same filter key instead of replacing them", async () => {
    const seen: unknown[] = [];
    const s = await startWith({
      name: "attrs",
      processor: (ctx): Processor => ({
        onResponseHeaders: () => {
          seen.push(ctx.attributes);
          return {};
        },
      }),
    });
    const raw = new grpc.Client(`127.0.0.1:${s.server.port}`, grpc.credentials.createInsecure());
    try {
      const call = raw.makeBidiStreamRequest(
        processPath,
        (m: Uint8Array) => Buffer.from(m),
        (b: Buffer) => b,
      );
      call.on("error", () => {});
      const replies: Buffer[] = [];
      const two = new Promise<void>((resolve) =>
        call.on("data", (b: Buffer) => {
          replies.push(b);
          if (replies.length === 2) resolve();
        }),
      );
      const key = "envoy.filters.http.ext_proc";
      const message = (phase: "requestHeaders" | "responseHeaders", attributes: Record<string, unknown>) =>
        toBinary(
          ProcessingRequestSchema,
          create(ProcessingRequestSchema, {
            request: { case: phase, value: { endOfStream: true } },
            attributes: { [key]: attributes as never },
          }),
        );
      call.write(message("requestHeaders", { "request.path": "/v1/chat" }));
      call.write(message("responseHeaders", { "response.code": 200 }));
      await two;
      call.end();
      expect(seen).toEqual([{ [key]: { "request.path": "/v1/chat", "response.code": 200 } }]);
    } finally {
      raw.close();
      await s.close();
    }
  });
});
