/**
 * A virtual-time model of one vLLM V1 engine: FCFS waiting queue, continuous
 * batching up to `maxNumSeqs` with a per-step token budget (chunked prefill),
 * prefix caching over a paged KV cache, recompute preemption when blocks run
 * out, and LoRA slots. Pure: the caller owns the clock and calls
 * `beginStep(now)` then, `durationMs` later, `endStep()`.
 * Scheduling order follows `vllm/v1/core/sched/scheduler.py`: running requests
 * first (preempting the newest running request when KV is short), then waiting
 * requests while nothing was preempted in this step.
 */
import { blockHashes } from "./block-hash.js";
import { type EngineConfig, stepDurationMs } from "./engine-config.js";
import { createKvCache, type KvCache } from "./kv-cache.js";

/** A request as handed to the engine. */
export interface EngineRequest {
  readonly id: string;
  readonly promptTokenIds: readonly number[];
  /** Output tokens to generate (the engine never stops early). */
  readonly maxTokens: number;
  readonly lora?: string | undefined;
}

/** One output token produced by a step. */
export interface TokenEvent {
  readonly requestId: string;
  /** 0-based index of the output token. */
  readonly index: number;
  /** Whether this was the request's last token. */
  readonly finished: boolean;
  /** Prompt tokens served from the prefix cache at the request's (last) admission. */
  readonly cachedPromptTokens: number;
}

/**
 * Engine state as vLLM's `/metrics` gauges expose it: the one snapshot type of the simulator (the
 * HTTP server renders it, the discrete-event simulation hands it to routing policies as scraped).
 */
export interface EngineSnapshot {
  /** `vllm:num_requests_waiting`. */
  readonly waiting: number;
  /** `vllm:num_requests_running`. */
  readonly running: number;
  /** `vllm:kv_cache_usage_perc`, in [0, 1]. */
  readonly kvCacheUsage: number;
  /** `vllm:lora_requests_info{running_lora_adapters}`: adapters of running requests, first-seen order. */
  readonly runningLoras: readonly string[];
  /** `vllm:lora_requests_info{waiting_lora_adapters}`: adapters of waiting requests, first-seen order. */
  readonly waitingLoras: readonly string[];
  /** `vllm:lora_requests_info{max_lora}`. */
  readonly maxLoras: number;
  /** `vllm:cache_config_info{block_size}` in tokens. */
  readonly blockSize: number;
  /** `vllm:cache_config_info{num_gpu_blocks}`. */
  readonly numGpuBlocks: number;
}

/** Monotonic counters since creation. */
export interface EngineCounters {
  readonly steps: number;
  readonly promptTokens: number;
  readonly generationTokens: number;
  /** Prompt tokens looked up in the prefix cache (`vllm:prefix_cache_queries`). */
  readonly prefixQueryTokens: number;
  /** Prompt tokens found in the prefix cache (`vllm:prefix_cache_hits`). */
  readonly prefixHitTokens: number;
  readonly preemptions: number;
  readonly evictions: number;
  readonly loraLoads: number;
  readonly finished: number;
}

export interface Engine {
  readonly config: EngineConfig;
  readonly kv: KvCache;
  /** Queue a request (FCFS). Ids must be unique among live requests. */
  add(request: EngineRequest): void;
  /** Drop a request wherever it is, releasing its blocks; false if unknown. */
  abort(requestId: string): boolean;
  /** Whether any request is waiting or running. */
  hasWork(): boolean;
  /** Schedule a batch; returns its duration in ms, or undefined when there is nothing to run. */
  beginStep(nowMs: number): number | undefined;
  /** Apply the scheduled step; returns the tokens it produced. */
  endStep(): TokenEvent[];
  snapshot(): EngineSnapshot;
  counters(): EngineCounters;
}

interface LiveRequest {
  readonly req: EngineRequest;
  readonly promptLen: number;
  hashes: number[] | undefined;
  blocks: number[];
  numComputed: number;
  numOutput: number;
  /** Prompt blocks already registered in the prefix cache. */
  numCachedBlocks: number;
  cachedPromptTokens: number;
  status: "waiting" | "running" | "done";
}

/** Creates an idle engine with an empty KV cache. */
export function createEngine(config: EngineConfig): Engine {
  const kv = createKvCache(config.numGpuBlocks, config.blockSize);
  const bs = config.blockSize;
  const byId = new Map<string, LiveRequest>();
  let waiting: LiveRequest[] = [];
  const running: LiveRequest[] = [];
  /** GPU LoRA slots, least recently used first. */
  const loraSlots: string[] = [];
  let scheduled: { r: LiveRequest; n: number }[] | undefined;
  const c = {
    steps: 0,
    promptTokens: 0,
    generationTokens: 0,
    prefixQueryTokens: 0,
    prefixHitTokens: 0,
    preemptions: 0,
    loraLoads: 0,
    finished: 0,
  };

  const numTokens = (r: LiveRequest) => r.promptLen + r.numOutput;
  const blocksFor = (tokens: number) => Math.ceil(tokens / bs);

  function preempt(r: LiveRequest): void {
    kv.free(r.blocks);
    r.blocks = [];
    r.numComputed = 0;
    r.numCachedBlocks = 0;
    r.status = "waiting";
    waiting.unshift(r);
    c.preemptions++;
  }

  /** Admission-time prefix lookup: cached block ids, capped so the last token is recomputed. */
  function prefixHits(r: LiveRequest): number[] {
    if (!config.enablePrefixCaching) return [];
    r.hashes ??= blockHashes(r.req.promptTokenIds, bs, r.req.lora ?? "");
    const hits = kv.lookup(r.hashes);
    const cap = Math.floor((numTokens(r) - 1) / bs);
    return hits.length > cap ? hits.slice(0, cap) : hits;
  }

  function scheduleRunning(
    batch: { r: LiveRequest; n: number }[],
    budget: number,
  ): { budget: number; preempted: boolean } {
    let preempted = false;
    let i = 0;
    while (i < running.length && budget > 0) {
      const r = running[i]!;
      const n = Math.min(numTokens(r) - r.numComputed, budget);
      let ok = true;
      for (;;) {
        const need = blocksFor(r.numComputed + n) - r.blocks.length;
        if (need <= 0) break;
        const got = kv.allocate(need);
        if (got) {
          r.blocks.push(...got);
          break;
        }
        const victim = running.pop()!;
        preempt(victim);
        preempted = true;
        if (victim === r) {
          ok = false;
          break;
        }
      }
      if (!ok) break;
      batch.push({ r, n });
      budget -= n;
      i++;
    }
    return { budget, preempted };
  }

  function scheduleWaiting(batch: { r: LiveRequest; n: number }[], budget: number): void {
    const loras = new Set<string>();
    for (const r of running) if (r.req.lora) loras.add(r.req.lora);
    const skipped: LiveRequest[] = [];
    while (waiting.length > 0 && running.length < config.maxNumSeqs && budget > 0) {
      const r = waiting[0]!;
      const lora = r.req.lora;
      if (lora && !loras.has(lora) && loras.size >= config.maxLoras) {
        skipped.push(waiting.shift()!);
        continue;
      }
      const hits = prefixHits(r);
      const cached = hits.length * bs;
      const n = Math.min(numTokens(r) - cached, budget);
      const need = blocksFor(cached + n) - hits.length;
      if (need + kv.countFree(hits) > kv.numFreeBlocks()) break;
      kv.touch(hits);
      r.blocks = [...hits, ...(kv.allocate(need) ?? [])];
      r.numComputed = cached;
      r.numCachedBlocks = hits.length;
      r.cachedPromptTokens = Math.min(cached, r.promptLen);
      c.prefixQueryTokens += numTokens(r);
      c.prefixHitTokens += cached;
      waiting.shift();
      r.status = "running";
      running.push(r);
      if (lora) loras.add(lora);
      batch.push({ r, n });
      budget -= n;
    }
    if (skipped.length > 0) waiting = [...skipped, ...waiting];
  }

  function loadLoras(batch: readonly { r: LiveRequest }[]): number {
    let loads = 0;
    const inBatch = new Set<string>();
    for (const { r } of batch) if (r.req.lora) inBatch.add(r.req.lora);
    for (const lora of inBatch) {
      const at = loraSlots.indexOf(lora);
      if (at >= 0) {
        loraSlots.splice(at, 1);
      } else {
        loads++;
        if (loraSlots.length >= config.maxLoras) {
          const victim = loraSlots.findIndex((l) => !inBatch.has(l));
          loraSlots.splice(Math.max(victim, 0), 1);
        }
      }
      loraSlots.push(lora);
    }
    return loads;
  }

  function finish(r: LiveRequest): void {
    kv.free(r.blocks);
    r.blocks = [];
    r.status = "done";
    byId.delete(r.req.id);
    const i = running.indexOf(r);
    if (i >= 0) running.splice(i, 1);
    c.finished++;
  }

  return {
    config,
    kv,
    add(request) {
      if (byId.has(request.id)) throw new Error(`duplicate request id ${request.id}`);
      const r: LiveRequest = {
        req: request,
        promptLen: request.promptTokenIds.length,
        hashes: undefined,
        blocks: [],
        numComputed: 0,
        numOutput: 0,
        numCachedBlocks: 0,
        cachedPromptTokens: 0,
        status: "waiting",
      };
      byId.set(request.id, r);
      waiting.push(r);
      c.promptTokens += r.promptLen;
    },
    abort(requestId) {
      const r = byId.get(requestId);
      if (!r) return false;
      if (r.status === "waiting") waiting.splice(waiting.indexOf(r), 1);
      finish(r);
      c.finished--;
      return true;
    },
    hasWork: () => waiting.length > 0 || running.length > 0,
    beginStep(nowMs) {
      void nowMs;
      if (scheduled) throw new Error("step already in progress");
      const batch: { r: LiveRequest; n: number }[] = [];
      const { budget, preempted } = scheduleRunning(batch, config.maxNumBatchedTokens);
      if (!preempted) scheduleWaiting(batch, budget);
      if (batch.length === 0) return undefined;
      let prefillTokens = 0;
      let decodeSeqs = 0;
      let contextTokens = 0;
      for (const { r, n } of batch) {
        const isDecode = r.numComputed >= r.promptLen && n === 1;
        if (isDecode) decodeSeqs++;
        else prefillTokens += n;
        contextTokens += r.numComputed + n;
      }
      const loraLoads = loadLoras(batch);
      c.loraLoads += loraLoads;
      c.steps++;
      scheduled = batch;
      return stepDurationMs({ prefillTokens, decodeSeqs, contextTokens, loraLoads }, config.latency);
    },
    endStep() {
      const batch = scheduled ?? [];
      scheduled = undefined;
      const events: TokenEvent[] = [];
      for (const { r, n } of batch) {
        if (r.status !== "running") continue;
        r.numComputed += n;
        if (config.enablePrefixCaching && r.hashes) {
          const full = Math.min(Math.floor(r.numComputed / bs), r.hashes.length);
          for (let b = r.numCachedBlocks; b < full; b++) kv.cacheBlock(r.blocks[b]!, r.hashes[b]!);
          r.numCachedBlocks = Math.max(r.numCachedBlocks, full);
        }
        if (r.numComputed < numTokens(r)) continue;
        const index = r.numOutput++;
        c.generationTokens++;
        const finished = r.numOutput >= r.req.maxTokens;
        events.push({ requestId: r.req.id, index, finished, cachedPromptTokens: r.cachedPromptTokens });
        if (finished) finish(r);
      }
      return events;
    },
    snapshot() {
      const lorasOf = (list: readonly LiveRequest[]) => [
        ...new Set(list.flatMap((r) => (r.req.lora ? [r.req.lora] : []))),
      ];
      return {
        waiting: waiting.length,
        running: running.length,
        kvCacheUsage: kv.usage(),
        runningLoras: lorasOf(running),
        waitingLoras: lorasOf(waiting),
        maxLoras: config.maxLoras,
        blockSize: bs,
        numGpuBlocks: config.numGpuBlocks,
      };
    },
    counters: () => ({ ...c, evictions: kv.stats().evictions }),
  };
}
