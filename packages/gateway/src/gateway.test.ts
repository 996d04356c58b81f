import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serviceModule as echo, echoConfigSchema } from "@llm-callouts/echo";
import { type RunningService, startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { FilterSpec } from "./config.js";
import { type GatewayHandle, startGateway } from "./server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startEcho(config: object): Promise<RunningService> {
  const runtime = createTestRuntime();
  const service = await echo.create(echoConfigSchema.parse(config), runtime);
  const running = await startService(service, { host: "127.0.0.1", port: 0, adminPort: null, log: runtime.log });
  cleanups.push(() => running.shutdown());
  return running;
}

interface Seen {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** An upstream that records what it received and answers with `reply`. */
async function startUpstream(
  reply: (res: import("node:http").ServerResponse, seen: Seen) => void | Promise<void> = (res) => {
    res.end("ok");
  },
): Promise<{ address: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const entry = { path: req.url ?? "", headers: req.headers, body };
    seen.push(entry);
    await reply(res, entry);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

function filter(name: string, port: number, extra: Partial<FilterSpec> = {}) {
  return {
    name,
    target: `127.0.0.1:${port}`,
    processingMode: { requestBodyMode: "BUFFERED" as const, responseHeaderMode: "SKIP" as const },
    messageTimeoutMs: 2000,
    ...extra,
  };
}

async function gateway(config: Parameters<typeof startGateway>[0]): Promise<GatewayHandle> {
  const g = await startGateway({ port: 0, ...config });
  cleanups.push(() => g.close());
  return g;
}

describe("startGateway()", () => {
  it("strips spoofed headers and routes by the model header after clear_route_cache", async () => {
    const a = await startUpstream();
    const b = await startUpstream();
    const router = await startEcho({
      addHeaders: [{ phase: "requestBody", name: "x-gateway-model-name", value: "model-b" }],
      clearRouteCache: true,
    });
    const g = await gateway({
      filters: [filter("router", router.port!)],
      pools: [
        { name: "a", models: ["model-a"], endpoints: [a.address] },
        { name: "b", models: ["model-b"], endpoints: [b.address] },
      ],
    });
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "x-gateway-destination-endpoint": a.address, "x-gateway-model-name": "model-a" },
      body: '{"model":"model-b"}',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(a.seen).toHaveLength(0);
    expect(b.seen).toHaveLength(1);
    expect(b.seen[0]!.headers["x-gateway-model-name"]).toBe("model-b");
    expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe(b.address);
  });

  it("keeps the first route when the filter changes the header without clearing the route cache", async () => {
    const a = await startUpstream();
    const b = await startUpstream();
    const router = await startEcho({
      addHeaders: [{ phase: "requestBody", name: "x-gateway-model-name", value: "model-b" }],
    });
    const g = await gateway({
      filters: [filter("router", router.port!)],
      pools: [
        { name: "a", models: ["model-a"], endpoints: [a.address] },
        { name: "b", models: ["model-b"], endpoints: [b.address] },
      ],
    });
    const res = await fetch(`${g.url}/x`, { method: "POST", headers: { "x-model": "1" }, body: "{}" });
    // No model header at the first filter and two pools: no route (Envoy: 404 NR).
    expect(res.status).toBe(404);
  });

  it("ends the chain with an immediate response; later filters and the upstream never see it", async () => {
    const up = await startUpstream();
    const deny = await startEcho({ respond: { phase: "requestBody", status: 403, body: "nope", headers: {} } });
    const second = await startEcho({ addHeaders: [{ phase: "requestHeaders", name: "x-second", value: "1" }] });
    const g = await gateway({
      filters: [filter("deny", deny.port!), filter("second", second.port!)],
      pools: [{ name: "p", models: ["m"], endpoints: [up.address] }],
    });
    const res = await fetch(`${g.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("nope");
    expect(up.seen).toHaveLength(0);
  });

  it("falls back through the endpoint list on connect failure", async () => {
    const up = await startUpstream();
    const dead = await startUpstream();
    const deadAddress = dead.address;
    dead.server.close();
    await once(dead.server, "close");
    const picker = await startEcho({
      addHeaders: [
        { phase: "requestBody", name: "x-gateway-destination-endpoint", value: `${deadAddress},${up.address}` },
      ],
    });
    const g = await gateway({
      filters: [filter("picker", picker.port!)],
      pools: [{ name: "p", models: ["m"], endpoints: [] }],
    });
    const res = await fetch(`${g.url}/v1/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe(up.address);
  });

  it("streams SSE chunk by chunk through a STREAMED response filter", async () => {
    let releaseSecond: (() => void) | undefined;
    const secondMayGo = new Promise<void>((resolve) => {
      releaseSecond = resolve;
    });
    const up = await startUpstream(async (res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"n":1}\n\n');
      // The second event is only sent after the client received the first one.
      await secondMayGo;
      res.end('data: {"n":2}\n\ndata: [DONE]\n\n');
    });
    const upper = await startEcho({ bodyHandling: { request: "pass", response: "chunks" }, uppercaseChunks: true });
    const g = await gateway({
      filters: [filter("upper", upper.port!, { processingMode: { responseBodyMode: "STREAMED" } })],
      pools: [{ name: "p", models: ["m"], endpoints: [up.address] }],
    });
    const res = await fetch(`${g.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('DATA: {"N":1}\n\n');
    releaseSecond!();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += Buffer.from(value).toString();
    }
    expect(rest).toBe('DATA: {"N":2}\n\nDATA: [DONE]\n\n');
  });

  it("follows failure_mode_allow when a callout is down", async () => {
    const up = await startUpstream();
    const gone = await startEcho({});
    const port = gone.port!;
    await gone.shutdown();
    const pools = [{ name: "p", models: ["m"], endpoints: [up.address] }];
    const open = await gateway({ filters: [filter("gone", port, { failureModeAllow: true })], pools });
    const closed = await gateway({ filters: [filter("gone", port, { failureModeAllow: false })], pools });
    expect((await fetch(`${open.url}/x`, { method: "POST", body: "{}" })).status).toBe(200);
    expect((await fetch(`${closed.url}/x`, { method: "POST", body: "{}" })).status).toBe(500);
  });
});
