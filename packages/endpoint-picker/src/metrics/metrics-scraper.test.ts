import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createDatastore } from "../datastore.js";
import { createInflightTracker } from "../inflight-tracker.js";
import { createMetricsScraper } from "./metrics-scraper.js";
import { vllmMetricsPage } from "./vllm-page.testdata.js";

const servers: Server[] = [];

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function setup(ports: number[], timeoutMs = 150) {
  let now = 1000;
  const datastore = createDatastore(createInflightTracker());
  datastore.setEndpoints(ports.map((port) => ({ address: "127.0.0.1", port, engine: "vllm" as const })));
  const results: string[] = [];
  const scraper = createMetricsScraper({
    datastore,
    intervalMs: 50,
    timeoutMs,
    path: "/metrics",
    clock: () => now,
    onScrape: (r) => results.push(r),
  });
  return { datastore, scraper, results, setNow: (t: number) => (now = t) };
}

const page = vllmMetricsPage({ waiting: 2, running: 3, kv: 0.25 });

describe("createMetricsScraper()", () => {
  it("stores last-good metrics with their scrape time", async () => {
    const { port } = await serve((_req, res) => res.end(page));
    const { datastore, scraper, results } = setup([port]);
    await scraper.scrapeOnce();
    const [e] = datastore.endpoints();
    expect([
      e?.metrics.waitingQueueSize,
      e?.metrics.runningRequests,
      e?.metrics.kvCacheUsage,
      e?.metrics.updatedAtMs,
    ]).toEqual([2, 3, 0.25, 1000]);
    expect(results).toEqual(["ok"]);
  });

  it("times out a hanging endpoint without blocking the others", async () => {
    const good = await serve((_req, res) => res.end(page));
    const hang = await serve(() => {
      /* never answers */
    });
    const { datastore, scraper, results } = setup([good.port, hang.port], 100);
    await scraper.scrapeOnce();
    expect(results.sort()).toEqual(["ok", "timeout"]);
    expect(datastore.lastError(`127.0.0.1:${hang.port}`)).toMatch(/^timeout/);
    expect(datastore.endpoints().find((e) => e.port === hang.port)?.metrics.updatedAtMs).toBe(0);
  });

  it("keeps the last good values when a page turns to garbage", async () => {
    let garbage = false;
    const { port } = await serve((_req, res) => res.end(garbage ? 'vllm:num_requests_waiting{x="1} oops\n' : page));
    const { datastore, scraper, results, setNow } = setup([port]);
    await scraper.scrapeOnce();
    garbage = true;
    setNow(2000);
    await scraper.scrapeOnce();
    expect(results).toEqual(["ok", "parse"]);
    expect(datastore.endpoints()[0]?.metrics.updatedAtMs).toBe(1000);
    expect(datastore.lastError(`127.0.0.1:${port}`)).toMatch(/^parse: line /);
  });

  it("counts an HTML error page as a parse failure and a 500 as an HTTP failure", async () => {
    const html = await serve((_req, res) => res.end("<html>bad gateway</html>"));
    const err = await serve((_req, res) => {
      res.statusCode = 500;
      res.end("x");
    });
    const { scraper, results } = setup([html.port, err.port]);
    await scraper.scrapeOnce();
    expect(results.sort()).toEqual(["http", "parse"]);
  });

  it("survives an endpoint that dies mid-run, and ages its metrics", async () => {
    const { server, port } = await serve((_req, res) => res.end(page));
    const { datastore, scraper, results, setNow } = setup([port]);
    await scraper.scrapeOnce();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    setNow(5000);
    await scraper.scrapeOnce();
    expect(results).toEqual(["ok", "http"]);
    expect(datastore.endpoints()[0]?.metrics.updatedAtMs).toBe(1000);
    expect(datastore.lastError(`127.0.0.1:${port}`)).toMatch(/ECONNREFUSED|socket hang up|ECONNRESET/);
  });

  it("does not start a second scrape of an endpoint while one is in flight", async () => {
    let hits = 0;
    const { port } = await serve((_req, res) => {
      hits++;
      setTimeout(() => res.end(page), 60);
    });
    const { scraper } = setup([port], 500);
    await Promise.all([scraper.scrapeOnce(), scraper.scrapeOnce()]);
    expect(hits).toBe(1);
  });
});
