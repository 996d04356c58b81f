/**
 * Gradient-boosted regression trees for binary classification (logistic loss,
 * Newton leaf values, L2 on leaves), for small dense feature sets: a few dozen
 * features, tens of thousands of rows. The model is plain JSON so it can be
 * committed next to the code that scores it.
 */

/** One tree, as parallel arrays: node n splits on `feature[n]` at `threshold[n]` (x < t goes left). */
export interface Tree {
  /** Feature index, or -1 for a leaf. */
  readonly feature: readonly number[];
  readonly threshold: readonly number[];
  readonly left: readonly number[];
  readonly right: readonly number[];
  /** Leaf value (log-odds contribution); 0 on inner nodes. */
  readonly value: readonly number[];
}

export interface BoostedTrees {
  readonly bias: number;
  readonly trees: readonly Tree[];
}

export interface BoostOptions {
  /** Number of trees (default 200). */
  readonly trees?: number;
  /** Maximum depth (default 3). */
  readonly depth?: number;
  /** Shrinkage per tree (default 0.1). */
  readonly learningRate?: number;
  /** L2 penalty on leaf values (default 1). */
  readonly lambda?: number;
  /** Smallest hessian sum a leaf may hold (default 1). */
  readonly minChildWeight?: number;
  /** Per-row weights (default 1 each). */
  readonly sampleWeights?: readonly number[];
}

/** Raw score (log-odds) of a row. */
export function boostedMargin(model: BoostedTrees, x: ArrayLike<number>): number {
  let z = model.bias;
  for (const tree of model.trees) z += leafValue(tree, x);
  return z;
}

/** Probability of the positive class. */
export function boostedPredict(model: BoostedTrees, x: ArrayLike<number>): number {
  return 1 / (1 + Math.exp(-boostedMargin(model, x)));
}

/** Trains deterministically (no sampling): the same rows give the same model. */
export function trainBoostedTrees(
  xs: readonly ArrayLike<number>[],
  ys: readonly boolean[],
  options: BoostOptions = {},
): BoostedTrees {
  const n = xs.length;
  if (n === 0) throw new Error("trainBoostedTrees: no rows");
  const dims = xs[0]?.length ?? 0;
  const treeCount = options.trees ?? 200;
  const depth = options.depth ?? 3;
  const rate = options.learningRate ?? 0.1;
  const lambda = options.lambda ?? 1;
  const minChild = options.minChildWeight ?? 1;
  const w = options.sampleWeights ?? new Array<number>(n).fill(1);
  let positive = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += w[i] as number;
    if (ys[i]) positive += w[i] as number;
  }
  const prior = Math.min(Math.max(positive / total, 1e-6), 1 - 1e-6);
  const bias = Math.log(prior / (1 - prior));
  // Rows sorted once per feature; each node walks the sorted order filtered by membership.
  const sorted = Array.from({ length: dims }, (_, f) =>
    Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => (xs[a]?.[f] as number) - (xs[b]?.[f] as number)),
  );
  const margins = new Float64Array(n).fill(bias);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const nodeOf = new Int32Array(n);
  const trees: Tree[] = [];
  for (let t = 0; t < treeCount; t++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(margins[i] as number)));
      g[i] = (p - (ys[i] ? 1 : 0)) * (w[i] as number);
      h[i] = Math.max(p * (1 - p), 1e-6) * (w[i] as number);
    }
    const tree = {
      feature: [] as number[],
      threshold: [] as number[],
      left: [] as number[],
      right: [] as number[],
      value: [] as number[],
    };
    const addNode = () => {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(0);
      return tree.feature.length - 1;
    };
    nodeOf.fill(addNode());
    let frontier = [0];
    for (let level = 0; level <= depth && frontier.length > 0; level++) {
      const sums = new Map<number, { g: number; h: number }>();
      for (const node of frontier) sums.set(node, { g: 0, h: 0 });
      for (let i = 0; i < n; i++) {
        const s = sums.get(nodeOf[i] as number);
        if (s) {
          s.g += g[i] as number;
          s.h += h[i] as number;
        }
      }
      const best = new Map<number, { gain: number; feature: number; threshold: number }>();
      if (level < depth) {
        for (let f = 0; f < dims; f++) {
          const running = new Map<number, { g: number; h: number; last: number }>();
          for (const node of frontier) running.set(node, { g: 0, h: 0, last: Number.NaN });
          const order = sorted[f] as Int32Array;
          for (let k = 0; k < n; k++) {
            const i = order[k] as number;
            const node = nodeOf[i] as number;
            const r = running.get(node);
            if (!r) continue;
            const x = xs[i]?.[f] as number;
            if (x !== r.last && !Number.isNaN(r.last)) {
              const s = sums.get(node) as { g: number; h: number };
              const [gl, hl, gr, hr] = [r.g, r.h, s.g - r.g, s.h - r.h];
              if (hl >= minChild && hr >= minChild) {
                const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - (s.g * s.g) / (s.h + lambda);
                const current = best.get(node);
                if (gain > 1e-9 && (!current || gain > current.gain))
                  best.set(node, { gain, feature: f, threshold: (x + r.last) / 2 });
              }
            }
            r.g += g[i] as number;
            r.h += h[i] as number;
            r.last = x;
          }
        }
      }
      const next: number[] = [];
      for (const node of frontier) {
        const split = best.get(node);
        const s = sums.get(node) as { g: number; h: number };
        if (!split) {
          tree.value[node] = (-s.g / (s.h + lambda)) * rate;
          continue;
        }
        tree.feature[node] = split.feature;
        tree.threshold[node] = split.threshold;
        tree.left[node] = addNode();
        tree.right[node] = addNode();
        next.push(tree.left[node] as number, tree.right[node] as number);
      }
      if (next.length > 0) {
        for (let i = 0; i < n; i++) {
          const node = nodeOf[i] as number;
          const f = tree.feature[node] as number;
          if (f >= 0 && best.has(node)) {
            nodeOf[i] =
              (xs[i]?.[f] as number) < (tree.threshold[node] as number)
                ? (tree.left[node] as number)
                : (tree.right[node] as number);
          }
        }
      }
      frontier = next;
    }
    trees.push(tree);
    for (let i = 0; i < n; i++) margins[i] = (margins[i] as number) + leafValue(tree, xs[i] as ArrayLike<number>);
  }
  return { bias, trees };
}

function leafValue(tree: Tree, x: ArrayLike<number>): number {
  let n = 0;
  while ((tree.feature[n] as number) >= 0) {
    n =
      (x[tree.feature[n] as number] as number) < (tree.threshold[n] as number)
        ? (tree.left[n] as number)
        : (tree.right[n] as number);
  }
  return tree.value[n] as number;
}
