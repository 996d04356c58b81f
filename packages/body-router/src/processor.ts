import type {
  BodyDecision,
  DynamicMetadata,
  HeadersDecision,
  ImmediateResponse,
  Processor,
  ProcessorFactory,
  StreamContext,
} from "@llm-callouts/ext-proc";
import { openAiErrorResponse } from "@llm-callouts/llm-api";
import type { BodyRouterConfig } from "./config.js";
import type { BodyRouterMetrics } from "./metrics.js";
import type { HeaderLookup, RequestRouter, RouteOutcome } from "./request-router.js";

/**
 * Protocol glue: request headers and the whole request body go to the RequestRouter;
 * its outcome becomes header changes (overwrite semantics), clear_route_cache, dynamic
 * metadata, a replaced body, or an OpenAI-style local reply. Response phases are never
 * touched. Nothing thrown escapes: an internal fault passes the request on with the
 * gateway-owned headers removed (and is logged and counted).
 */

export interface BodyRouterProcessorOptions {
  readonly config: BodyRouterConfig;
  readonly router: RequestRouter;
  readonly metrics: BodyRouterMetrics;
}

export function createBodyRouterProcessor(options: BodyRouterProcessorOptions): ProcessorFactory {
  const { config, router, metrics } = options;
  const owned = [config.headers.model, config.headers.target, config.headers.baseModel, ...config.stripHeaders];

  function record(context: StreamContext, outcome: RouteOutcome): void {
    switch (outcome.kind) {
      case "routed":
        metrics.request(outcome.api, "routed", outcome.model, outcome.target);
        metrics.spoofedHeaders(outcome.spoofed);
        context.log.debug(
          { api: outcome.api, model: outcome.model, target: outcome.target, baseModel: outcome.baseModel },
          "request routed",
        );
        return;
      case "passed":
        metrics.request(outcome.api, "passed");
        metrics.spoofedHeaders(outcome.spoofed);
        if (outcome.reason !== "no_body") metrics.error(outcome.reason);
        context.log.debug({ api: outcome.api, reason: outcome.reason }, "request passed without a model");
        return;
      case "rejected":
        metrics.request(outcome.api, "rejected");
        metrics.error(outcome.error.code);
        // Client faults log at info; the message never quotes the body.
        context.log.info(
          { api: outcome.api, status: outcome.error.status, code: outcome.error.code },
          "request rejected",
        );
        return;
      case "needs-body":
        return;
    }
  }

  /** The decision parts shared by header and body replies. */
  function decide(outcome: RouteOutcome): BodyDecision {
    switch (outcome.kind) {
      case "routed":
        return {
          headers: { set: outcome.headers.set, remove: outcome.headers.remove },
          clearRouteCache: true,
          dynamicMetadata: metadata(outcome),
          ...(outcome.body ? { replaceBody: outcome.body } : {}),
        };
      case "passed":
        return outcome.headers.remove.length > 0
          ? { headers: { remove: outcome.headers.remove }, clearRouteCache: true }
          : {};
      case "rejected":
        return { respond: localReply(outcome) };
      case "needs-body":
        return {};
    }
  }

  function metadata(outcome: Extract<RouteOutcome, { kind: "routed" }>): DynamicMetadata {
    const fields: Record<string, string> = { api: outcome.api, model: outcome.model, target: outcome.target };
    if (outcome.baseModel !== undefined) fields.baseModel = outcome.baseModel;
    return { [config.metadataNamespace]: fields };
  }

  function fault(context: StreamContext, headers: HeaderLookup, phase: string, cause: unknown): BodyDecision {
    metrics.error("internal");
    context.log.error({ phase, err: cause }, "body router fault, passing the request on");
    const remove = owned.filter((name) => headers.has(name));
    return remove.length > 0 ? { headers: { remove }, clearRouteCache: true } : {};
  }

  return (context) =>
    ({
      onRequestHeaders({ headers, endOfStream }): HeadersDecision {
        try {
          const outcome = router.routeHeaders(headers, endOfStream);
          record(context, outcome);
          if (outcome.kind === "needs-body") return { body: "whole" };
          const { replaceBody: _, ...decision } = decide(outcome);
          return outcome.kind === "rejected" ? decision : { ...decision, body: "pass" };
        } catch (cause) {
          return { ...fault(context, headers, "requestHeaders", cause), body: "pass" };
        }
      },
      async onRequestBody({ body, headers, partial }): Promise<BodyDecision> {
        try {
          const outcome = await router.routeBody({ headers, body, partial });
          record(context, outcome);
          return decide(outcome);
        } catch (cause) {
          return fault(context, headers, "requestBody", cause);
        }
      },
    }) satisfies Processor;
}

function localReply(outcome: Extract<RouteOutcome, { kind: "rejected" }>): ImmediateResponse {
  const { status, code, message } = outcome.error;
  return openAiErrorResponse(status, code, message, { type: "invalid_request_error", details: `body_router_${code}` });
}
