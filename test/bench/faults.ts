/**
 * `pnpm bench faults`: the fault and attack suite's full form (larger counts, longer holds,
 * 1 GiB bombs), every row against every callout it concerns, each callout in its own
 * process. Prints the summary table and the per-case table for the README.
 */
import type { RowResult } from "../faults/harness.js";
import { caseTable, rows, summaryTable } from "../faults/suite.js";

/** `pnpm bench faults 4,6`: only rows whose id starts with one of these. */
const only = process.argv[2]?.split(",");
const results: RowResult[] = [];
for (const row of rows.filter((r) => !only || only.some((prefix) => r.id.startsWith(prefix)))) {
  for (const target of row.targets) results.push(await row.run(target, "full"));
}
process.stdout.write(`\n### Fault and attack suite (full form)\n\n${summaryTable(results)}\n\n`);
process.stdout.write(`#### Every case\n\n${caseTable(results)}\n`);
