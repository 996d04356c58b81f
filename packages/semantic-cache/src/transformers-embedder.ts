import { type Embedder, normalize } from "./embedder.js";

/** Options of {@link createTransformersEmbedder}. */
export interface TransformersEmbedderOptions {
  /** Local model folder (config.json, tokenizer.json, onnx/model.onnx) or a Hub id where downloads work. */
  readonly model: string;
  /** Text prefix some models require (e.g. `query: ` for e5, `search_query: ` for nomic). Default none. */
  readonly prefix?: string;
  readonly defaultThreshold?: number;
}

type FeatureExtractor = (
  text: string,
  options: { pooling: "mean"; normalize: boolean },
) => Promise<{ data: Float32Array; dims: number[] }>;

/**
 * Sentence embeddings with `@huggingface/transformers` (feature extraction, mean pooling,
 * normalisation). The package is optional and loaded on demand: without it this
 * throws a clear error instead of breaking the offline default.
 */
export async function createTransformersEmbedder(options: TransformersEmbedderOptions): Promise<Embedder> {
  let transformers: {
    pipeline: (task: string, model: string, options?: Record<string, unknown>) => Promise<FeatureExtractor>;
    env: Record<string, unknown>;
  };
  try {
    const name = "@huggingface/transformers";
    transformers = (await import(name)) as typeof transformers;
  } catch (error) {
    throw new Error(
      "embedder.kind 'transformers' needs the package @huggingface/transformers; install it or use 'word-vectors'",
      { cause: error },
    );
  }
  const local = options.model.startsWith("/") || options.model.startsWith(".");
  if (local) {
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = "";
  }
  const extract = await transformers.pipeline("feature-extraction", options.model, { dtype: "fp32" });
  const probe = await extract("dimension probe", { pooling: "mean", normalize: true });
  const dimensions = probe.dims.at(-1) ?? probe.data.length;
  return {
    id: `transformers:${options.model}:${dimensions}`,
    dimensions,
    defaultThreshold: options.defaultThreshold ?? 0.95,
    async embed(text) {
      const output = await extract(`${options.prefix ?? ""}${text}`, { pooling: "mean", normalize: true });
      return normalize(Float32Array.from(output.data));
    },
  };
}
