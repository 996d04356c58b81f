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

/** Keeps the higher-ranked of overlapping findings; earlier entries in `findings` win ties. */
export function dropOverlaps(findings: readonly Finding[]): Finding[] {
  const ranked = findings
    .map((finding, order) => ({ finding, order }))
    .sort((a, b) => confidenceRank[b.finding.confidence] - confidenceRank[a.finding.confidence] || a.order - b.order);
  const kept: Finding[] = [];
  for (const { finding } of ranked) {
    if (!kept.some((k) => finding.start < k.end && finding.end > k.start)) kept.push(finding);
  }
  return kept.sort((a, b) => a.start - b.start);
}
