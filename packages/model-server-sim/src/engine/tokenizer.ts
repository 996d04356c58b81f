/**
 * A deterministic stand-in tokenizer shared by the HTTP server and the DES:
 * one token per 4 characters (the usual English average, and the ratio the
 * reference picker assumes), token id = FNV-1a of the chunk modulo the vocabulary.
 * Concatenation is exact when the left part's length is a multiple of 4.
 */

/** Characters per token. */
export const charsPerToken = 4;
/** Vocabulary size of the stand-in tokenizer (Llama-3's is 128,256). */
export const vocabSize = 128_256;

/** Token ids of `text`; length is `ceil(text.length / 4)`. */
export function tokenize(text: string): number[] {
  const ids: number[] = new Array(Math.ceil(text.length / charsPerToken));
  for (let t = 0, i = 0; i < text.length; t++, i += charsPerToken) {
    let h = 0x811c9dc5;
    const end = Math.min(i + charsPerToken, text.length);
    for (let j = i; j < end; j++) {
      h ^= text.charCodeAt(j);
      h = Math.imul(h, 0x01000193);
    }
    ids[t] = (h >>> 0) % vocabSize;
  }
  return ids;
}

/** Number of tokens `tokenize(text)` would return, without tokenizing. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / charsPerToken);
}

const words = ["the", "model", "token", "cache", "fast", "route", "batch", "prefix", "queue", "serve", "llm", "gpu"];

/** Deterministic output text for output token `index` of a request with seed `seed` (about 4-6 chars). */
export function outputTokenText(seed: number, index: number): string {
  const h = Math.imul((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0, 0x85ebca6b) >>> 0;
  return `${words[h % words.length]} `;
}
