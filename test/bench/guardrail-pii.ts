/**
 * Span-level PII quality of the guardrail's sensitive-data detectors on
 * ../shared/data/pii-presidio-synth-dev.jsonl (Presidio synthetic set).
 * A prediction is a true positive when a gold span of the same type overlaps it
 * ("overlap" columns); "exact" columns require identical boundaries.
 *
 *   node --import tsx test/bench/guardrail-pii.ts [path]
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createSensitiveDataDetector } from "../../packages/guardrail/src/detect/sensitive-data.js";

interface Span {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}
interface Row {
  readonly text: string;
  readonly spans: readonly Span[];
}

const path = resolve(process.argv[2] ?? "../shared/data/pii-presidio-synth-dev.jsonl");
const rows: Row[] = readFileSync(path, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as Row);

const detector = createSensitiveDataDetector();
const evaluated = [
  "EMAIL_ADDRESS",
  "PHONE_NUMBER",
  "CREDIT_CARD",
  "IBAN_CODE",
  "US_SSN",
  "IP_ADDRESS",
  "PERSON",
  "STREET_ADDRESS",
];
const counts = new Map(evaluated.map((t) => [t, { gold: 0, pred: 0, tpPred: 0, tpGold: 0, exact: 0 }]));
const verbose = process.env.VERBOSE;
const overlaps = (a: Span, b: Span): boolean => a.type === b.type && a.start < b.end && a.end > b.start;

let elapsedNs = 0n;
for (const row of rows) {
  const t0 = process.hrtime.bigint();
  const predicted = detector.detect(row.text).filter((f) => counts.has(f.type));
  elapsedNs += process.hrtime.bigint() - t0;
  const gold = row.spans.filter((s) => counts.has(s.type));
  for (const g of gold) {
    const c = counts.get(g.type)!;
    c.gold++;
    if (predicted.some((p) => overlaps(p, g))) c.tpGold++;
    else if (verbose === g.type)
      console.error(
        `MISS ${g.type}: ${JSON.stringify(row.text.slice(g.start, g.end))} in ${JSON.stringify(row.text.slice(Math.max(0, g.start - 30), g.end + 30))}`,
      );
    if (predicted.some((p) => p.type === g.type && p.start === g.start && p.end === g.end)) c.exact++;
  }
  for (const p of predicted) {
    const c = counts.get(p.type)!;
    c.pred++;
    if (gold.some((g) => overlaps(p, g))) c.tpPred++;
    else if (verbose === p.type)
      console.error(
        `FP ${p.type} ${p.confidence}: ${JSON.stringify(row.text.slice(p.start, p.end))} in ${JSON.stringify(row.text.slice(Math.max(0, p.start - 30), p.end + 30))}`,
      );
  }
}

const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : "-");
console.log(`PII span quality on ${rows.length} rows (${path.split("/").pop()})\n`);
console.log("| type | gold | predicted | precision | recall | F1 | exact-boundary F1 |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const [type, c] of counts) {
  const p = c.tpPred / c.pred;
  const r = c.tpGold / c.gold;
  const pe = c.exact / c.pred;
  const re = c.exact / c.gold;
  console.log(
    `| ${type} | ${c.gold} | ${c.pred} | ${f(p)} | ${f(r)} | ${f((2 * p * r) / (p + r))} | ${f((2 * pe * re) / (pe + re))} |`,
  );
}
console.log(`\nmean detector time per row: ${(Number(elapsedNs / BigInt(rows.length)) / 1000).toFixed(1)} us`);
