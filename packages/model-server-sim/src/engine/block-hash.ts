/**
 * Chained block hashes over token ids, as vLLM's prefix caching computes them:
 * block i's hash covers its tokens and block i-1's hash, so equal hashes imply
 * equal prefixes. Only full blocks are hashed. The extra key (LoRA adapter name)
 * seeds the chain, so different adapters never share cached blocks.
 */

function mix(h: number, v: number): number {
  let x = Math.imul(v, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  let y = h ^ x;
  y = (y << 13) | (y >>> 19);
  return (Math.imul(y, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function seedOf(extraKey: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < extraKey.length; i++) h = Math.imul(h ^ extraKey.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Hashes of the `floor(tokens.length / blockSize)` full blocks, as 53-bit safe integers. */
export function blockHashes(tokens: readonly number[], blockSize: number, extraKey = ""): number[] {
  const n = Math.floor(tokens.length / blockSize);
  const out: number[] = new Array(n);
  const seed = seedOf(extraKey);
  let hi = seed ^ 0x5bd1e995;
  let lo = seed;
  for (let b = 0; b < n; b++) {
    let a = mix(hi, lo);
    let c = mix(lo ^ 0x27d4eb2f, hi);
    for (let i = b * blockSize; i < (b + 1) * blockSize; i++) {
      const t = tokens[i]!;
      a = mix(a, t);
      c = mix(c, t ^ 0x165667b1);
    }
    hi = finish(a);
    lo = finish(c);
    out[b] = (hi & 0x1fffff) * 4294967296 + lo;
  }
  return out;
}
