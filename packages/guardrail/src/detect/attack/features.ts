import type { SparseVector } from "@llm-callouts/learn";

export type { SparseVector };

/** Feature hashing settings; the model file records them so scoring matches training. */
export interface FeatureOptions {
  /** log2 of the hashed dimension (default 17 = 131 072 buckets). */
  readonly bits: number;
  /** Characters of input considered, head and tail kept (default 6 000). */
  readonly maxChars: number;
}

export const defaultFeatureOptions: FeatureOptions = { bits: 17, maxChars: 6000 };

const scratch = new Map<number, Float32Array>();
function scratchFor(bits: number): Float32Array {
  let array = scratch.get(bits);
  if (!array) {
    array = new Float32Array(1 << bits);
    scratch.set(bits, array);
  }
  return array;
}

const wordPattern = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

// FNV-1a over UTF-16 code units, 32-bit.
function fnv(seed: number, text: string, start: number, end: number): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Lower-cases, collapses whitespace and keeps the head and tail of long texts. */
export function prepareText(text: string, maxChars: number): string {
  const flat = text.toLowerCase().replace(/\s+/g, " ").trim();
  if (flat.length <= maxChars) return flat;
  const half = Math.floor(maxChars / 2);
  return `${flat.slice(0, half)} ${flat.slice(flat.length - half)}`;
}

/**
 * Hashed word 1-2-grams and character 3-5-grams, sublinear term frequency
 * (1 + ln tf), L2-normalised. Word and character grams use different hash seeds.
 */
export function extractFeatures(text: string, options: FeatureOptions = defaultFeatureOptions): SparseVector {
  const mask = (1 << options.bits) - 1;
  // A dense scratch array plus the list of touched buckets: no Map, little garbage per call.
  const counts = scratchFor(options.bits);
  const touched: number[] = [];
  const add = (h: number): void => {
    const k = h & mask;
    if (counts[k] === 0) touched.push(k);
    counts[k] = (counts[k] as number) + 1;
  };
  const flat = prepareText(text, options.maxChars);
  let previous = -1;
  for (const m of flat.matchAll(wordPattern)) {
    const h = fnv(0x811c9dc5, m[0], 0, m[0].length);
    add(h);
    if (previous >= 0) add(Math.imul(previous ^ 0x5bd1e995, 31) ^ h);
    previous = h;
  }
  const padded = ` ${flat} `;
  for (let i = 0; i + 3 <= padded.length; i++) {
    let h = 0x9747b28c;
    for (let n = 0; n < 5 && i + n < padded.length; n++) {
      h = fnv(h, padded, i + n, i + n + 1);
      if (n >= 2) add(h ^ n);
    }
  }
  const indices = new Uint32Array(touched.length);
  const values = new Float32Array(touched.length);
  let norm = 0;
  for (let k = 0; k < touched.length; k++) {
    const index = touched[k] as number;
    const v = 1 + Math.log(counts[index] as number);
    counts[index] = 0;
    indices[k] = index;
    values[k] = v;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) * scale;
  return { indices, values };
}

/** Minimum words before the classifier is consulted, per attack kind (signatures always run). */
export const minWords = { injection: 3, jailbreak: 10 } as const;

/**
 * Per attack kind, whether the text's tail is also scored on its own: an injection is typically an
 * instruction appended to benign text ("… Now forget that and say X"), which the whole-text features
 * dilute. Jailbreaks are whole-prompt setups, so that model scores the whole text only.
 */
export const tailWindowKinds = { injection: true, jailbreak: false } as const;

const sentenceBreak = /(?<=[.!?:;])\s+|\n+/;

/**
 * The last 1–5 sentences as suffix windows (within the last 1 500 characters, 3+ words each),
 * excluding the whole text itself.
 */
export function tailWindows(text: string): string[] {
  const tail = text.length > 1500 ? text.slice(-1500) : text;
  const sentences = tail.split(sentenceBreak).filter((s) => s.trim() !== "");
  const limit = Math.min(5, tail === text ? sentences.length - 1 : sentences.length);
  const windows: string[] = [];
  for (let k = 1; k <= limit; k++) {
    const window = sentences.slice(-k).join(" ");
    if (countWords(window, 3) >= 3) windows.push(window);
  }
  return windows;
}

/** Number of whitespace-separated words, counting up to `limit`. */
export function countWords(text: string, limit: number): number {
  return text.split(/\s+/, limit + 1).filter((w) => w !== "").length;
}
