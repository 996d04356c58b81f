import type { Endpoint } from "./scheduling/types.js";

/** GIE `utilization-detector` parameters. */
export interface SaturationThresholds {
  /** Waiting requests per endpoint counted as full (GIE 5). */
  readonly queueDepthThreshold: number;
  /** KV-cache utilisation counted as full (GIE 0.8). */
  readonly kvCacheUtilThreshold: number;
  /** Metrics older than this count as saturated (GIE 200 ms). */
  readonly metricsStalenessThresholdMs: number;
  /** Extra fraction allowed above the thresholds (GIE 0). */
  readonly headroom: number;
}

export const defaultSaturationThresholds: SaturationThresholds = {
  queueDepthThreshold: 5,
  kvCacheUtilThreshold: 0.8,
  metricsStalenessThresholdMs: 200,
  headroom: 0,
};

/**
 * Pool saturation: mean over candidates of `max(q / qT, kv / kvT)` (thresholds
 * scaled by 1 + headroom); a stale endpoint counts 1.0, an empty set 1.0.
 * Saturated when >= 1.
 */
export function computeSaturation(endpoints: readonly Endpoint[], t: SaturationThresholds, nowMs: number): number {
  if (endpoints.length === 0) return 1;
  const scale = 1 + t.headroom;
  let sum = 0;
  for (const e of endpoints) {
    if (nowMs - e.metrics.updatedAtMs > t.metricsStalenessThresholdMs) {
      sum += 1;
      continue;
    }
    sum += Math.max(
      e.metrics.waitingQueueSize / (t.queueDepthThreshold * scale),
      e.metrics.kvCacheUsage / (t.kvCacheUtilThreshold * scale),
    );
  }
  return sum / endpoints.length;
}

export function isSaturated(saturation: number): boolean {
  return saturation >= 1;
}
