import { seededRandom } from "@llm-callouts/random";

/** A sparse feature vector: parallel arrays of indices and values (dense vectors list every index). */
export interface SparseVector {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

/** A dense feature vector as a {@link SparseVector} over indices 0..n-1. */
export function denseVector(values: ArrayLike<number>): SparseVector {
  return { indices: Uint32Array.from({ length: values.length }, (_, i) => i), values: Float32Array.from(values) };
}

/** A logistic-regression model over hashed features. */
export interface LinearModel {
  readonly weights: Float32Array;
  readonly bias: number;
}

export interface TrainOptions {
  readonly dims: number;
  /** Passes over the data (default 40). */
  readonly epochs?: number;
  /** Adagrad learning rate (default 0.5). */
  readonly learningRate?: number;
  /** L2 penalty per example (default 1e-5). */
  readonly l2?: number;
  /** Deterministic shuffling seed. */
  readonly seed?: number;
  /** Per-example weights (default: class-balanced). */
  readonly sampleWeights?: readonly number[];
}

/** Raw score (log-odds). */
export function margin(model: LinearModel, x: SparseVector): number {
  let z = model.bias;
  for (let i = 0; i < x.indices.length; i++)
    z += (model.weights[x.indices[i] as number] as number) * (x.values[i] as number);
  return z;
}

/** Probability of the positive class. */
export function predict(model: LinearModel, x: SparseVector): number {
  return 1 / (1 + Math.exp(-margin(model, x)));
}

/** Trains class-balanced L2 logistic regression with per-coordinate Adagrad SGD. */
export function trainLogistic(xs: readonly SparseVector[], ys: readonly boolean[], options: TrainOptions): LinearModel {
  const { dims } = options;
  const epochs = options.epochs ?? 40;
  const rate = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-5;
  const rng = seededRandom(options.seed ?? 1);
  const weights = new Float32Array(dims);
  const squared = new Float32Array(dims).fill(1e-8);
  let bias = 0;
  let biasSquared = 1e-8;
  const positives = ys.filter(Boolean).length;
  const positiveWeight = positives > 0 ? ys.length / (2 * positives) : 1;
  const negativeWeight = positives < ys.length ? ys.length / (2 * (ys.length - positives)) : 1;
  const order = xs.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const n of order) {
      const x = xs[n] as SparseVector;
      const y = ys[n] ? 1 : 0;
      const p = 1 / (1 + Math.exp(-margin({ weights, bias }, x)));
      const g = (p - y) * (options.sampleWeights?.[n] ?? (y ? positiveWeight : negativeWeight));
      for (let k = 0; k < x.indices.length; k++) {
        const idx = x.indices[k] as number;
        const w = weights[idx] as number;
        const grad = g * (x.values[k] as number) + l2 * w;
        squared[idx] = (squared[idx] as number) + grad * grad;
        weights[idx] = w - (rate * grad) / Math.sqrt(squared[idx] as number);
      }
      biasSquared += g * g;
      bias -= (rate * g) / Math.sqrt(biasSquared);
    }
  }
  return { weights, bias };
}

/** Symmetric int8 quantisation: `base64` of the bytes plus the scale. */
export function quantize(model: LinearModel): { readonly scale: number; readonly bias: number; readonly int8: string } {
  let max = 0;
  for (const w of model.weights) max = Math.max(max, Math.abs(w));
  const scale = max > 0 ? max / 127 : 1;
  const bytes = new Int8Array(model.weights.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round((model.weights[i] as number) / scale);
  return { scale, bias: model.bias, int8: Buffer.from(bytes.buffer).toString("base64") };
}

/** Inverse of `quantize`. */
export function dequantize(q: { readonly scale: number; readonly bias: number; readonly int8: string }): LinearModel {
  const raw = Buffer.from(q.int8, "base64");
  const bytes = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const weights = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) weights[i] = (bytes[i] as number) * q.scale;
  return { weights, bias: q.bias };
}
