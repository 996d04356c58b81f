/**
 * Real path, smaller run (issue 4, benchmark layer 2): simulated vLLM replicas over HTTP
 * (`packages/model-server-sim`, engine mode, real time), the picker as a gRPC server, and
 * the Envoy-faithful client forwarding each request to the picked replica and streaming
 * the SSE response back through the picker. Confirms the DES ranking on a shared-prefix
 * workload: random vs the reference default config vs ours.
 *
 *   node --import tsx test/bench/endpoint-picker-realpath.ts [--rate 12] [--seconds 30]
 */

import { createEnvoyClient, type FilterConfig } from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { endpointPickerConfigSchema } from "../../packages/endpoint-picker/src/index.js";
import { createEndpointPickerService } from "../../packages/endpoint-picker/src/service.js";
import { sharedPrefixWorkload, startSimPool } from "../../packages/model-server-sim/src/index.js";
import { percentile, printTable } from "./stats.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rate = arg("rate", 12);
const seconds = arg("seconds", 30);
const replicas = 4;
const model = "meta-llama/Llama-3.1-8B-Instruct";

const configs: Record<string, string> = {
  random: "plugins:\n  - type: random-picker\n",
  "reference-default": "",
  ours: `
plugins:
  - type: prefix-cache-scorer
  - type: predicted-ttft-scorer
    parameters: { prefixPluginRef: prefix-cache-scorer, baseModels: ["${model}"] }
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins: [{ pluginRef: predicted-ttft-scorer }, { pluginRef: max-score-picker }]
`,
};

const filter: FilterConfig = {
  processingMode: {
    requestBodyMode: "FULL_DUPLEX_STREAMED",
    responseBodyMode: "FULL_DUPLEX_STREAMED",
    requestTrailerMode: "SEND",
    responseTrailerMode: "SEND",
  },
  messageTimeoutMs: 60_000,
  exchangeTimeoutMs: 300_000,
};

// 24 system prompts of 1536 tokens over 4 replicas whose KV cache holds ~10 of them each.
const workload = sharedPrefixWorkload({
  ratePerS: rate,
  count: Math.round(rate * seconds),
  seed: 42,
  groups: 24,
  systemTokens: 1536,
  questionTokens: 64,
  outputTokens: 48,
  model,
});

const rows: string[][] = [];
for (const [name, schedulerText] of Object.entries(configs)) {
  const pool = await startSimPool({
    replicas,
    basePort: 0,
    model,
    preset: "llama-3-8b-a100-40gb",
    engine: { numGpuBlocks: 1024 },
  });
  const runtime = createTestRuntime();
  const ctrl = new AbortController();
  const config = endpointPickerConfigSchema.parse({
    endpoints: {
      static: pool.urls.map((u) => ({ address: new URL(u).hostname, port: Number(new URL(u).port) })),
    },
    scheduler: { configText: schedulerText },
  });
  const service = createEndpointPickerService(config, { ...runtime, signal: ctrl.signal });
  const server = await startService(service, { port: 0, adminPort: null, log: runtime.log });
  const client = createEnvoyClient(`127.0.0.1:${server.port}`);
  await new Promise((r) => setTimeout(r, 300));

  const ttft: number[] = [];
  let outputTokens = 0;
  let failures = 0;
  const t0 = performance.now();
  const runs = workload.requests.map(async (req) => {
    const wait = req.arrivalMs - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const started = performance.now();
    const body = JSON.stringify({
      model: req.model,
      messages: [{ role: "user", content: req.promptText }],
      max_tokens: req.outputTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    try {
      const r = await client.exchange(filter, {
        request: { headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "gw" }, body: [body] },
        upstream: async (up) => {
          const dest = up.headers.find(([n]) => n === "x-gateway-destination-endpoint")?.[1]?.split(",")[0];
          const res = await fetch(`http://${dest}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: Buffer.from(up.body),
          });
          async function* stream() {
            let first = true;
            try {
              for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
                // The role chunk goes out at once (as vLLM); the first token is the first non-empty content.
                if (first && /"content":"[^"]/.test(Buffer.from(chunk).toString())) {
                  ttft.push(performance.now() - started);
                  first = false;
                }
                yield chunk;
              }
            } catch {
              failures++; // the replica dropped the stream mid-way
            }
          }
          return { headers: { ":status": String(res.status), "content-type": "text/event-stream" }, body: stream() };
        },
      });
      if (r.downstream.status !== 200) failures++;
      const usage = /"completion_tokens":(\d+)/.exec(Buffer.from(r.downstream.body).toString());
      outputTokens += Number(usage?.[1] ?? 0);
    } catch {
      failures++; // the replica dropped the stream (counted, not fatal)
    }
  });
  await Promise.all(runs);
  const wallS = (performance.now() - t0) / 1000;
  const hits = await Promise.all(
    pool.urls.map(async (u) => {
      const text = await (await fetch(`${u}/metrics`)).text();
      const q = Number(/^vllm:prefix_cache_queries_total\{[^}]*\} (\S+)/m.exec(text)?.[1] ?? 0);
      const h = Number(/^vllm:prefix_cache_hits_total\{[^}]*\} (\S+)/m.exec(text)?.[1] ?? 0);
      return [q, h] as const;
    }),
  );
  const [q, h] = hits.reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
  ttft.sort((a, b) => a - b);
  rows.push([
    name,
    String(workload.requests.length),
    String(failures),
    (outputTokens / wallS).toFixed(0),
    percentile(ttft, 0.5).toFixed(0),
    percentile(ttft, 0.9).toFixed(0),
    percentile(ttft, 0.99).toFixed(0),
    `${((h / Math.max(1, q)) * 100).toFixed(1)}%`,
  ]);
  client.close();
  await server.shutdown();
  ctrl.abort();
  await pool.close();
}
printTable(
  `Real path: ${replicas} simulated vLLM replicas (A100 preset, 1024 KV blocks) over HTTP, shared-prefix (24 x 1536-token system prompts), ${rate} req/s for ${seconds} s`,
  ["policy", "requests", "failed", "output tok/s", "TTFT p50 (ms)", "TTFT p90 (ms)", "TTFT p99 (ms)", "prefix hit"],
  rows,
);
process.exit(0);
