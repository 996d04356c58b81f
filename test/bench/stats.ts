export { seededRandom } from "@llm-callouts/random";
/** Shared helpers for benchmark scripts: percentiles, seeded RNG, markdown tables. */

/** Percentile of an ascending-sorted array (nearest rank), `p` in [0, 1]. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank]!;
}

/** Prints a markdown table with a heading line. */
export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const lines = [`\n### ${title}\n`, `| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
