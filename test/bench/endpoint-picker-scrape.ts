/**
 * CPU per metrics scrape (issue 15): the picker's scraper at GIE's default load, 64 endpoints
 * every 50 ms (1,280 scrapes a second), through each HTTP client:
 *   - `hand-written`: the picker's own HTTP/1.1 keep-alive getter (metrics/http-getter.ts);
 *   - `undici http` and `undici https`: metrics/undici-getter.ts over plain HTTP and over TLS;
 *   - `no network`: the same page handed over in memory, i.e. parsing and extraction alone.
 * The 64 metrics servers (a realistic ~40 KB vLLM page each) run in a child process, so the
 * figure is the scraping process's own CPU (process.cpuUsage, user + system) divided by the
 * scrapes that succeeded in the window. Absolute figures drift between runs on this shared
 * machine; compare the rows of one run.
 *
 *   node --import tsx test/bench/endpoint-picker-scrape.ts [--seconds 8] [--endpoints 64]
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { createDatastore } from "../../packages/endpoint-picker/src/datastore.js";
import { createInflightTracker } from "../../packages/endpoint-picker/src/inflight-tracker.js";
import { createHttpGetter } from "../../packages/endpoint-picker/src/metrics/http-getter.js";
import { createMetricsScraper } from "../../packages/endpoint-picker/src/metrics/metrics-scraper.js";
import { createUndiciGetter } from "../../packages/endpoint-picker/src/metrics/undici-getter.js";
import { vllmMetricsPage } from "../../packages/endpoint-picker/src/metrics/vllm-page.testdata.js";
import { printTable } from "./stats.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg("seconds", 8);
const endpoints = arg("endpoints", 64);
const intervalMs = 50;

if (process.argv[2] === "--serve") {
  // The child: `endpoints` HTTP and HTTPS servers, reporting their ports.
  const { createServer } = await import("node:http");
  const { createServer: createHttpsServer } = await import("node:https");
  const { loadTlsMaterial } = await import("../../packages/ext-proc/src/tls.js");
  const pems = await loadTlsMaterial({ port: 0, selfSigned: true });
  const page = vllmMetricsPage({ waiting: 3, running: 12, kv: 0.42 });
  const handler = (_req: unknown, res: import("node:http").ServerResponse) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "content-length": Buffer.byteLength(page) });
    res.end(page);
  };
  const ports: { http: number[]; https: number[] } = { http: [], https: [] };
  for (let i = 0; i < Number(process.argv[3]); i++) {
    const h = createServer({ keepAliveTimeout: 60_000 }, handler).listen(0, "127.0.0.1");
    const s = createHttpsServer({ cert: pems.cert, key: pems.key, keepAliveTimeout: 60_000 }, handler).listen(
      0,
      "127.0.0.1",
    );
    await Promise.all([once(h, "listening"), once(s, "listening")]);
    ports.http.push((h.address() as { port: number }).port);
    ports.https.push((s.address() as { port: number }).port);
  }
  process.send?.(ports);
} else {
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ["--serve", String(endpoints)], {
    execArgv: ["--import", "tsx"],
  });
  const [ports] = (await once(child, "message")) as [{ http: number[]; https: number[] }];
  const page = vllmMetricsPage({ waiting: 3, running: 12, kv: 0.42 });

  const variants: {
    name: string;
    scheme: "http" | "https";
    make: () => { fetchText: (u: string, s: AbortSignal) => Promise<string>; close: () => void };
  }[] = [
    {
      name: "no network (parse only)",
      scheme: "http",
      make: () => ({ fetchText: async () => page, close: () => undefined }),
    },
    {
      name: "hand-written http",
      scheme: "http",
      make: () => {
        const g = createHttpGetter();
        return { fetchText: g.get, close: g.close };
      },
    },
    {
      name: "undici http",
      scheme: "http",
      make: () => {
        const g = createUndiciGetter();
        return { fetchText: g.get, close: g.close };
      },
    },
    {
      name: "undici https",
      scheme: "https",
      make: () => {
        const g = createUndiciGetter({ insecureSkipVerify: true });
        return { fetchText: g.get, close: g.close };
      },
    },
  ];
  const rows: string[][] = [];
  const results: Record<string, number> = {};
  for (const variant of variants) {
    const datastore = createDatastore(createInflightTracker());
    const list = variant.scheme === "https" ? ports.https : ports.http;
    datastore.setEndpoints(list.map((port) => ({ address: "127.0.0.1", port, engine: "vllm" as const, labels: {} })));
    const getter = variant.make();
    let ok = 0;
    let failed = 0;
    const scraper = createMetricsScraper({
      datastore,
      intervalMs,
      timeoutMs: 1000,
      path: "/metrics",
      scheme: variant.scheme,
      clock: Date.now,
      fetchText: getter.fetchText,
      onScrape: (r) => (r === "ok" ? ok++ : failed++),
    });
    scraper.start();
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: connections, JIT
    ok = 0;
    failed = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - t0) / 1000;
    scraper.stop();
    getter.close();
    const cpuUs = cpu.user + cpu.system;
    const perScrape = cpuUs / Math.max(1, ok);
    results[variant.name] = perScrape;
    rows.push([
      variant.name,
      String(ok),
      String(failed),
      (ok / wallS).toFixed(0),
      perScrape.toFixed(1),
      `${((cpuUs / 1e6 / wallS) * 100).toFixed(1)}%`,
    ]);
    await new Promise((r) => setTimeout(r, 300));
  }
  child.kill();
  const base = results["hand-written http"] as number;
  for (const row of rows) row.push(`${((results[row[0] as string] as number) / base).toFixed(2)}x`);
  printTable(
    `Metrics scraping: ${endpoints} endpoints every ${intervalMs} ms, ${seconds} s per client (one run)`,
    ["client", "scrapes ok", "failed", "scrapes/s", "CPU µs / scrape", "CPU of one core", "vs hand-written"],
    rows,
  );
  process.exit(0);
}
