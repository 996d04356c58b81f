import { createHash } from "node:crypto";

/** An operating-point rule for picking a threshold from scores the model did not train on. */
export type ThresholdRule = { readonly maxFpr: number } | { readonly minPrecision: number };

/** Confusion counts at a threshold (score >= threshold is positive). */
export function confusion(scores: readonly number[], labels: readonly boolean[], threshold: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  scores.forEach((s, i) => {
    if (s >= threshold) labels[i] ? tp++ : fp++;
    else labels[i] ? fn++ : tn++;
  });
  return {
    tp,
    fp,
    fn,
    tn,
    precision: tp / Math.max(1, tp + fp),
    recall: tp / Math.max(1, tp + fn),
    fpr: fp / Math.max(1, fp + tn),
  };
}

/** The threshold with the highest recall that satisfies the rule (1 when none does). */
export function pickThreshold(scores: readonly number[], labels: readonly boolean[], rule: ThresholdRule): number {
  const candidates = [...new Set(scores)].sort((a, b) => a - b);
  for (const t of candidates) {
    const c = confusion(scores, labels, t);
    if ("maxFpr" in rule ? c.fpr <= rule.maxFpr : c.precision >= rule.minPrecision && c.tp > 0) return t;
  }
  return 1;
}

/** A proportion with its 95% Wilson score interval. */
export interface Proportion {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly successes: number;
  readonly trials: number;
}

/** `successes` of `trials` with the Wilson score interval at `z` (default 1.96, 95%). */
export function wilson(successes: number, trials: number, z = 1.96): Proportion {
  if (trials === 0) return { value: Number.NaN, low: 0, high: 1, successes, trials };
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), successes, trials };
}

/** "0.975 [0.961, 0.984]" (or percentages with `percent`). */
export function formatProportion(
  p: Proportion,
  options: { readonly percent?: boolean; readonly digits?: number } = {},
) {
  const scale = options.percent ? 100 : 1;
  const digits = options.digits ?? (options.percent ? 1 : 3);
  const f = (x: number) => (x * scale).toFixed(digits);
  return `${f(p.value)} [${f(p.low)}, ${f(p.high)}]`;
}

export type Part = "tune" | "held-out";

/**
 * The deterministic part a row belongs to: SHA-256 of `salt` and `key`, the first
 * 32 bits as a fraction below `heldOutShare` = held-out. Rows sharing a key (one
 * question in several pairs) always land together, so nothing leaks across parts.
 */
export function partOf(key: string, heldOutShare = 0.5, salt = "llm-callouts-v1"): Part {
  const digest = createHash("sha256").update(salt).update("\0").update(key).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < heldOutShare ? "held-out" : "tune";
}

/**
 * Groups items linked by shared members (pairs sharing a question): returns, per
 * item, the smallest member of its connected component, a key for {@link partOf}.
 */
export function componentKeys(items: readonly (readonly string[])[]): string[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    let node = x;
    while (node !== root) {
      const next = parent.get(node) as string;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  for (const members of items) for (const m of members) if (!parent.has(m)) parent.set(m, m);
  for (const members of items) {
    for (const m of members.slice(1)) {
      const [x, y] = [find(members[0] as string), find(m)];
      // The smaller root survives, so a component's key is its smallest member.
      if (x < y) parent.set(y, x);
      else if (y < x) parent.set(x, y);
    }
  }
  return items.map((members) => find(members[0] as string));
}
