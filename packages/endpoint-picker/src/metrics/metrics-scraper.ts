import { traceOutbound } from "@llm-callouts/ext-proc";
import { joinHostPort } from "../candidates.js";
import type { Datastore } from "../datastore.js";
import type { EngineType } from "../scheduling/types.js";
import { type EngineMetricSpec, engineMetricSpecs, extractEngineMetrics, familiesOf } from "./engine-metrics.js";
import { createHttpGetter, type FetchText } from "./http-getter.js";
import { parsePromText } from "./prom-text-parser.js";
import { createUndiciGetter, type UndiciGetterOptions } from "./undici-getter.js";

export interface MetricsScraperOptions {
  readonly datastore: Datastore;
  /** Scrape period per endpoint (GIE 50 ms). */
  readonly intervalMs: number;
  /** Per-scrape timeout. */
  readonly timeoutMs: number;
  /** Path of the metrics page. */
  readonly path: string;
  /** Scrape this port on every endpoint instead of its own (llm-d metrics-data-source `port`). */
  readonly port?: number;
  /** http (default) or https (GIE metrics-data-source `scheme`). */
  readonly scheme?: "http" | "https";
  /** TLS client settings for https (undici-getter.ts). */
  readonly tls?: UndiciGetterOptions;
  readonly clock: () => number;
  readonly fetchText?: FetchText;
  /** Per-engine overrides of the metric names. */
  readonly specs?: Partial<Record<EngineType, EngineMetricSpec>>;
  /** Outcome of each scrape (for metrics): "ok", "timeout", "http", "parse". */
  readonly onScrape?: (result: "ok" | "timeout" | "http" | "parse") => void;
}

export interface MetricsScraper {
  /** Scrapes every endpoint once (not overlapping with a scrape still in flight). */
  scrapeOnce(): Promise<void>;
  start(): void;
  stop(): void;
}

export function createMetricsScraper(o: MetricsScraperOptions): MetricsScraper {
  const scheme = o.scheme ?? "http";
  const getter = o.fetchText ? undefined : scheme === "https" ? createUndiciGetter(o.tls ?? {}) : createHttpGetter();
  const fetchText = o.fetchText ?? (getter as NonNullable<typeof getter>).get;
  const inFlight = new Set<string>();
  const familyCache = new Map<EngineType, { spec: EngineMetricSpec; families: Set<string> }>();
  let timer: NodeJS.Timeout | undefined;

  function specFor(engine: EngineType) {
    let entry = familyCache.get(engine);
    if (!entry) {
      const spec = o.specs?.[engine] ?? engineMetricSpecs[engine];
      entry = { spec, families: familiesOf(spec) };
      familyCache.set(engine, entry);
    }
    return entry;
  }

  async function scrape(id: string, address: string, port: number, engine: EngineType): Promise<void> {
    const url = `${scheme}://${joinHostPort(address, port)}${o.path}`;
    const signal = AbortSignal.timeout(o.timeoutMs);
    let text: string;
    try {
      text = await fetchText(url, signal);
    } catch (err) {
      const kind = signal.aborted ? "timeout" : ((err as { kind?: string }).kind ?? "http");
      o.datastore.recordScrapeError(id, `${kind}: ${(err as Error).message}`);
      o.onScrape?.(kind === "timeout" ? "timeout" : kind === "parse" ? "parse" : "http");
      return;
    }
    const { spec, families } = specFor(engine);
    const parsed = parsePromText(text, families);
    const extracted = "error" in parsed ? parsed : extractEngineMetrics(parsed.value, spec, o.clock());
    if ("error" in extracted) {
      o.datastore.recordScrapeError(id, `parse: ${extracted.error}`);
      o.onScrape?.("parse");
      return;
    }
    o.datastore.recordMetrics(id, extracted.value);
    o.onScrape?.("ok");
  }

  const scraper: MetricsScraper = {
    async scrapeOnce() {
      const jobs: Promise<void>[] = [];
      for (const [id, s] of o.datastore.specs()) {
        if (inFlight.has(id)) continue;
        inFlight.add(id);
        jobs.push(
          scrape(id, s.address, o.port ?? s.metricsPort ?? s.port, s.engine).finally(() => inFlight.delete(id)),
        );
      }
      if (jobs.length === 0) return;
      // One root span per scrape round when tracing is on (not one per endpoint: 64 endpoints
      // every 50 ms would be 1,280 spans a second).
      await traceOutbound(
        "metrics scrape",
        { "callouts.endpoints": jobs.length, "url.path": o.path },
        () => Promise.all(jobs),
        { root: true },
      );
    },
    start() {
      if (timer) return;
      void scraper.scrapeOnce();
      timer = setInterval(() => void scraper.scrapeOnce(), o.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      getter?.close();
    },
  };
  return scraper;
}
