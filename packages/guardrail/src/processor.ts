import {
  type AuthzDecision,
  type AuthzRequest,
  type BodyDecision,
  type BodyEvent,
  type ChunkDecision,
  type ChunkEvent,
  type DecodeError,
  decodeBody,
  type HeadersDecision,
  type HeadersEvent,
  type Processor,
  type StreamContext,
} from "@llm-callouts/ext-proc";
import { openAiErrorResponse } from "@llm-callouts/llm-api";
import type { Logger } from "pino";
import type { GuardrailConfig } from "./config.js";
import type { BodyOutcome, Guardrail, ResolvedPolicy, StreamWindows } from "./guardrail.js";
import type { GuardrailMetrics } from "./metrics.js";
import { createPlaceholderRegistry } from "./policy/placeholders.js";
import type { SseScanner } from "./scan/sse-scanner.js";

export interface ProcessorDeps {
  readonly config: GuardrailConfig;
  readonly guardrail: Guardrail;
  readonly metrics: GuardrailMetrics;
}

function modelOf(body: Uint8Array): string | undefined {
  // Cheap look for a top-level "model" without a second parse of large bodies.
  const head = new TextDecoder().decode(body.subarray(0, 4096));
  return /"model"\s*:\s*"([^"\\]{1,200})"/.exec(head)?.[1];
}

/** The reply to a request body the guardrail cannot decode (fail-closed templates). */
function unreadableBody(error: DecodeError) {
  switch (error.kind) {
    case "too-large":
      return openAiErrorResponse(
        413,
        "request_too_large",
        `The decoded request body exceeds ${error.limitBytes} bytes.`,
      );
    case "unsupported-encoding":
      return openAiErrorResponse(
        415,
        "unsupported_content_encoding",
        `content-encoding ${error.encoding} is not supported.`,
      );
    case "corrupt":
      return openAiErrorResponse(400, "corrupt_body", `The request body is not valid ${error.encoding}.`);
  }
}

function isTextual(contentType: string): boolean {
  return contentType === "" || /json|text\/|xml|x-ndjson/.test(contentType);
}

/** One processor per ext_proc stream: scans the request body whole, the response whole (JSON) or as SSE chunks. */
export function createGuardrailProcessor(deps: ProcessorDeps, context: StreamContext): Processor {
  const { config, guardrail, metrics } = deps;
  const registry = createPlaceholderRegistry();
  let policy: ResolvedPolicy | undefined;
  let scanner: SseScanner | undefined;
  let windows: StreamWindows | undefined;
  let streamSeconds = 0;

  const resolve = (model: string | undefined): ResolvedPolicy => {
    const headers = context.requestHeaders;
    policy = guardrail.resolve({
      path: headers?.get(":path"),
      model: model ?? headers?.get(config.modelHeader),
      tenant: headers?.get(config.tenantHeader),
    });
    return policy;
  };
  const record = (outcome: Omit<BodyOutcome, "body" | "respond">, seconds: number, log: Logger): void => {
    metrics.decision(outcome.inspection, seconds);
    if (config.audit.enabled) log.info(outcome.audit, "guardrail decision");
  };
  const metadata = (outcome: Omit<BodyOutcome, "body" | "respond">) => ({
    [config.metadataNamespace]: { [outcome.inspection.direction]: outcome.verdict },
  });

  return {
    onRequestHeaders(event: HeadersEvent): HeadersDecision | undefined {
      const p = resolve(undefined);
      // The summary header is ours: a client-sent copy must never reach the upstream.
      const headers = event.headers.has(config.summaryHeader) ? { remove: [config.summaryHeader] } : undefined;
      if (event.endOfStream) return headers ? { headers } : undefined;
      return { body: p.template.directions.request ? "whole" : "pass", ...(headers ? { headers } : {}) };
    },

    async onRequestBody(event: BodyEvent): Promise<BodyDecision | undefined> {
      const started = performance.now();
      // An encoded body is read decoded: gzip must not be a way around the scan.
      const encoding = context.requestHeaders?.get("content-encoding");
      let body = event.body;
      let decoded = false;
      if (encoding !== undefined) {
        const result = await decodeBody(event.body, encoding, config.maxDecodedBodyBytes);
        if ("error" in result) {
          const p = resolve(undefined);
          if (!p.template.directions.request) return undefined;
          context.log.warn({ encoding, problem: result.error.kind }, "guardrail cannot read the request body");
          if (p.template.failMode === "open") return undefined;
          return { respond: unreadableBody(result.error) };
        }
        ({ value: body, decoded } = result);
      }
      const p = resolve(modelOf(body));
      if (!p.template.directions.request) return undefined;
      const outcome = await guardrail.inspectRequestBody(body, p, registry, context.requestId);
      record(outcome, (performance.now() - started) / 1000, context.log);
      const common = {
        dynamicMetadata: metadata(outcome),
        headers: { set: { [config.summaryHeader]: outcome.summary } },
      };
      if (outcome.respond) return { respond: outcome.respond, dynamicMetadata: common.dynamicMetadata };
      if (outcome.body === undefined) return common;
      // A changed (redacted) body goes upstream decoded, so its encoding header goes too.
      const headers = decoded ? { ...common.headers, remove: ["content-encoding"] } : common.headers;
      return { ...common, headers, replaceBody: outcome.body };
    },

    onResponseHeaders(event: HeadersEvent): HeadersDecision | undefined {
      const p = policy ?? resolve(undefined);
      if (event.endOfStream || !p.template.directions.response) return { body: "pass" };
      const contentType = (event.headers.get("content-type") ?? "").toLowerCase();
      const encoding = (event.headers.get("content-encoding") ?? "identity").toLowerCase();
      if (encoding !== "identity" || !isTextual(contentType)) {
        context.log.info({ contentType, encoding }, "guardrail skips undecodable response");
        return { body: "pass" };
      }
      if (contentType.includes("text/event-stream")) {
        scanner = guardrail.createStreamScanner(p, registry);
        windows = guardrail.createStreamWindows(p);
        return { body: "chunks" };
      }
      return { body: "whole" };
    },

    async onResponseBody(event: BodyEvent): Promise<BodyDecision | undefined> {
      const p = policy ?? resolve(undefined);
      if (event.partial) {
        // A STREAMED answer past the SDK's hold limit: only its first part is here and the rest
        // would pass unseen. Fail-closed templates cut it off; fail-open ones inspect the part.
        context.log.warn({ bytes: event.body.length }, "response outgrew the inspection limit");
        if (p.template.failMode === "closed") {
          return {
            respond: openAiErrorResponse(
              502,
              "response_too_large",
              "The response exceeds the size the guardrail inspects.",
              {
                type: "server_error",
              },
            ),
          };
        }
      }
      const started = performance.now();
      const outcome = await guardrail.inspectResponseBody(event.body, p, registry, context.requestId);
      record(outcome, (performance.now() - started) / 1000, context.log);
      const dynamicMetadata = metadata(outcome);
      if (outcome.respond) return { respond: outcome.respond, dynamicMetadata };
      const headers = { set: { [config.summaryHeader]: outcome.summary } };
      return outcome.body !== undefined
        ? { replaceBody: outcome.body, headers, dynamicMetadata }
        : { headers, dynamicMetadata };
    },

    async onResponseBodyChunk(event: ChunkEvent): Promise<ChunkDecision> {
      const p = policy ?? resolve(undefined);
      if (!scanner) return { emit: event.data };
      const wasBlocked = scanner.blocked;
      const started = performance.now();
      const step = scanner.push(event.data, event.endOfStream);
      let emit = step.emit;
      const seconds = (performance.now() - started) / 1000;
      streamSeconds += seconds;
      metrics.chunk(seconds);
      if (windows && !scanner.blocked) {
        // Remote backends see the answer window by window; their block replaces what is still held.
        const remoteStarted = performance.now();
        const verdict = await windows.check(step.appended, event.endOfStream);
        streamSeconds += (performance.now() - remoteStarted) / 1000;
        if (verdict.block) emit = scanner.block(verdict.spans);
        else scanner.record(verdict.spans);
      }
      if ((scanner.blocked && !wasBlocked) || (event.endOfStream && !wasBlocked)) {
        const outcome = guardrail.streamOutcome(p, scanner, streamSeconds * 1000, context.requestId, windows);
        record(outcome, streamSeconds, context.log);
        return { emit, carry: "", dynamicMetadata: metadata(outcome) };
      }
      return { emit, carry: "" };
    },
  };
}

/** ext_authz Check with the request-side detectors (`with_request_body` required to see the prompt). */
export async function authorizeRequest(
  deps: ProcessorDeps,
  request: AuthzRequest,
  log: Logger,
  requestId: string | undefined,
): Promise<AuthzDecision> {
  const { config, guardrail, metrics } = deps;
  const started = performance.now();
  const policy = guardrail.resolve({
    path: request.path,
    model: request.headers.get(config.modelHeader),
    tenant: request.headers.get(config.tenantHeader),
  });
  const outcome = await guardrail.inspectRequestBody(
    request.body ?? new Uint8Array(),
    policy,
    createPlaceholderRegistry(),
    requestId,
  );
  metrics.decision(outcome.inspection, (performance.now() - started) / 1000);
  if (config.audit.enabled) log.info(outcome.audit, "guardrail decision");
  const dynamicMetadata = { [config.metadataNamespace]: outcome.verdict };
  if (outcome.respond) {
    const body = outcome.respond.body;
    return {
      allow: false,
      status: outcome.respond.status,
      headers: { "content-type": "application/json", [config.summaryHeader]: outcome.summary },
      body: typeof body === "string" ? body : new TextDecoder().decode(body),
      dynamicMetadata,
    };
  }
  // ext_authz cannot rewrite the body: redactions are reported, not applied.
  return { allow: true, headers: { set: { [config.summaryHeader]: outcome.summary } }, dynamicMetadata };
}
