/**
 * The project's one seeded pseudo-random generator (mulberry32: tiny, fast, 32-bit seeds, good
 * enough for simulation, sampling and weighted splits; not for anything secret). Every draw is
 * deterministic for a given seed, so tests, benchmarks, data splits and simulations repeat exactly.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Exponential with the given rate (mean 1 / rate). */
  exponential(rate: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Log-normal parameterised by the median and the shape sigma of the underlying normal. */
  lognormal(median: number, sigma: number): number;
  /** Fork an independent stream (for sub-components), deterministic given this stream's state. */
  fork(): Rng;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    exponential: (rate) => -Math.log(1 - next()) / rate,
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    lognormal: (median, sigma) => median * Math.exp(sigma * rng.normal()),
    fork: () => createRng(Math.floor(next() * 4294967296)),
  };
  return rng;
}

/** A seeded uniform source in [0, 1), for APIs that take `() => number` (like Math.random). */
export function seededRandom(seed: number): () => number {
  return createRng(seed).next;
}
