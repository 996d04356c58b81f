import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamReset } from "@llm-callouts/envoy-emulator";
import type { Header, Logger } from "@llm-callouts/ext-proc";
import { createChain } from "./chain.js";
import { type GatewayConfig, type GatewayConfigInput, gatewayConfigSchema } from "./config.js";

export interface GatewayHandle {
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the local OpenAI-compatible gateway: every request goes through the configured
 * ext_proc chain with Envoy's semantics, and SSE streams back chunk by chunk.
 * For development, demos and tests; production uses Envoy or a GCP load balancer.
 */
export async function startGateway(input: GatewayConfigInput, log?: Logger): Promise<GatewayHandle> {
  const config: GatewayConfig = gatewayConfigSchema.parse(input);
  const chain = createChain(config, log);
  const server = createServer((req, res) => {
    serve(chain, req, res).catch((error: unknown) => {
      log?.error({ err: error }, "gateway request failed");
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end("gateway_error\n");
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(config.port, config.host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${config.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      chain.close();
    },
  };
}

async function serve(chain: ReturnType<typeof createChain>, req: IncomingMessage, res: ServerResponse) {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const headers: Header[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
  const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
  const response = await chain.handle(
    { method: req.method ?? "GET", path: req.url ?? "/", headers, body: hasBody ? req : undefined },
    controller.signal,
  );
  const outgoing: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    const existing = outgoing[name];
    outgoing[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  res.writeHead(response.status, outgoing);
  res.flushHeaders();
  try {
    for await (const chunk of response.body) {
      if (controller.signal.aborted) break;
      res.write(chunk);
    }
    res.end();
  } catch (error) {
    // A reset after the response started: the client sees a broken stream, as from Envoy.
    if (error instanceof StreamReset) res.destroy();
    else throw error;
  }
}
