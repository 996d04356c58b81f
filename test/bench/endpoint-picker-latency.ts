/**
 * Endpoint picker cost (issue 4, benchmark layer 2):
 *  A. scheduling latency p50/p99 and picks/s of the real request-control + scheduler
 *     code, in process, for 8 and 64 endpoints (reference default config and ours);
 *  B. the real path: picker server behind the Envoy-faithful client (FULL_DUPLEX_STREAMED),
 *     endpoints scraped over HTTP; exchange latency, picks/s and the picker's own
 *     scheduling-latency histogram;
 *  C. scraper CPU for 64 endpoints at the default 50 ms interval, each serving a ~40 KB
 *     vLLM /metrics page from a separate process.
 *
 *   node --import tsx test/bench/endpoint-picker-latency.ts [--quick]
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createEnvoyClient, type FilterConfig } from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { seededRandom } from "@llm-callouts/random";
import { createDatastore } from "../../packages/endpoint-picker/src/datastore.js";
import {
  type Endpoint,
  endpointPickerConfigSchema,
  loadEndpointPickerConfig,
  type SchedulingRequest,
} from "../../packages/endpoint-picker/src/index.js";
import { createInflightTracker } from "../../packages/endpoint-picker/src/inflight-tracker.js";
import { createMetricsScraper } from "../../packages/endpoint-picker/src/metrics/metrics-scraper.js";
import { vllmMetricsPage } from "../../packages/endpoint-picker/src/metrics/vllm-page.testdata.js";
import { createRequestControl } from "../../packages/endpoint-picker/src/request-control.js";
import { defaultSaturationThresholds } from "../../packages/endpoint-picker/src/saturation-detector.js";
import { createEndpointPickerService } from "../../packages/endpoint-picker/src/service.js";
import { percentile, printTable } from "./stats.js";

const quick = process.argv.includes("--quick");

// ---- child mode: N metrics servers in a separate process (so their CPU is not counted) ----
if (process.argv.includes("--serve-metrics")) {
  const n = Number(process.argv[process.argv.indexOf("--serve-metrics") + 1]);
  const page = vllmMetricsPage({ waiting: 2, running: 30, kv: 0.4, loras: { running: "a,b", waiting: "", max: 4 } });
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer((_req, res) => res.end(page));
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    ports.push((s.address() as AddressInfo).port);
  }
  process.send?.({ ports, pageBytes: page.length });
} else {
  await main();
}

async function main(): Promise<void> {
  const rng = seededRandom(42);
  const systemPrompts = Array.from(
    { length: 16 },
    (_, g) => `system prompt ${g}: ${"You are a helpful assistant. ".repeat(60)}`,
  );
  const makeRequest = (i: number): SchedulingRequest => {
    const prompt = JSON.stringify([
      { role: "system", content: systemPrompts[i % systemPrompts.length] },
      { role: "user", content: `question ${i} ${"lorem ipsum ".repeat(20)}` },
    ]);
    return {
      requestId: `r${i}`,
      targetModel: "llama",
      prompt,
      promptTokens: Math.ceil(prompt.length / 4),
      headers: {},
      priority: 0,
    };
  };

  // ---- A. in-process scheduling ----
  const oursYaml = `
plugins:
  - type: prefix-cache-scorer
  - type: predicted-ttft-scorer
    parameters: { prefixPluginRef: prefix-cache-scorer, baseModels: [llama] }
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins: [{ pluginRef: predicted-ttft-scorer }, { pluginRef: max-score-picker }]
`;
  const rowsA: string[][] = [];
  for (const n of [8, 64]) {
    for (const [name, yaml] of [
      ["reference-default", ""],
      ["ours", oursYaml],
    ] as const) {
      const loaded = loadEndpointPickerConfig(yaml);
      if ("errors" in loaded) throw new Error(loaded.errors.join());
      const inflight = createInflightTracker();
      const control = createRequestControl({
        scheduler: loaded.scheduler,
        inflight,
        saturation: defaultSaturationThresholds,
        clock: () => 1000,
        random: rng,
        maxEndpoints: 2,
      });
      const base: Endpoint[] = Array.from({ length: n }, (_, i) => ({
        id: `10.0.${i >> 8}.${i & 255}:8000`,
        address: `10.0.${i >> 8}.${i & 255}`,
        port: 8000,
        engine: "vllm",
        labels: {},
        inflight: { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0, models: new Map() },
        metrics: {
          waitingQueueSize: Math.floor(rng() * 5),
          runningRequests: Math.floor(rng() * 60),
          kvCacheUsage: rng() * 0.8,
          activeModels: new Set(),
          waitingModels: new Set(),
          maxActiveModels: 4,
          blockSizeTokens: 16,
          numGpuBlocks: 9000,
          updatedAtMs: 1000,
        },
      }));
      const iterations = quick ? 3000 : 20_000;
      const times: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) {
        const endpoints = base.map((e) => ({ ...e, inflight: inflight.load(e.id) }));
        const s = performance.now();
        const out = control.pick(makeRequest(i), endpoints);
        times.push(performance.now() - s);
        if (!("targets" in out)) throw new Error("no pick");
        if (i >= 64) inflight.finish(`r${i - 64}`); // keep ~64 requests in flight
      }
      const totalS = (performance.now() - t0) / 1000;
      times.sort((a, b) => a - b);
      rowsA.push([
        String(n),
        name,
        (percentile(times, 0.5) * 1000).toFixed(1),
        (percentile(times, 0.99) * 1000).toFixed(1),
        Math.round(iterations / totalS).toLocaleString("en-US"),
      ]);
    }
  }
  printTable(
    "A. Scheduling in process (request control + scheduler, ~2.3 KB chat prompt, 16 shared system prompts)",
    ["endpoints", "config", "p50 (µs)", "p99 (µs)", "picks/s (incl. building the endpoint view)"],
    rowsA,
  );

  // ---- B. real path through the gRPC server ----
  const child = fork(new URL(import.meta.url), ["--serve-metrics", "64"], { execArgv: ["--import", "tsx"] });
  const { ports, pageBytes } = await new Promise<{ ports: number[]; pageBytes: number }>((resolve) =>
    child.once("message", (m) => resolve(m as { ports: number[]; pageBytes: number })),
  );
  const filter: FilterConfig = {
    processingMode: {
      requestBodyMode: "FULL_DUPLEX_STREAMED",
      responseBodyMode: "FULL_DUPLEX_STREAMED",
      requestTrailerMode: "SEND",
      responseTrailerMode: "SEND",
    },
    messageTimeoutMs: 10_000,
  };
  const rowsB: string[][] = [];
  for (const n of [8, 64]) {
    const runtime = createTestRuntime();
    const ctrl = new AbortController();
    const config = endpointPickerConfigSchema.parse({
      endpoints: { static: ports.slice(0, n).map((port) => ({ address: "127.0.0.1", port })) },
      fallbackEndpoints: 1,
    });
    const service = createEndpointPickerService(config, { ...runtime, signal: ctrl.signal });
    const server = await startService(service, { port: 0, adminPort: null, log: runtime.log });
    const client = createEnvoyClient(`127.0.0.1:${server.port}`);
    await new Promise((r) => setTimeout(r, 300)); // first scrapes
    const total = quick ? 400 : 3000;
    const concurrency = 16;
    const times: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const body = JSON.stringify({ model: "llama", messages: JSON.parse(makeRequest(i).prompt) });
          const s = performance.now();
          const r = await client.exchange(filter, {
            request: {
              headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "gw" },
              body: [body],
            },
            upstream: {
              headers: { ":status": "200", "content-type": "application/json" },
              body: ['{"usage":{"prompt_tokens":1,"completion_tokens":1}}'],
            },
          });
          times.push(performance.now() - s);
          if (!r.upstream)
            throw new Error(
              `no pick: ${r.downstream.status} ${Buffer.from(r.downstream.body).toString().slice(0, 300)}`,
            );
        }
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    const hist = await runtime.metrics.getSingleMetric("callouts_endpoint_picker_scheduling_duration_seconds")?.get();
    // prom-client's histogram values carry `metricName` (`…_bucket`, `…_sum`, `…_count`) at runtime.
    const buckets = (hist?.values ?? []).filter((v) => (v as { metricName?: string }).metricName?.endsWith("_bucket"));
    const count = buckets.at(-1)?.value ?? 0;
    const q = (p: number) => buckets.find((b) => b.value >= p * count)?.labels.le;
    times.sort((a, b) => a - b);
    rowsB.push([
      String(n),
      percentile(times, 0.5).toFixed(2),
      percentile(times, 0.99).toFixed(2),
      Math.round(total / wallS).toLocaleString("en-US"),
      `≤ ${Number(q(0.5)) * 1e6} µs`,
      `≤ ${Number(q(0.99)) * 1e6} µs`,
    ]);
    client.close();
    await server.shutdown();
    ctrl.abort();
  }
  printTable(
    "B. Real path: Envoy-faithful client -> picker gRPC server (duplex bodies, 16 concurrent exchanges, endpoints scraped over HTTP every 50 ms)",
    [
      "endpoints",
      "exchange p50 (ms)",
      "exchange p99 (ms)",
      "exchanges/s",
      "scheduling p50 (histogram)",
      "scheduling p99 (histogram)",
    ],
    rowsB,
  );

  // ---- C. scraper CPU, 64 endpoints at 50 ms ----
  const datastore = createDatastore(createInflightTracker());
  datastore.setEndpoints(ports.map((port) => ({ address: "127.0.0.1", port, engine: "vllm" as const })));
  let ok = 0;
  let failed = 0;
  const scraper = createMetricsScraper({
    datastore,
    intervalMs: 50,
    timeoutMs: 1000,
    path: "/metrics",
    clock: Date.now,
    onScrape: (r) => (r === "ok" ? ok++ : failed++),
  });
  scraper.start();
  await new Promise((r) => setTimeout(r, 1000)); // warm up connections and JIT
  const seconds = quick ? 3 : 10;
  ok = 0;
  failed = 0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - w0;
  scraper.stop();
  child.kill();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  printTable(
    "C. Scraper CPU (64 endpoints, 50 ms interval, metrics servers in another process)",
    ["page size", "scrapes/s", "failed", "CPU (% of one core)", "CPU per scrape (µs)"],
    [
      [
        `${(pageBytes / 1024).toFixed(1)} KB`,
        Math.round((ok * 1000) / wallMs).toLocaleString("en-US"),
        String(failed),
        ((cpuMs / wallMs) * 100).toFixed(1),
        ((cpuMs * 1000) / Math.max(1, ok)).toFixed(0),
      ],
    ],
  );
  process.exit(0);
}
