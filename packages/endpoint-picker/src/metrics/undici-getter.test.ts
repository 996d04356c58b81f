import type { RequestListener } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { generate } from "selfsigned";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatastore } from "../datastore.js";
import { createInflightTracker } from "../inflight-tracker.js";
import { createMetricsScraper } from "./metrics-scraper.js";
import { createUndiciGetter } from "./undici-getter.js";
import { vllmMetricsPage } from "./vllm-page.testdata.js";

let pems: Awaited<ReturnType<typeof generate>>;
beforeAll(async () => {
  pems = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  });
});
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function https(handler: RequestListener): Promise<{ port: number; url: string; connections: () => number }> {
  const server = createServer({ cert: pems.cert, key: pems.private }, handler);
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { port, url: `https://127.0.0.1:${port}/metrics`, connections: () => connections };
}

const never = () => new AbortController().signal;

describe("createUndiciGetter() over https", () => {
  it("verifies the server against a given CA, or skips verification when told, and keeps one connection", async () => {
    const server = await https((_req, res) => res.end("ok"));
    const verifying = createUndiciGetter({ ca: pems.cert });
    const skipping = createUndiciGetter({ insecureSkipVerify: true });
    const strict = createUndiciGetter();
    try {
      expect(await verifying.get(server.url, never())).toBe("ok");
      expect(await skipping.get(server.url, never())).toBe("ok");
      expect(await skipping.get(server.url, never())).toBe("ok");
      // A self-signed certificate without its CA is refused, as an http-kind failure.
      await expect(strict.get(server.url, never())).rejects.toMatchObject({ kind: "http" });
      expect(server.connections()).toBe(3); // verifying 1, skipping 1 (reused), strict 1 (refused)
    } finally {
      verifying.close();
      skipping.close();
      strict.close();
    }
  });

  it("fails on a non-200, a page over 4 MiB (parse kind) and an abort", async () => {
    const server = await https((req, res) => {
      if (req.url === "/missing") {
        res.statusCode = 404;
        return res.end("no");
      }
      if (req.url === "/huge") return res.end("x".repeat(5 * 1024 * 1024));
      if (req.url === "/slow") return; // never answers
      res.end("ok");
    });
    const g = createUndiciGetter({ insecureSkipVerify: true });
    const base = `https://127.0.0.1:${server.port}`;
    try {
      await expect(g.get(`${base}/missing`, never())).rejects.toMatchObject({ kind: "http", message: "HTTP 404" });
      await expect(g.get(`${base}/huge`, never())).rejects.toMatchObject({ kind: "parse" });
      await expect(g.get(`${base}/slow`, AbortSignal.timeout(100))).rejects.toThrow("aborted");
      expect(await g.get(`${base}/metrics`, never())).toBe("ok"); // still usable
    } finally {
      g.close();
    }
  });
});

describe("createMetricsScraper() with scheme https", () => {
  it("scrapes a vLLM page over TLS (GIE metrics-data-source scheme: https)", async () => {
    const server = await https((_req, res) => res.end(vllmMetricsPage({ waiting: 4, running: 7, kv: 0.25 })));
    const datastore = createDatastore(createInflightTracker());
    datastore.setEndpoints([{ address: "127.0.0.1", port: server.port, engine: "vllm", labels: {} }]);
    const results: string[] = [];
    const scraper = createMetricsScraper({
      datastore,
      intervalMs: 1000,
      timeoutMs: 2000,
      path: "/metrics",
      scheme: "https",
      tls: { insecureSkipVerify: true },
      clock: Date.now,
      onScrape: (r) => results.push(r),
    });
    try {
      await scraper.scrapeOnce();
      expect(results).toEqual(["ok"]);
      expect(datastore.endpoints()[0]?.metrics).toMatchObject({ waitingQueueSize: 4, kvCacheUsage: 0.25 });
    } finally {
      scraper.stop();
    }
  });
});
