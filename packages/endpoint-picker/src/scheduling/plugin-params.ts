import { formatIssues } from "@llm-callouts/ext-proc";
import type { ZodType } from "zod";

/** Parses plugin `parameters` with a strict zod schema; errors name the offending field. */
export function parsePluginParams<T>(
  schema: ZodType<T>,
  params: unknown,
): { readonly value: T } | { readonly error: string } {
  const result = schema.safeParse(params ?? {});
  if (result.success) return { value: result.data };
  return { error: formatIssues("", result.error).join("; ") };
}

/** Min-max normalisation where lower is better: `(max - v) / (max - min)`, 1 for all when max == min. */
export function lowerIsBetter(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) return values.map(() => 1);
  return values.map((v) => (max - v) / (max - min));
}

/** Builds the Map a scorer returns from per-endpoint values computed in order. */
export function toScoreMap<E>(endpoints: readonly E[], scores: readonly number[]): Map<E, number> {
  const map = new Map<E, number>();
  endpoints.forEach((endpoint, i) => {
    map.set(endpoint, scores[i] ?? 0);
  });
  return map;
}
