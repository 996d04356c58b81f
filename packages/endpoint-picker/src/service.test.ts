import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvoyClient, type EnvoyClient, type FilterConfig } from "@llm-callouts/envoy-emulator";
import { ConfigError, type RunningService, startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { afterEach, describe, expect, it } from "vitest";
import { endpointPickerConfigSchema } from "./config.js";
import { serviceModule } from "./index.js";
import { vllmMetricsPage } from "./metrics/vllm-page.testdata.js";
import { createEndpointPickerService } from "./service.js";
import { eppConfigShapes } from "./upstream/epp-configs.testdata.js";

const filter: FilterConfig = {
  processingMode: {
    requestBodyMode: "FULL_DUPLEX_STREAMED",
    responseBodyMode: "FULL_DUPLEX_STREAMED",
    requestTrailerMode: "SEND",
    responseTrailerMode: "SEND",
  },
  messageTimeoutMs: 5_000,
};
const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
const request = (headers: Record<string, string> = {}) => ({
  request: {
    headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "gw", ...headers },
    body: [body],
  },
});
const dest = (r: Awaited<ReturnType<EnvoyClient["exchange"]>>) =>
  r.upstream?.headers.find(([n]) => n === "x-gateway-destination-endpoint")?.[1];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function metricsServer(g: { waiting: number; running: number; kv: number }) {
  let page = vllmMetricsPage(g);
  const server = createServer((_req, res) => res.end(page));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { port, id: `127.0.0.1:${port}`, set: (n: typeof g) => (page = vllmMetricsPage(n)) };
}

async function start(raw: unknown, configDir = process.cwd()) {
  const runtime = createTestRuntime({ configDir });
  const ctrl = new AbortController();
  const service = createEndpointPickerService(endpointPickerConfigSchema.parse(raw), {
    ...runtime,
    signal: ctrl.signal,
  });
  const server: RunningService = await startService(service, { port: 0, adminPort: null, log: runtime.log });
  const client = createEnvoyClient(`127.0.0.1:${server.port}`);
  cleanups.push(async () => {
    client.close();
    await server.shutdown();
    ctrl.abort();
  });
  return { client, runtime, service };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("serviceModule", () => {
  it("is named endpoint-picker and parses an empty section to defaults", () => {
    expect(serviceModule.name).toBe("endpoint-picker");
    const c = serviceModule.configSchema.parse({});
    expect([
      c.metrics.scrapeIntervalMs,
      c.fallbackEndpoints,
      c.saturation.queueDepthThreshold,
      c.flowControl.enabled,
    ]).toEqual([50, 0, 5, false]);
  });

  it("rejects unknown keys with their path", () => {
    const r = serviceModule.configSchema.safeParse({ metrics: { scrapeIntervalMS: 5 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["metrics"]);
  });

  it("refuses a scheduler config with errors, naming the path", () => {
    expect(() =>
      createEndpointPickerService(
        endpointPickerConfigSchema.parse({ scheduler: { configText: "plugins:\n  - type: nope\n" } }),
        createTestRuntime(),
      ),
    ).toThrow(new ConfigError('service.scheduler: plugins[0].type: unknown plugin type "nope"'));
  });
});

describe("createEndpointPickerService()", () => {
  it("discovers endpoints from a watched file and follows its changes", async () => {
    const a = await metricsServer({ waiting: 0, running: 0, kv: 0 });
    const b = await metricsServer({ waiting: 0, running: 0, kv: 0 });
    const dir = await mkdtemp(join(tmpdir(), "epp-svc-"));
    cleanups.push(() => rm(dir, { recursive: true }));
    await writeFile(join(dir, "pool.yaml"), `- { address: 127.0.0.1, port: ${a.port} }\n`);
    const { client, service } = await start({ endpoints: { file: { path: "pool.yaml", pollIntervalMs: 20 } } }, dir);
    await until(() => service.isReady?.() === true);
    expect(dest(await client.exchange(filter, request()))).toBe(a.id);
    await writeFile(join(dir, "pool.yaml"), `endpoints:\n  - { address: 127.0.0.1, port: ${b.port} }\n`);
    await until(async () => dest(await client.exchange(filter, request())) === b.id);
  });

  it("queues requests under flow control while saturated and dispatches them when capacity returns", async () => {
    const s = await metricsServer({ waiting: 50, running: 50, kv: 0.99 });
    const { client, runtime } = await start({
      endpoints: { static: [{ address: "127.0.0.1", port: s.port }] },
      metrics: { scrapeIntervalMs: 10 },
      flowControl: { enabled: true, defaultRequestTtlMs: 5_000 },
    });
    await until(async () =>
      (await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_scrapes_total")).includes('result="ok"'),
    );
    const pending = client.exchange(filter, request({ "x-gateway-inference-fairness-id": "tenant-a" }));
    await until(async () =>
      (await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_flow_control_queue_size")).endsWith(
        " 1",
      ),
    );
    s.set({ waiting: 0, running: 1, kv: 0.1 });
    expect(dest(await pending)).toBe(s.id);
  });

  it("runs an llm-d decode config: decode-filter keeps requests off a prefill-only endpoint", async () => {
    const prefill = await metricsServer({ waiting: 0, running: 0, kv: 0 });
    const decode = await metricsServer({ waiting: 3, running: 3, kv: 0.5 });
    const { client, runtime, service } = await start({
      endpoints: {
        static: [
          { address: "127.0.0.1", port: prefill.port, labels: { "llm-d.ai/role": "prefill" } },
          { address: "127.0.0.1", port: decode.port, labels: { "llm-d.ai/role": "decode" } },
        ],
      },
      metrics: { scrapeIntervalMs: 10 },
      scheduler: { configText: eppConfigShapes["llmd-estimate-load-aware"] },
    });
    await until(() => service.isReady?.() === true);
    await until(async () =>
      (await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_scrapes_total")).includes('result="ok"'),
    );
    for (let i = 0; i < 5; i++) expect(dest(await client.exchange(filter, request()))).toBe(decode.id);
    // GIE's metric names count what went through the real gRPC path.
    const total = await runtime.metrics.getSingleMetricAsString("inference_objective_request_total");
    expect(total).toMatch(
      /inference_objective_request_total\{model_name="[^"]+",target_model_name="[^"]+",priority="0"\} 5/,
    );
    const attempts = await runtime.metrics.getSingleMetricAsString("inference_extension_scheduler_attempts_total");
    expect(attempts).toContain(`status="success"`);
    expect(attempts).toContain(`port="${decode.port}"`);
  });

  it("keeps at most 100 client model names as metric labels (random names count as other)", async () => {
    const s = await metricsServer({ waiting: 0, running: 0, kv: 0 });
    const { client, runtime } = await start({
      endpoints: { static: [{ address: "127.0.0.1", port: s.port }] },
      metrics: { scrapeIntervalMs: 10 },
    });
    await until(async () =>
      (await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_scrapes_total")).includes('result="ok"'),
    );
    for (let i = 0; i < 130; i++) {
      const named = {
        request: {
          ...request().request,
          body: [JSON.stringify({ model: `random-${i}`, messages: [{ role: "user", content: "x" }] })],
        },
      };
      expect(dest(await client.exchange(filter, named))).toBe(s.id);
    }
    const total = await runtime.metrics.getSingleMetricAsString("inference_objective_request_total");
    const names = new Set([...total.matchAll(/model_name="([^"]*)"/g)].map((m) => m[1]));
    expect(names.has("other")).toBe(true);
    expect(names.has("random-129")).toBe(false);
    expect(names.size).toBeLessThanOrEqual(101);
  });

  it("an EndpointPickerConfig with the flowControl gate turns on queueing and its TTL", async () => {
    const s = await metricsServer({ waiting: 50, running: 50, kv: 0.99 });
    const { client, runtime } = await start({
      endpoints: { static: [{ address: "127.0.0.1", port: s.port }] },
      metrics: { scrapeIntervalMs: 10 },
      scheduler: {
        configText:
          "featureGates: [flowControl]\nplugins: [{type: queue-scorer}]\nflowControl: {defaultRequestTTL: 50ms}\n",
      },
    });
    await until(async () =>
      (await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_scrapes_total")).includes('result="ok"'),
    );
    const r = await client.exchange(filter, request());
    expect(r.downstream.status).toBe(503);
  });

  it("answers 503 when a queued request outlives its TTL", async () => {
    const s = await metricsServer({ waiting: 50, running: 50, kv: 0.99 });
    const { client, runtime } = await start({
      endpoints: { static: [{ address: "127.0.0.1", port: s.port }] },
      metrics: { scrapeIntervalMs: 10 },
      flowControl: { enabled: true, defaultRequestTtlMs: 50 },
    });
    await until(async () =>
      (await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_scrapes_total")).includes('result="ok"'),
    );
    const r = await client.exchange(filter, request());
    expect(r.downstream.status).toBe(503);
    expect(JSON.parse(Buffer.from(r.downstream.body).toString()).error.message).toBe(
      "inference error: ServiceUnavailable - request timed out in flow control queue",
    );
  });

  it("keeps a session on its endpoint while it stays healthy, despite load", async () => {
    const a = await metricsServer({ waiting: 0, running: 0, kv: 0 });
    const b = await metricsServer({ waiting: 0, running: 0, kv: 0 });
    const { client, runtime } = await start({
      endpoints: { static: [a, b].map((s) => ({ address: "127.0.0.1", port: s.port })) },
      metrics: { scrapeIntervalMs: 10 },
      scheduler: {
        configText: `
plugins:
  - type: queue-scorer
  - type: session-affinity-scorer
schedulingProfiles:
  - name: default
    plugins: [{ pluginRef: queue-scorer, weight: 1 }, { pluginRef: session-affinity-scorer, weight: 10 }]
`,
      },
    });
    const okScrapes = async () =>
      Number(
        /result="ok"} (\d+)/.exec(
          await runtime.metrics.getSingleMetricAsString("callouts_endpoint_picker_scrapes_total"),
        )?.[1] ?? 0,
      );
    await until(async () => (await okScrapes()) >= 2);
    const first = dest(await client.exchange(filter, request({ "x-session-id": "chat-1" })));
    const other = first === a.id ? b : a;
    (first === a.id ? a : b).set({ waiting: 9, running: 50, kv: 0.5 });
    const seen = await okScrapes();
    await until(async () => (await okScrapes()) >= seen + 4);
    expect(dest(await client.exchange(filter, request({ "x-session-id": "chat-1" })))).toBe(first);
    expect(dest(await client.exchange(filter, request()))).toBe(other.id);
  });

  it("exports picks, scheduling latency and saturation", async () => {
    const s = await metricsServer({ waiting: 1, running: 2, kv: 0.4 });
    const { client, runtime } = await start({ endpoints: { static: [{ address: "127.0.0.1", port: s.port }] } });
    await client.exchange(filter, request());
    const text = await runtime.metrics.metrics();
    expect(text).toContain(`callouts_endpoint_picker_picks_total{endpoint="${s.id}"} 1`);
    expect(text).toContain('callouts_endpoint_picker_requests_total{result="picked"} 1');
    expect(text).toContain("callouts_endpoint_picker_scheduling_duration_seconds_count 1");
  });
});
