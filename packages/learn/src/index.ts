export {
  type BoostedTrees,
  type BoostOptions,
  boostedMargin,
  boostedPredict,
  type Tree,
  trainBoostedTrees,
} from "./boosted-trees.js";
export {
  componentKeys,
  confusion,
  formatProportion,
  type Part,
  type Proportion,
  partOf,
  pickThreshold,
  type ThresholdRule,
  wilson,
} from "./evaluate.js";
export {
  denseVector,
  dequantize,
  type LinearModel,
  margin,
  predict,
  quantize,
  type SparseVector,
  type TrainOptions,
  trainLogistic,
} from "./linear-model.js";
