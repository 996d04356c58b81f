/** A seeded pseudo-random generator; every draw is deterministic for a given seed. */
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

/** mulberry32: tiny, fast, good enough for simulation; seeds are 32-bit integers. */
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

/** Draws ranks 0..n-1 with P(k) proportional to 1 / (k + 1)^s. */
export function createZipf(n: number, s: number): (rng: Rng) => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf.push(total);
  }
  return (rng) => {
    const u = rng.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
