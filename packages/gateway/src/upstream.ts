import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Header } from "@llm-callouts/ext-proc";
import { parseHostPort } from "./routing.js";

/** Hop-by-hop headers never forwarded (RFC 9110 section 7.6.1). */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "upgrade",
  "proxy-connection",
  "trailer",
]);

export interface UpstreamRequest {
  readonly headers: readonly Header[];
  readonly body: Uint8Array;
}

export interface UpstreamResponse {
  readonly endpoint: string;
  readonly status: number;
  readonly headers: Header[];
  readonly body: IncomingMessage;
}

export type ForwardResult = UpstreamResponse | { readonly failed: string[] };

/**
 * Sends the request to the first endpoint that accepts a connection, walking the
 * fallback list on connect failures only (a request that reached a replica is never
 * replayed elsewhere).
 */
export async function forward(
  endpoints: readonly string[],
  request: UpstreamRequest,
  connectTimeoutMs: number,
  signal: AbortSignal,
): Promise<ForwardResult> {
  const failed: string[] = [];
  for (const endpoint of endpoints) {
    const address = parseHostPort(endpoint);
    if (!address) {
      failed.push(`${endpoint}: not host:port`);
      continue;
    }
    try {
      return { endpoint, ...(await send(address, request, connectTimeoutMs, signal)) };
    } catch (error) {
      if (!(error instanceof ConnectFailure)) throw error;
      failed.push(`${endpoint}: ${error.message}`);
    }
  }
  return { failed };
}

class ConnectFailure extends Error {
  override readonly name = "ConnectFailure";
}

function send(
  address: { host: string; port: number },
  request: UpstreamRequest,
  connectTimeoutMs: number,
  signal: AbortSignal,
): Promise<{ status: number; headers: Header[]; body: IncomingMessage }> {
  const method = request.headers.find(([n]) => n === ":method")?.[1] ?? "GET";
  const path = request.headers.find(([n]) => n === ":path")?.[1] ?? "/";
  const authority = request.headers.find(([n]) => n === ":authority")?.[1];
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of request.headers) {
    if (name.startsWith(":") || hopByHop.has(name) || name === "content-length" || name === "host") continue;
    const existing = headers[name];
    headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  if (authority) headers.host = authority;
  if (method !== "GET" || request.body.length > 0) headers["content-length"] = String(request.body.length);
  return new Promise((resolve, reject) => {
    let connected = false;
    const req = httpRequest({ host: address.host, port: address.port, method, path, headers, signal });
    const timer = setTimeout(
      () => req.destroy(new ConnectFailure(`connect timeout after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    req.on("socket", (socket) => {
      const onConnect = () => {
        connected = true;
        clearTimeout(timer);
      };
      if (socket.connecting) socket.once("connect", onConnect);
      else onConnect();
    });
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(connected || error instanceof ConnectFailure ? error : new ConnectFailure(error.message));
    });
    req.on("response", (res) => {
      const out: Header[] = [[":status", String(res.statusCode ?? 502)]];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i]!.toLowerCase();
        if (!hopByHop.has(name)) out.push([name, res.rawHeaders[i + 1]!]);
      }
      resolve({ status: res.statusCode ?? 502, headers: out, body: res });
    });
    req.end(request.body);
  });
}
