/**
 * Latency the full callout chain adds: the same non-streaming chat completion sent
 * (a) straight to a simulated replica and (b) through the local gateway with all
 * callouts (body router, guardrail x2, semantic cache, endpoint picker), at fixed
 * concurrency. Cache hits are avoided by making every prompt unique.
 *
 *   node --import tsx test/bench/gateway-chain.ts [--seconds N]
 */
import { stackModels, startStack } from "@llm-callouts/cli/stack";
import { percentile, printTable } from "./stats.js";

const seconds = Number(process.argv.includes("--seconds") ? process.argv[process.argv.indexOf("--seconds") + 1] : 5);

async function measure(url: string, label: string, concurrency: number) {
  const latencies: number[] = [];
  let counter = 0;
  let failures = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const body = JSON.stringify({
          model: stackModels.qwen,
          max_tokens: 1,
          messages: [
            { role: "user", content: `Benchmark question ${label} ${counter++}: what is ${counter} + ${counter}?` },
          ],
        });
        const t0 = performance.now();
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 200) failures++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
  };
}

// A very fast simulator (max_tokens 1, speed-up 1000) so the replica's own time is small
// and the difference is the chain.
const stack = await startStack({ gatewayPort: 0, simSpeedUp: 1000, redisUrl: "" });
try {
  const replica = stack.pools.qwen[0]!.url;
  const direct = `${replica}/v1/chat/completions`;
  const gateway = `${stack.gateway.url}/v1/chat/completions`;
  await measure(direct, "warm-direct", 8);
  await measure(gateway, "warm-gateway", 8);
  const rows: string[][] = [];
  for (const concurrency of [1, 8]) {
    const straight = await measure(direct, `direct-${concurrency}`, concurrency);
    const chain = await measure(gateway, `chain-${concurrency}`, concurrency);
    const row = (name: string, r: typeof straight) => [
      String(concurrency),
      name,
      Math.round(r.rps).toLocaleString("en-US"),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      String(r.failures),
    ];
    rows.push(row("straight to a simulated replica", straight), row("gateway + 5 ext_proc filters", chain));
    rows.push([
      String(concurrency),
      "added by the chain",
      "",
      (chain.p50 - straight.p50).toFixed(2),
      (chain.p99 - straight.p99).toFixed(2),
      "",
    ]);
  }
  printTable(
    `Chain overhead, ${seconds} s per row, unique prompts (no cache hits); gateway, callouts and simulators share one Node process`,
    ["clients", "path", "requests/s", "p50 ms", "p99 ms", "non-200"],
    rows,
  );
} finally {
  await stack.close();
}
