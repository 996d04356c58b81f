/**
 * Seeded workload generators with Poisson arrivals. Prompt text is built from
 * 4-character chunks, so `tokenize(text).length === promptTokens` and shared
 * prefixes tokenize to shared token prefixes.
 */
import { createRng, createZipf, type Rng } from "../engine/rng.js";
import type { SimRequest, Workload } from "./types.js";

/** Options shared by every generator. */
export interface WorkloadOptions {
  /** Mean arrival rate, requests per second. */
  readonly ratePerS: number;
  /** Number of requests. */
  readonly count: number;
  readonly seed: number;
  /** Base model name (default `meta-llama/Llama-3.1-8B-Instruct`). */
  readonly model?: string;
}

const defaultModel = "meta-llama/Llama-3.1-8B-Instruct";
const letters = "abcdefghijklmnopqrstuvwxyz";

/** Random text of exactly `tokens` 4-character chunks (`"abc "` style words). */
export function randomText(rng: Rng, tokens: number): string {
  const parts: string[] = new Array(tokens);
  for (let i = 0; i < tokens; i++) {
    const x = rng.int(26 * 26 * 26);
    parts[i] = `${letters[x % 26]}${letters[Math.floor(x / 26) % 26]}${letters[Math.floor(x / 676)]} `;
  }
  return parts.join("");
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));

function arrivals(rng: Rng, ratePerS: number, count: number): number[] {
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += rng.exponential(ratePerS / 1000);
    out.push(t);
  }
  return out;
}

function request(
  i: number,
  arrivalMs: number,
  model: string,
  promptText: string,
  outputTokens: number,
  lora?: string,
): SimRequest {
  return {
    id: `r${i}`,
    model: lora ?? model,
    lora,
    promptText,
    promptTokens: promptText.length / 4,
    outputTokens,
    arrivalMs,
    headers: {},
  };
}

/**
 * ShareGPT-like chat: log-normal prompt (median 160 tokens, sigma 1.0, 4..4096)
 * and output (median 140, sigma 0.8, 1..1024) lengths, close to ShareGPT V3's
 * means (~260 in, ~190 out with the Llama tokenizer). No shared prefixes.
 */
export function shareGptWorkload(o: WorkloadOptions): Workload {
  const rng = createRng(o.seed);
  const times = arrivals(rng, o.ratePerS, o.count);
  const model = o.model ?? defaultModel;
  const requests = times.map((t, i) => {
    const promptTokens = clamp(rng.lognormal(160, 1.0), 4, 4096);
    const outputTokens = clamp(rng.lognormal(140, 0.8), 1, 1024);
    return request(i, t, model, randomText(rng, promptTokens), outputTokens);
  });
  return { name: "sharegpt", ratePerS: o.ratePerS, requests };
}

export interface SharedPrefixOptions extends WorkloadOptions {
  /** Distinct system prompts (default 128). */
  readonly groups?: number;
  /** Tokens per system prompt (default 2048). */
  readonly systemTokens?: number;
  /** Median question length in tokens (default 128, log-normal sigma 0.5). */
  readonly questionTokens?: number;
  /** Median output length in tokens (default 96, log-normal sigma 0.5). */
  readonly outputTokens?: number;
}

/**
 * Many long system prompts reused by many users, after inference-perf's
 * `shared_prefix` data set: each request picks a group uniformly and appends a
 * fresh question. Defaults size the prefixes (128 x 2048 = 262k tokens) at
 * ~1.8x one replica's KV cache (A100-40GB preset) and ~23% of the 8-replica pool's.
 */
export function sharedPrefixWorkload(o: SharedPrefixOptions): Workload {
  const rng = createRng(o.seed);
  const groups = o.groups ?? 128;
  const systemTokens = o.systemTokens ?? 2048;
  const prefixes = Array.from({ length: groups }, () => randomText(rng, systemTokens));
  const times = arrivals(rng, o.ratePerS, o.count);
  const model = o.model ?? defaultModel;
  const requests = times.map((t, i) => {
    const g = rng.int(groups);
    const question = randomText(rng, clamp(rng.lognormal(o.questionTokens ?? 128, 0.5), 8, 2048));
    const outputTokens = clamp(rng.lognormal(o.outputTokens ?? 96, 0.5), 1, 1024);
    return request(i, t, model, prefixes[g]! + question, outputTokens);
  });
  return { name: "shared-prefix", ratePerS: o.ratePerS, requests };
}

export interface LoraMixOptions extends WorkloadOptions {
  /** Number of adapters (default 24). */
  readonly adapters?: number;
  /** Zipf exponent of adapter popularity (default 1.0). */
  readonly zipfS?: number;
  /** Share of requests to the base model (default 0.1). */
  readonly baseShare?: number;
}

/**
 * Requests spread over many LoRA adapters with Zipf popularity (`lora-0` most
 * popular) and ShareGPT-like lengths (shorter outputs: median 100).
 */
export function loraMixWorkload(o: LoraMixOptions): Workload {
  const rng = createRng(o.seed);
  const adapters = o.adapters ?? 24;
  const zipf = createZipf(adapters, o.zipfS ?? 1.0);
  const baseShare = o.baseShare ?? 0.1;
  const times = arrivals(rng, o.ratePerS, o.count);
  const model = o.model ?? defaultModel;
  const requests = times.map((t, i) => {
    const lora = rng.next() < baseShare ? undefined : `lora-${zipf(rng)}`;
    const promptTokens = clamp(rng.lognormal(160, 1.0), 4, 4096);
    const outputTokens = clamp(rng.lognormal(100, 0.8), 1, 1024);
    return request(i, t, model, randomText(rng, promptTokens), outputTokens, lora);
  });
  return { name: "lora-mix", ratePerS: o.ratePerS, requests };
}
