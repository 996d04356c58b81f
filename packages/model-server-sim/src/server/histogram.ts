/** A cumulative Prometheus histogram with fixed upper bounds (seconds). */
export interface Histogram {
  readonly buckets: readonly number[];
  observe(value: number): void;
  /** Cumulative counts per bucket, then +Inf. */
  counts(): number[];
  sum(): number;
  count(): number;
}

/** Creates an empty histogram over ascending `buckets`. */
export function createHistogram(buckets: readonly number[]): Histogram {
  const perBucket = new Array<number>(buckets.length + 1).fill(0);
  let sum = 0;
  let count = 0;
  return {
    buckets,
    observe(v) {
      let i = 0;
      while (i < buckets.length && v > buckets[i]!) i++;
      perBucket[i]!++;
      sum += v;
      count++;
    },
    counts() {
      let acc = 0;
      return perBucket.map((c) => (acc += c));
    },
    sum: () => sum,
    count: () => count,
  };
}

/** vLLM V1's `vllm:time_to_first_token_seconds` buckets (`vllm/v1/metrics/loggers.py`). */
export const ttftBucketsS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
/** vLLM V1's `vllm:inter_token_latency_seconds` buckets. */
export const itlBucketsS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
/** vLLM V1's `vllm:e2e_request_latency_seconds` buckets. */
export const e2eBucketsS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];
