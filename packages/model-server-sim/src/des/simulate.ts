/**
 * The discrete-event loop: N engines in virtual time, a scraper refreshing
 * each endpoint's metrics every `scrapeIntervalMs` (phases staggered), and a
 * routing policy picking an endpoint at each arrival from those snapshots.
 */
import { createEngine, type Engine } from "../engine/engine.js";
import { type EngineConfig, enginePresets } from "../engine/engine-config.js";
import { tokenize } from "../engine/tokenizer.js";
import { createEventQueue } from "./event-queue.js";
import { summarize } from "./stats.js";
import type {
  EndpointMetrics,
  EndpointView,
  PolicyFactory,
  PoolView,
  RequestOutcome,
  RunResult,
  SimRequest,
  Workload,
} from "./types.js";

export interface SimulationOptions {
  readonly workload: Workload;
  readonly policy: PolicyFactory;
  /** Number of engine replicas (default 8). */
  readonly replicas?: number;
  /** Engine model of every replica (default the `llama-3-8b-a100-40gb` preset). */
  readonly engine?: EngineConfig;
  /** Virtual scrape interval in ms (default 50, the reference picker's refresh interval). */
  readonly scrapeIntervalMs?: number;
  /** Seed for the policy (default 1). */
  readonly seed?: number;
  /** Base model name reported to the policy. */
  readonly baseModel?: string;
  /** Called for every completed request, in completion order. */
  readonly onRequestDone?: (outcome: RequestOutcome) => void;
}

/** Endpoint id of replica `i` (0-based): `10.0.0.<i+1>:8000`. */
export function endpointIdOf(i: number): string {
  return `10.0.${Math.floor((i + 1) / 256)}.${(i + 1) % 256}:8000`;
}

const tokenCache = new WeakMap<SimRequest, number[]>();
function tokensOf(r: SimRequest): number[] {
  let t = tokenCache.get(r);
  if (!t) {
    t = tokenize(r.promptText);
    tokenCache.set(r, t);
  }
  return t;
}

type SimEvent =
  | { kind: "arrival"; index: number }
  | { kind: "step"; replica: number }
  | { kind: "scrape"; replica: number };

function metricsOf(engine: Engine, nowMs: number): EndpointMetrics {
  const s = engine.snapshot();
  return { ...s, scrapedAtMs: nowMs };
}

/** Runs one workload under one policy to completion; deterministic for equal inputs. */
export function runSimulation(options: SimulationOptions): RunResult {
  const replicas = options.replicas ?? 8;
  const config = options.engine ?? enginePresets["llama-3-8b-a100-40gb"];
  const scrapeMs = options.scrapeIntervalMs ?? 50;
  const requests = options.workload.requests;
  const ids = Array.from({ length: replicas }, (_, i) => endpointIdOf(i));
  const indexOfId = new Map(ids.map((id, i) => [id, i]));
  const engines = ids.map(() => createEngine(config));
  const stepping = new Array<boolean>(replicas).fill(false);
  const policy = options.policy.create({
    endpointIds: ids,
    seed: options.seed ?? 1,
    baseModel: options.baseModel ?? "meta-llama/Llama-3.1-8B-Instruct",
  });
  const views: EndpointView[] = ids.map((id, i) => ({ id, metrics: metricsOf(engines[i]!, 0) }));
  const view: PoolView = { endpointIds: ids, endpoints: views };

  const byId = new Map<string, { req: SimRequest; replica: number; firstMs?: number; cached?: number }>();
  const ttft: number[] = [];
  const e2e: number[] = [];
  const tpot: number[] = [];
  const picks: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  let rejected = 0;
  let completed = 0;
  let outputTokens = 0;
  let promptTokensServed = 0;
  let cachedTokensServed = 0;
  let lastMs = 0;
  let pendingArrivals = requests.length;

  // Throughput is measured in steady state: over the last 80% of the arrival window.
  const firstMs = requests[0]?.arrivalMs ?? 0;
  const lastArrivalMs = requests.at(-1)?.arrivalMs ?? 0;
  const windowStartMs = firstMs + 0.2 * (lastArrivalMs - firstMs);
  const inWindow = (t: number) => t >= windowStartMs && t <= lastArrivalMs;
  let windowTokens = 0;
  let windowCompletions = 0;

  const q = createEventQueue<SimEvent>();
  for (const [index, r] of requests.entries()) q.push(r.arrivalMs, { kind: "arrival", index });
  for (let i = 0; i < replicas; i++) q.push((i * scrapeMs) / replicas, { kind: "scrape", replica: i });

  const kick = (i: number, nowMs: number) => {
    if (stepping[i]) return;
    const d = engines[i]!.beginStep(nowMs);
    if (d === undefined) return;
    stepping[i] = true;
    q.push(nowMs + d, { kind: "step", replica: i });
  };
  // A replica with work but no step in flight is stuck (a prompt larger than its KV cache): stop scraping then.
  const busy = () => pendingArrivals > 0 || stepping.some(Boolean);

  for (let ev = q.pop(); ev; ev = q.pop()) {
    const now = ev.timeMs;
    const e = ev.event;
    if (e.kind === "arrival") {
      pendingArrivals--;
      const req = requests[e.index]!;
      const target = policy.pick(req, view, now);
      const replica = target === undefined ? undefined : indexOfId.get(target);
      if (replica === undefined) {
        rejected++;
        continue;
      }
      picks[target!]!++;
      byId.set(req.id, { req, replica });
      engines[replica]!.add({
        id: req.id,
        promptTokenIds: tokensOf(req),
        maxTokens: Math.max(1, req.outputTokens),
        lora: req.lora,
      });
      kick(replica, now);
    } else if (e.kind === "step") {
      stepping[e.replica] = false;
      const id = ids[e.replica]!;
      for (const t of engines[e.replica]!.endStep()) {
        const live = byId.get(t.requestId)!;
        outputTokens++;
        if (inWindow(now)) windowTokens++;
        if (t.index === 0) {
          live.firstMs = now;
          live.cached = t.cachedPromptTokens;
          ttft.push(now - live.req.arrivalMs);
          promptTokensServed += live.req.promptTokens;
          cachedTokensServed += t.cachedPromptTokens;
          policy.onFirstToken?.(t.requestId, id, now);
        }
        if (t.finished) {
          completed++;
          if (inWindow(now)) windowCompletions++;
          lastMs = now;
          e2e.push(now - live.req.arrivalMs);
          if (t.index > 0) tpot.push((now - live.firstMs!) / t.index);
          byId.delete(t.requestId);
          policy.onComplete?.(t.requestId, id, now);
          options.onRequestDone?.({
            request: live.req,
            endpointId: id,
            ttftMs: live.firstMs! - live.req.arrivalMs,
            e2eMs: now - live.req.arrivalMs,
            cachedPromptTokens: live.cached ?? 0,
          });
        }
      }
      kick(e.replica, now);
    } else {
      views[e.replica] = { id: ids[e.replica]!, metrics: metricsOf(engines[e.replica]!, now) };
      if (busy()) q.push(now + scrapeMs, e);
    }
  }

  const windowS = Math.max(1e-9, (lastArrivalMs - windowStartMs) / 1000);
  let preemptions = 0;
  for (const en of engines) preemptions += en.counters().preemptions;
  return {
    policy: policy.name,
    workload: options.workload.name,
    ratePerS: options.workload.ratePerS,
    requests: requests.length,
    completed,
    rejected,
    throughputTokensPerS: windowTokens / windowS,
    throughputRequestsPerS: windowCompletions / windowS,
    outputTokens,
    ttftMs: summarize(ttft),
    e2eMs: summarize(e2e),
    tpotMsMean: tpot.length === 0 ? 0 : tpot.reduce((s, v) => s + v, 0) / tpot.length,
    prefixHitRate: promptTokensServed === 0 ? 0 : cachedTokensServed / promptTokensServed,
    preemptions,
    durationMs: lastMs - firstMs,
    picksByEndpoint: Object.fromEntries(
      ids.map((id) => [id, requests.length === 0 ? 0 : picks[id]! / requests.length]),
    ),
  };
}
