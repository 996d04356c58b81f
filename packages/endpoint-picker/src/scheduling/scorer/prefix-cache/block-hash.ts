/**
 * Chained block hashes of a prompt. Block i's hash covers its characters and the
 * previous block's hash, so a hit on block i implies hits on blocks 0..i (as GIE's
 * approximate prefix index). The hash is a 53-bit two-lane multiplicative hash
 * (cyrb53 family) rather than xxHash64: the index is private to this process, so
 * bit-compatibility with GIE buys nothing, and a 53-bit value stays a plain JS number
 * (no BigInt on the scheduling hot path).
 */

const twoTo32 = 4_294_967_296;

/** Hashes `text[start, end)` seeded with `seed` (a previous 53-bit hash); returns a 53-bit integer. */
export function hashBlock(text: string, start: number, end: number, seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / twoTo32) >>> 0;
  let h1 = 0xdeadbeef ^ lo;
  let h2 = 0x41c6ce57 ^ hi;
  for (let i = start; i < end; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return twoTo32 * (0x1fffff & h2) + (h1 >>> 0);
}

/** Per-model seed: `h(targetModel || "\0" || cacheSalt)`, so equal prompts to different models never share blocks. */
export function modelSeed(targetModel: string, cacheSalt = ""): number {
  const key = `${targetModel}\u0000${cacheSalt}`;
  return hashBlock(key, 0, key.length, 0);
}

export interface BlockHashOptions {
  /** Block size in characters (GIE: blockSizeTokens 16 x 4 chars/token = 64). */
  readonly blockSizeChars: number;
  /** At most this many blocks are hashed (longer prompts are truncated). */
  readonly maxBlocks: number;
}

/**
 * Hashes of consecutive blocks of `text`; the trailing partial block is hashed too.
 * Text shorter than one block yields no hashes.
 */
export function blockHashes(text: string, seed: number, options: BlockHashOptions): number[] {
  const size = options.blockSizeChars;
  if (text.length < size) return [];
  const hashes: number[] = [];
  let prev = seed;
  for (let start = 0; start < text.length && hashes.length < options.maxBlocks; start += size) {
    prev = hashBlock(text, start, Math.min(start + size, text.length), prev);
    hashes.push(prev);
  }
  return hashes;
}
