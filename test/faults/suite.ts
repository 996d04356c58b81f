/**
 * The fault and attack suite: which rows run against which callouts, and the published
 * table. `faults.test.ts` runs the short form in `pnpm test`; `pnpm bench faults` runs the
 * full form and prints the table for the README.
 */
import { type Form, type RowResult, rowHeld, type ServiceProcess, startUnderTest } from "./harness.js";
import { bodiesRow } from "./rows/bodies.js";
import { cacheIsolationConfig, cacheIsolationRow } from "./rows/cache-isolation.js";
import { configAbuseRow } from "./rows/config-abuse.js";
import { faultsRow, faultTargets } from "./rows/faults.js";
import { headerSpoofingRow } from "./rows/header-spoofing.js";
import { leaksRow } from "./rows/leaks.js";
import { malformedGrpcRow } from "./rows/malformed-grpc.js";
import { soakRow } from "./rows/soak.js";
import { tlsRow } from "./rows/tls.js";

export interface RowSpec {
  readonly id: string;
  /** What the row runs against, one result each (a service name, or what the row names). */
  readonly targets: readonly string[];
  run(target: string, form: Form): Promise<RowResult>;
}

/** A row run against a callout started for it (`startUnderTest`). */
const againstService =
  (row: (proc: ServiceProcess, form: Form) => Promise<RowResult>, serviceConfig?: string) =>
  async (service: string, form: Form): Promise<RowResult> => {
    const under = await startUnderTest(service, { service: serviceConfig });
    try {
      return await row(under.proc, form);
    } finally {
      await under.close();
    }
  };

export const rows: readonly RowSpec[] = [
  {
    id: "1. Malformed gRPC",
    targets: ["body-router", "guardrail", "semantic-cache", "endpoint-picker"],
    run: againstService(malformedGrpcRow),
  },
  { id: "2. Bodies", targets: ["body-router", "guardrail", "semantic-cache"], run: againstService(bodiesRow) },
  { id: "3. Header spoofing", targets: ["gateway chain"], run: (_, form) => headerSpoofingRow(form) },
  {
    id: "4. Cache isolation",
    targets: ["semantic-cache"],
    run: againstService(cacheIsolationRow, cacheIsolationConfig),
  },
  { id: "5. Faults", targets: faultTargets, run: faultsRow },
  {
    id: "6. Leaks",
    targets: ["body-router", "guardrail", "semantic-cache", "endpoint-picker"],
    run: (service, form) => leaksRow(service, form),
  },
  { id: "7. ReDoS and config abuse", targets: ["guardrail, body-router"], run: (_, form) => configAbuseRow(form) },
  { id: "8. Soak", targets: ["chain"], run: (_, form) => soakRow(form) },
  // TLS is the SDK's, the same for every callout: run on echo, the cheapest.
  { id: "9. TLS / mTLS", targets: ["echo"], run: (_, form) => tlsRow(form) },
];

const mb = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? "-" : value.toFixed(0));

/** The README table: one line per row and service. */
export function summaryTable(results: readonly RowResult[]): string {
  const lines = [
    "| Row | Service | Cases | Requests sent | Lost | Hung | Errored | Witness sent / p99 ms (budget) | RSS MiB before → after | fds before → after | Held |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    const sum = (key: "sent" | "lost" | "hung" | "errored") => r.cases.reduce((n, c) => n + c.tally[key], 0);
    const w = r.witness;
    const witness = w
      ? `${w.tally.sent} / ${w.p99Ms.toFixed(0)} (${r.witnessBudgetMs === undefined ? "reported" : `≤ ${r.witnessBudgetMs}`})`
      : "-";
    lines.push(
      `| ${r.row} | ${r.service} | ${r.cases.length} | ${sum("sent")} | ${sum("lost")} | ${sum("hung")} | ${sum("errored")} | ${witness} | ${mb(r.rssBeforeMb)} → ${mb(r.rssAfterMb)} | ${r.fdsBefore ?? "-"} → ${r.fdsAfter ?? "-"} | ${rowHeld(r) ? "yes" : "**no**"} |`,
    );
  }
  return lines.join("\n");
}

/** Every case of every row: what was tried, the documented answer, what came back. */
export function caseTable(results: readonly RowResult[]): string {
  const lines = [
    "| Row | Service | Case | Documented answer | Sent | Not as documented | Witness p99 ms | Detail |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    for (const c of r.cases) {
      const bad = c.tally.errored + c.tally.lost + c.tally.hung;
      const p99 = c.witnessP99Ms === undefined || Number.isNaN(c.witnessP99Ms) ? "-" : c.witnessP99Ms.toFixed(0);
      lines.push(
        `| ${r.row} | ${r.service} | ${c.name} | ${c.expected} | ${c.tally.sent} | ${bad} | ${p99} | ${(c.detail ?? "").replaceAll("|", "\\|")} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Failing cases of a row, for a test's failure message. */
export function failures(result: RowResult): string[] {
  const out = result.cases
    .filter((c) => c.tally.errored + c.tally.lost + c.tally.hung > 0 || c.tally.sent === 0)
    .map((c) => `${c.name}: expected ${c.expected}; got ${JSON.stringify(c.tally)} ${c.detail ?? ""}`);
  const w = result.witness;
  if (w && (w.tally.errored || w.tally.lost || w.tally.hung)) out.push(`witness: ${JSON.stringify(w.tally)}`);
  if (w && result.witnessBudgetMs !== undefined && w.p99Ms > result.witnessBudgetMs)
    out.push(`witness p99 ${w.p99Ms.toFixed(1)} ms over the ${result.witnessBudgetMs} ms budget`);
  if (!result.survived) out.push("the service process exited");
  return out;
}
