/**
 * The fault and attack suite's short form (the full form: `pnpm bench faults`). Each row runs
 * against each callout it concerns, each callout in its own process, and must hold: every
 * case answered as documented, the witness client served (within budget where the row has
 * one), the process still up.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { RowResult } from "./harness.js";
import { failures, rows, summaryTable } from "./suite.js";

const results: RowResult[] = [];

afterAll(() => {
  if (process.env.FAULTS_TABLE) process.stdout.write(`\n${summaryTable(results)}\n`);
});

for (const row of rows) {
  describe(row.id, () => {
    for (const target of row.targets) {
      it(`holds for ${target}`, { timeout: 120_000 }, async () => {
        const result = await row.run(target, "short");
        results.push(result);
        expect(failures(result)).toEqual([]);
      });
    }
  });
}
