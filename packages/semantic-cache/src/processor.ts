import type {
  BodyEvent,
  BodyMode,
  ChunkEvent,
  HeadersDecision,
  HeadersEvent,
  ImmediateResponse,
  Processor,
  StreamContext,
} from "@llm-callouts/ext-proc";
import { tenantOf } from "./cache-key.js";
import { decidePolicy, responseForbidsStore } from "./cache-policy.js";
import { parseChatRequest } from "./chat-request.js";
import { parseCompletionJson } from "./completion-parser.js";
import type { SemanticCacheConfig } from "./config.js";
import type { CacheMetrics } from "./metrics.js";
import { renderJson, renderSse } from "./replay.js";
import type { FillTicket, LookupOutcome, SemanticCache } from "./semantic-cache.js";
import { createSseAssembler, type SseAssembler } from "./sse-assembler.js";
import type { StoredCompletion } from "./stored-completion.js";

/** What one processor needs; shared by all streams of the service. */
export interface CacheProcessorOptions {
  readonly config: SemanticCacheConfig;
  readonly cache: SemanticCache;
  readonly metrics: CacheMetrics;
  readonly now?: () => number;
}

type Status = "HIT-EXACT" | "HIT-SEMANTIC" | "MISS" | "BYPASS";

/**
 * Protocol glue, per stream. Request body (BUFFERED, `whole`) -> lookup -> immediate
 * response on a hit. On a miss the response-headers reply asks, by mode override,
 * for the response body (BUFFERED for JSON, STREAMED for SSE) so hits and bypasses
 * cost no response traffic; SSE chunks pass through at once while being assembled;
 * only a complete 200 answer is stored.
 */
/**
 * Every response body mode the cache asks Envoy for with `mode_override` on response headers:
 * nothing to store, an SSE answer to assemble chunk by chunk, a JSON answer to store whole. A
 * filter's `allowed_override_modes` must admit each (deploy tests check the shipped configs);
 * under a FULL_DUPLEX_STREAMED filter Envoy ignores them and the SDK handles the configured mode.
 */
export const responseBodyOverrides = { skip: "NONE", sse: "STREAMED", json: "BUFFERED" } as const satisfies Record<
  string,
  BodyMode
>;

export function createCacheProcessorFactory(options: CacheProcessorOptions): (ctx: StreamContext) => Processor {
  const { config, cache, metrics } = options;
  const now = options.now ?? Date.now;
  const statusHeader = config.headers.status;

  return (ctx) => {
    let status: Status | undefined;
    let ticket: FillTicket | undefined;
    let assembler: SseAssembler | undefined;

    const bypass = (reason: string): undefined => {
      status = "BYPASS";
      metrics.bypasses.inc({ reason });
      metrics.lookups.inc({ result: "bypass" });
      return undefined;
    };
    const fill = async (completion: StoredCompletion | undefined): Promise<void> => {
      const current = ticket;
      ticket = undefined;
      if (!current) return;
      if (!completion) {
        metrics.fills.inc({ outcome: "incomplete" });
        return;
      }
      const outcome = await cache.fill(current, completion);
      metrics.fills.inc({ outcome: outcome.replace("-", "_") });
    };

    return {
      async onRequestHeaders({ headers }: HeadersEvent): Promise<HeadersDecision | undefined> {
        const token = headers.get(config.headers.purge);
        if (token === undefined || config.purgeToken === "") return undefined;
        if (token !== config.purgeToken) return { respond: jsonReply(403, { error: "invalid purge token" }) };
        const tenant = tenantOf(headers, config.tenant);
        if (tenant === undefined) return { respond: jsonReply(400, { error: "ambiguous tenant: header repeated" }) };
        const purged = await cache.purge(tenant);
        return { respond: jsonReply(purged ? 200 : 503, { purged }) };
      },

      async onRequestBody({ body, headers }: BodyEvent) {
        const started = performance.now();
        if (body.length > config.maxRequestBytes) return bypass("too-large");
        const parsed = parseChatRequest(body);
        if ("error" in parsed) return bypass("malformed");
        const request = parsed.value;
        const policy = decidePolicy(headers, request, {
          bypassHeader: config.headers.bypass,
          maxTemperature: config.maxTemperature,
          maxSemanticTurns: config.maxSemanticTurns,
          semantic: config.semantic,
        });
        if (!policy.lookup && !policy.store) return bypass(policy.reason ?? "policy");
        const tenant = tenantOf(headers, config.tenant);
        if (tenant === undefined) return bypass("ambiguous-tenant");
        const outcome = await cache.lookup({
          request,
          tenant,
          semantic: policy.semantic,
          lookup: policy.lookup,
        });
        if (policy.reason === "no-cache") metrics.bypasses.inc({ reason: "no-cache" });
        const result = outcome.status.toLowerCase().replace("-", "_");
        metrics.lookups.inc({ result });
        metrics.lookupDuration.observe({ result }, (performance.now() - started) / 1000);
        status = outcome.status;
        if (outcome.status === "MISS") {
          ticket = policy.store ? outcome.ticket : undefined;
          return undefined;
        }
        ctx.log.debug({ status: outcome.status }, "cache hit");
        return { respond: hitReply(outcome, request.stream, request.includeUsage, statusHeader, config, now()) };
      },

      onResponseHeaders({ headers, endOfStream }: HeadersEvent): HeadersDecision {
        const mark = { set: { [statusHeader]: status ?? "BYPASS" } };
        const skipBody: HeadersDecision = {
          headers: mark,
          modeOverride: { responseBody: responseBodyOverrides.skip },
          body: "pass",
        };
        if (!ticket || endOfStream) {
          ticket = undefined;
          return skipBody;
        }
        const forbidden = responseForbidsStore(headers);
        if (forbidden) {
          ticket = undefined;
          metrics.fills.inc({ outcome: forbidden.replace("-", "_") });
          return skipBody;
        }
        const encoding = headers.get("content-encoding");
        const cacheable = headers.get(":status") === "200" && (!encoding || encoding === "identity");
        const contentType = headers.get("content-type") ?? "";
        if (cacheable && contentType.startsWith("text/event-stream")) {
          assembler = createSseAssembler();
          return { headers: mark, modeOverride: { responseBody: responseBodyOverrides.sse }, body: "chunks" };
        }
        if (cacheable && contentType.startsWith("application/json")) {
          return { headers: mark, modeOverride: { responseBody: responseBodyOverrides.json }, body: "whole" };
        }
        ticket = undefined;
        metrics.fills.inc({ outcome: "not_cacheable" });
        return skipBody;
      },

      async onResponseBody({ body, partial }: BodyEvent) {
        const parsed = partial ? undefined : parseCompletionJson(body);
        await fill(parsed && "value" in parsed ? parsed.value : undefined);
        return undefined;
      },

      async onResponseBodyChunk({ data, endOfStream }: ChunkEvent) {
        // Pass every byte through at once; assemble on the side.
        assembler?.push(data);
        if (endOfStream && assembler) {
          const result = assembler.finish();
          assembler = undefined;
          await fill("value" in result ? result.value : undefined);
        }
        return undefined;
      },

      onStreamEnd() {
        // An interrupted stream never reached end of stream: nothing was stored.
        if (ticket) metrics.fills.inc({ outcome: "incomplete" });
        ticket = undefined;
        assembler = undefined;
      },
    };
  };
}

function hitReply(
  outcome: Exclude<LookupOutcome, { status: "MISS" }>,
  stream: boolean,
  includeUsage: boolean,
  statusHeader: string,
  config: SemanticCacheConfig,
  nowMs: number,
): ImmediateResponse {
  const { completion, createdAtMs } = outcome.entry;
  const headers: Record<string, string> = {
    [statusHeader]: outcome.status,
    age: String(Math.max(0, Math.floor((nowMs - createdAtMs) / 1000))),
    "content-type": stream ? "text/event-stream" : "application/json",
  };
  if (stream) headers["cache-control"] = "no-cache";
  if (outcome.status === "HIT-SEMANTIC") headers[config.headers.similarity] = outcome.similarity.toFixed(4);
  return {
    status: 200,
    headers,
    body: stream ? renderSse(completion, { includeUsage }) : renderJson(completion),
    details: `semantic_cache_${outcome.status.toLowerCase().replace("-", "_")}`,
  };
}

function jsonReply(status: number, body: unknown): ImmediateResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
