/** Model-Armor-style confidence: LOW has the most false positives, HIGH the fewest. */
export type Confidence = "LOW" | "MEDIUM" | "HIGH";

/** Confidence levels in ascending order. */
export const confidenceRank: Readonly<Record<Confidence, number>> = { LOW: 1, MEDIUM: 2, HIGH: 3 };

/**
 * One detection: a type and a [start, end) range (UTF-16 offsets into the scanned
 * text). Never holds the matched value.
 */
export interface Finding {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly confidence: Confidence;
}

/** A pure, synchronous detector over one text. */
export interface TextDetector {
  readonly name: string;
  detect(text: string): Finding[];
}

/**
 * Keeps the higher-ranked of overlapping findings (confidence, then earlier
 * entries in `findings`). Findings are swept by start into clusters of
 * transitively overlapping ranges, so the cost stays O(n log n) for many
 * findings; the greedy choice runs within each (small) cluster.
 */
export function dropOverlaps(findings: readonly Finding[]): Finding[] {
  const items = findings.map((finding, order) => ({ finding, order }));
  items.sort((a, b) => a.finding.start - b.finding.start || a.order - b.order);
  const kept: Finding[] = [];
  let cluster: { finding: Finding; order: number }[] = [];
  let clusterEnd = Number.NEGATIVE_INFINITY;
  const flush = (): void => {
    if (cluster.length === 1) kept.push((cluster[0] as { finding: Finding }).finding);
    else if (cluster.length > 1) {
      cluster.sort(
        (a, b) => confidenceRank[b.finding.confidence] - confidenceRank[a.finding.confidence] || a.order - b.order,
      );
      const chosen: Finding[] = [];
      for (const { finding } of cluster) {
        if (!chosen.some((k) => finding.start < k.end && finding.end > k.start)) chosen.push(finding);
      }
      kept.push(...chosen);
    }
    cluster = [];
    clusterEnd = Number.NEGATIVE_INFINITY;
  };
  for (const item of items) {
    if (cluster.length > 0 && item.finding.start >= clusterEnd) flush();
    cluster.push(item);
    clusterEnd = Math.max(clusterEnd, item.finding.end);
  }
  flush();
  return kept.sort((a, b) => a.start - b.start);
}
