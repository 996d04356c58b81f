/**
 * Guardrail latency with the default template (all detectors on):
 *  - guardrail/inspect/4kb: extract + normalise + all filters on a 4 KB chat prompt, in process;
 *  - guardrail/callout/4kb: the same through the real gRPC server and the Envoy-faithful
 *    client (BUFFERED request body), end to end as Envoy would wait for it;
 *  - guardrail/sse/chunk: scanner time per streamed SSE chunk (OpenAI chat deltas);
 *  - pathological inputs: 1 MB of one character, deeply nested JSON.
 * Seeded fixtures; prints a markdown table.
 *
 *   node --import tsx test/bench/guardrail-latency.ts
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createEnvoyClient } from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { seededRandom } from "@llm-callouts/random";
import { guardrailConfigSchema } from "../../packages/guardrail/src/config.js";
import { createGuardrail } from "../../packages/guardrail/src/guardrail.js";
import { createGuardrailService } from "../../packages/guardrail/src/index.js";
import { createPlaceholderRegistry } from "../../packages/guardrail/src/policy/placeholders.js";
import { bufferedRequest, createRawClient, roundTrip } from "./raw-client.js";

const words =
  "the customer asked about an invoice for the quarterly report and wanted to know whether the shipment to our Berlin office could be delayed until next week because the warehouse team is short staffed please summarise the attached notes and draft a polite reply that explains the new delivery schedule".split(
    " ",
  );
function prompt(bytes: number, seed: number): string {
  const next = seededRandom(seed);
  let text = "";
  while (text.length < bytes - 120) {
    text += `${words[Math.floor(next() * words.length)]} `;
    if (next() < 0.06) text += ". ";
  }
  return `${text} Contact jane.doe@example.com or +1 415 555 2671 about card 4111 1111 1111 1111.`.slice(0, bytes);
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const rows: string[] = [];
function report(name: string, samplesMs: number[], note = ""): void {
  rows.push(
    `| ${name} | ${samplesMs.length} | ${percentile(samplesMs, 50).toFixed(3)} | ${percentile(samplesMs, 99).toFixed(3)} | ${Math.max(...samplesMs).toFixed(3)} | ${note} |`,
  );
}

const config = guardrailConfigSchema.parse({});

// `--serve`: run only the callout (the benchmark starts itself as a child so client and
// server do not share one event loop and one heap, as with a real Envoy).
if (process.argv.includes("--serve")) {
  const runtime = createTestRuntime();
  const server = await startService(createGuardrailService(config, runtime), {
    host: "127.0.0.1",
    port: 0,
    adminPort: null,
    log: runtime.log,
  });
  process.stdout.write(`${server.port}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void server.shutdown().then(() => process.exit(0)));
  await new Promise(() => {});
}
const guardrail = createGuardrail(config);
const policy = guardrail.resolve({ path: "/v1/chat/completions", model: undefined, tenant: undefined });
const body4k = new TextEncoder().encode(
  JSON.stringify({
    model: "m",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: prompt(4096, 7) },
    ],
  }),
);

// In-process scan of a 4 KB prompt.
{
  const samples: number[] = [];
  for (let i = 0; i < 1200; i++) {
    const t0 = performance.now();
    guardrail.inspectBody("request", body4k, policy, createPlaceholderRegistry());
    if (i >= 200) samples.push(performance.now() - t0);
  }
  report("guardrail/inspect/4kb", samples, "extract + normalise + all filters, in process");
}

// Through the callout (real gRPC server in a child process + Envoy-faithful client, BUFFERED request body).
{
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const [first] = (await once(child.stdout, "data")) as [Buffer];
  const client = createEnvoyClient(`127.0.0.1:${first.toString().trim()}`);
  const filter = {
    processingMode: { requestBodyMode: "BUFFERED" as const, responseHeaderMode: "SKIP" as const },
    messageTimeoutMs: 5000,
  };
  const headers = { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" };
  const samples: number[] = [];
  const baseline: number[] = [];
  const empty = new TextEncoder().encode('{"model":"m","messages":[]}');
  for (let i = 0; i < 700; i++) {
    const t0 = performance.now();
    await client.exchange(filter, { request: { headers, body: [body4k] } });
    if (i >= 100) samples.push(performance.now() - t0);
    const t1 = performance.now();
    await client.exchange(filter, { request: { headers, body: [empty] } });
    if (i >= 100) baseline.push(performance.now() - t1);
  }
  report("guardrail/callout/4kb", samples, "Envoy-faithful client: headers + body, redaction, metadata");
  report("guardrail/callout/empty-chat", baseline, "same with nothing to scan (transport + test client baseline)");
  client.close();
  // The same exchanges with a lean pre-encoded client: what the callout adds to a request
  // behind Envoy, without the test client's own bookkeeping.
  const raw = createRawClient(`127.0.0.1:${first.toString().trim()}`);
  const rawScan = bufferedRequest(headers, body4k);
  const rawEmpty = bufferedRequest(headers, empty);
  const lean: number[] = [];
  const leanBaseline: number[] = [];
  for (let i = 0; i < 1100; i++) {
    const a = await roundTrip(raw, rawScan);
    const b = await roundTrip(raw, rawEmpty);
    if (i >= 100) {
      lean.push(a);
      leanBaseline.push(b);
    }
  }
  report("guardrail/callout-lean/4kb", lean, "lean client: headers + body round trips, scan, redaction, metadata");
  report("guardrail/callout-lean/empty-chat", leanBaseline, "lean client, nothing to scan (transport baseline)");
  raw.close();
  child.stdin.end();
  await once(child, "exit");
}

// SSE per-chunk overhead.
{
  const next = seededRandom(11);
  const samples: number[] = [];
  for (let s = 0; s < 20; s++) {
    const scanner = guardrail.createStreamScanner(policy, createPlaceholderRegistry());
    for (let c = 0; c < 200; c++) {
      let delta = "";
      for (let w = 0; w < 4; w++) delta += `${words[Math.floor(next() * words.length)]} `;
      const chunk = new TextEncoder().encode(
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: delta } }] })}\n\n`,
      );
      const t0 = performance.now();
      scanner.push(chunk, false);
      samples.push(performance.now() - t0);
    }
  }
  report("guardrail/sse/chunk", samples, "one OpenAI chat delta event per chunk, 256-char hold-back");
}

// Pathological inputs.
{
  const oneChar = new TextEncoder().encode(
    JSON.stringify({ messages: [{ role: "user", content: "a".repeat(1 << 20) }] }),
  );
  const nonAscii = new TextEncoder().encode(
    JSON.stringify({ messages: [{ role: "user", content: "é".repeat(1 << 20) }] }),
  );
  const nested = new TextEncoder().encode(`${"[".repeat(50_000)}${"]".repeat(50_000)}`);
  for (const [name, body] of [
    ["guardrail/inspect/1mb-one-char", oneChar],
    ["guardrail/inspect/1mb-non-ascii", nonAscii],
    ["guardrail/inspect/nested-50k", nested],
  ] as const) {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      guardrail.inspectBody("request", body, policy, createPlaceholderRegistry());
      samples.push(performance.now() - t0);
    }
    report(name, samples, `maxScanChars ${config.maxScanChars}`);
  }
}

console.log(
  `Guardrail latency (default template, Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at the end)\n`,
);
console.log("| case | samples | p50 ms | p99 ms | max ms | note |");
console.log("|---|---:|---:|---:|---:|---|");
for (const row of rows) console.log(row);
