import type { Rng } from "@llm-callouts/random";

export { createRng, type Rng } from "@llm-callouts/random";

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
