import { randomUUID } from "node:crypto";
import type * as grpc from "@grpc/grpc-js";
import { createExtProcChannel, ExtProcFilter, type FilterMessage, LocalReply } from "@llm-callouts/envoy-emulator";
import type { Header, JsonValue, Logger } from "@llm-callouts/ext-proc";
import type { FilterSpec, GatewayConfig } from "./config.js";
import { destinations, selectPool } from "./routing.js";
import { forward } from "./upstream.js";

/** What the gateway sends downstream. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: readonly Header[];
  readonly body: AsyncIterable<Uint8Array>;
}

export interface DownstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly Header[];
  readonly body: AsyncIterable<Uint8Array> | undefined;
}

type Metadata = Record<string, Record<string, JsonValue>>;

/**
 * The HTTP connection manager in miniature: strip spoofable headers, run the ext_proc
 * filters in order on the request (route computed at the first filter and again after a
 * clear_route_cache, filters enabled per pool), forward to the picked endpoint with
 * fallbacks, then run the response through the same filters in reverse order, streaming.
 * Local replies end the chain and skip ext_proc (Envoy >= 1.34). A filter's stream fault
 * (timeout, gRPC error, spurious message, rejected mutation) is logged at warn with the
 * filter's name, as Envoy's access log and ext_proc stats would show it.
 */
export function createChain(config: GatewayConfig, log?: Logger) {
  const channels = new Map<string, grpc.Client>();
  const channel = (f: FilterSpec) => {
    let c = channels.get(f.name);
    if (!c) {
      c = createExtProcChannel(f.target, { tls: f.tls });
      channels.set(f.name, c);
    }
    return c;
  };
  const strip = new Set(config.stripHeaders.map((h) => h.toLowerCase()));
  let rotation = 0;

  async function handle(downstream: DownstreamRequest, signal: AbortSignal): Promise<GatewayResponse> {
    let headers: Header[] = downstream.headers.filter(([n]) => !strip.has(n) && !n.startsWith(":") && n !== "host");
    const authority = downstream.headers.find(([n]) => n === "host")?.[1] ?? "gateway.local";
    if (!headers.some(([n]) => n === "x-request-id")) headers.push(["x-request-id", randomUUID()]);
    headers = [
      [":method", downstream.method],
      [":path", downstream.path],
      [":scheme", "http"],
      [":authority", authority],
      ...headers,
    ];
    let message: FilterMessage = { headers, body: downstream.body, trailers: undefined };
    const metadata: Metadata = {};
    let route = selectPool(headers, config.modelHeader, config.pools);
    const active: { filter: ExtProcFilter; spec: FilterSpec }[] = [];
    const finishAll = () => {
      for (const { filter, spec } of active) {
        filter.finish();
        const fault = filter.error;
        if (fault !== undefined) {
          log?.warn(
            { filter: spec.name, kind: fault.kind, failedOpen: fault.failedOpen },
            `ext_proc filter fault: ${fault.message}`,
          );
        }
      }
      active.length = 0;
    };
    signal.addEventListener("abort", () => {
      for (const { filter } of active) filter.abort();
    });

    try {
      for (const spec of config.filters) {
        if (spec.pools.length > 0 && !(route && spec.pools.includes(route.name))) continue;
        const filter = new ExtProcFilter(
          channel(spec),
          envoyFilterConfig(spec, pick(metadata, spec.forwardingNamespaces)),
        );
        active.push({ filter, spec });
        const processed = await filter.processRequest(message);
        merge(metadata, filter.dynamicMetadata);
        message = { headers: processed.headers, body: [processed.body], trailers: processed.trailers };
        if (filter.routeCacheCleared) route = selectPool(processed.headers, config.modelHeader, config.pools);
      }
    } catch (error) {
      finishAll();
      if (error instanceof LocalReply) return localReply(error);
      throw error;
    }

    if (!route) {
      finishAll();
      return plain(404, "route_not_found");
    }
    const lb = metadata["envoy.lb"]?.[config.endpointHeader];
    const targets = destinations(message.headers, config.endpointHeader, lb, route, rotation++);
    if (targets.length === 0) {
      finishAll();
      return plain(503, "no_healthy_upstream");
    }
    const body = await collect(message.body);
    const upstream = await forward(targets, { headers: message.headers, body }, config.connectTimeoutMs, signal);
    if ("failed" in upstream) {
      finishAll();
      return plain(503, `upstream_connect_failure: ${upstream.failed.join("; ")}`);
    }

    // Response path: served endpoint reported in envoy.lb, filters in reverse order.
    merge(metadata, { "envoy.lb": { "x-gateway-destination-endpoint-served": upstream.endpoint } });
    let response: FilterMessage = { headers: upstream.headers, body: upstream.body, trailers: undefined };
    try {
      for (const { filter, spec } of [...active].reverse()) {
        filter.setForwardedMetadata(pick(metadata, spec.forwardingNamespaces));
        const processed = await filter.processResponse(response);
        response = { headers: processed.headers, body: processed.body, trailers: undefined };
      }
    } catch (error) {
      upstream.body.destroy();
      finishAll();
      if (error instanceof LocalReply) return localReply(error);
      throw error;
    }
    const status = Number(response.headers.find(([n]) => n === ":status")?.[1] ?? upstream.status);
    const out = response.headers.filter(([n]) => !n.startsWith(":") && n !== "content-length");
    out.push(["x-gateway-destination-endpoint-served", upstream.endpoint]);
    const source = response.body as AsyncIterable<Uint8Array | string>;
    return {
      status,
      headers: out,
      body: (async function* () {
        try {
          for await (const chunk of source) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        } finally {
          finishAll();
        }
      })(),
    };
  }

  return {
    handle,
    close() {
      for (const c of channels.values()) c.close();
    },
  };
}

/** A filter spec as the Envoy-faithful client's FilterConfig (what Envoy's filter block would say). */
export function envoyFilterConfig(spec: FilterSpec, forwarded?: Metadata) {
  return {
    processingMode: spec.processingMode,
    failureModeAllow: spec.failureModeAllow,
    messageTimeoutMs: spec.messageTimeoutMs,
    allowModeOverride: spec.allowModeOverride,
    allowedOverrideModes: spec.allowedOverrideModes,
    sendBodyWithoutWaitingForHeaderResponse: spec.sendBodyWithoutWaitingForHeaderResponse,
    receivingNamespaces: spec.receivingNamespaces,
    forwardedMetadata: forwarded,
    exchangeTimeoutMs: 0,
    ...(spec.statusOnError === undefined ? {} : { statusOnError: spec.statusOnError }),
  };
}

function pick(metadata: Metadata, namespaces: readonly string[]): Metadata | undefined {
  const out: Metadata = {};
  for (const ns of namespaces) if (metadata[ns]) out[ns] = metadata[ns]!;
  return Object.keys(out).length > 0 ? out : undefined;
}

function merge(into: Metadata, from: Metadata): void {
  for (const [ns, fields] of Object.entries(from)) into[ns] = { ...into[ns], ...fields };
}

async function collect(body: FilterMessage["body"]): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of (body ?? []) as AsyncIterable<Uint8Array | string>) {
    parts.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

function localReply(reply: LocalReply): GatewayResponse {
  return { status: reply.status, headers: reply.headers, body: once(reply.body) };
}

function plain(status: number, details: string): GatewayResponse {
  return { status, headers: [["content-type", "text/plain"]], body: once(Buffer.from(`${details}\n`)) };
}

async function* once(body: Uint8Array): AsyncIterable<Uint8Array> {
  yield body;
}
