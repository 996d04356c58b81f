/**
 * Engine parameters and named reference configurations. The numbers are
 * first-order estimates for Llama-3-8B in bf16 under vLLM V1; see the README's
 * "Reference configurations" for the arithmetic behind each value.
 */

/** Step-time model: `stepOverheadMs + prefillTokens * prefillMsPerToken + decodeSeqs * decodeMsPerSeq + contextTokens * kvReadMsPerToken + loraLoads * loraLoadMs`. */
export interface LatencyParams {
  /** Fixed cost of one forward pass (weight reads, launch, sampling), ms. */
  readonly stepOverheadMs: number;
  /** Cost per prompt token computed in a step (compute bound), ms. */
  readonly prefillMsPerToken: number;
  /** Cost per decoding sequence in the batch, ms. */
  readonly decodeMsPerSeq: number;
  /** Cost per token of context attended to by the batch (KV reads), ms. */
  readonly kvReadMsPerToken: number;
  /** Cost of loading a LoRA adapter into a GPU slot, ms. */
  readonly loraLoadMs: number;
}

export interface EngineConfig {
  /** Tokens per KV block (`--block-size`, vLLM default 16). */
  readonly blockSize: number;
  /** KV blocks on the GPU (`num_gpu_blocks`). */
  readonly numGpuBlocks: number;
  /** Max sequences in a batch (`--max-num-seqs`, vLLM default 256). */
  readonly maxNumSeqs: number;
  /** Token budget of one step (`--max-num-batched-tokens`); prefills are chunked to fit. */
  readonly maxNumBatchedTokens: number;
  /** Distinct LoRA adapters per batch and GPU slots (`--max-loras`). */
  readonly maxLoras: number;
  /** Whether prefix caching is on (`--enable-prefix-caching`, V1 default true). */
  readonly enablePrefixCaching: boolean;
  readonly latency: LatencyParams;
}

/** Names of the built-in reference configurations. */
export type EnginePresetName = "llama-3-8b-h100-80gb" | "llama-3-8b-a100-40gb";

/** Built-in reference configurations (Llama-3-8B, bf16, one GPU, `gpu_memory_utilization` 0.9). */
export const enginePresets: Readonly<Record<EnginePresetName, EngineConfig>> = {
  "llama-3-8b-h100-80gb": {
    blockSize: 16,
    numGpuBlocks: 27_000,
    maxNumSeqs: 1024,
    maxNumBatchedTokens: 8192,
    maxLoras: 4,
    enablePrefixCaching: true,
    latency: {
      stepOverheadMs: 6,
      prefillMsPerToken: 0.06,
      decodeMsPerSeq: 0.05,
      kvReadMsPerToken: 0.00004,
      loraLoadMs: 20,
    },
  },
  "llama-3-8b-a100-40gb": {
    blockSize: 16,
    numGpuBlocks: 9_000,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 2048,
    maxLoras: 4,
    enablePrefixCaching: true,
    latency: {
      stepOverheadMs: 11,
      prefillMsPerToken: 0.1,
      decodeMsPerSeq: 0.08,
      kvReadMsPerToken: 0.000085,
      loraLoadMs: 25,
    },
  },
};

/** What one step computed, the input of the latency model. */
export interface StepShape {
  /** Prompt (or recomputed) tokens computed this step. */
  readonly prefillTokens: number;
  /** Sequences computing exactly one new token. */
  readonly decodeSeqs: number;
  /** Total context tokens (computed + new) of every scheduled sequence. */
  readonly contextTokens: number;
  /** LoRA adapters loaded into a GPU slot for this step. */
  readonly loraLoads: number;
}

/** Duration of one engine step in ms. */
export function stepDurationMs(shape: StepShape, p: LatencyParams): number {
  return (
    p.stepOverheadMs +
    shape.prefillTokens * p.prefillMsPerToken +
    shape.decodeSeqs * p.decodeMsPerSeq +
    shape.contextTokens * p.kvReadMsPerToken +
    shape.loraLoads * p.loraLoadMs
  );
}
