import type { JsonValue } from "@llm-callouts/ext-proc";
import { type Confidence, confidenceRank } from "../detect/finding.js";
import { type FilterName, filterNames } from "./detectors.js";
import type { Inspection, LocatedFinding } from "./engine.js";

type JsonObject = { [key: string]: JsonValue };

function highest(findings: readonly LocatedFinding[]): Confidence | undefined {
  let best: Confidence | undefined;
  for (const f of findings) if (!best || confidenceRank[f.confidence] > confidenceRank[best]) best = f.confidence;
  return best;
}

function findingJson(f: LocatedFinding): JsonObject {
  return {
    infoType: f.type,
    likelihood: f.confidence,
    action: f.action,
    source: f.source,
    location: { path: f.path, start: f.start, end: f.end },
  };
}

/**
 * The verdict in Model Armor's SanitizationResult shape (filterMatchState,
 * invocationResult, filterResults keyed by filter with executionState,
 * matchState and confidenceLevel), extended with numeric attack scores, the
 * action taken and finding locations (JSON path + offsets). Never contains
 * matched values.
 */
export function buildVerdict(inspection: Inspection, maxFindings: number): JsonObject {
  const filterResults: JsonObject = {};
  for (const name of filterNames) {
    const outcome = inspection.filters[name];
    const own = inspection.findings.filter((f) => f.filter === name);
    const result: JsonObject = {
      executionState: outcome.executed ? "EXECUTION_SUCCESS" : "EXECUTION_SKIPPED",
      matchState: own.length > 0 ? "MATCH_FOUND" : "NO_MATCH_FOUND",
    };
    const level = highest(own);
    if (level) result.confidenceLevel = level;
    if (outcome.error !== undefined) result.error = outcome.error;
    if (outcome.scores)
      result.scores = Object.fromEntries(
        Object.entries(outcome.scores).map(([k, v]) => [k, Math.round(v * 1000) / 1000]),
      );
    if (name === "rai") {
      const byCategory: JsonObject = {};
      for (const f of own) {
        const category = f.type.replace(/^RAI_/, "").toLowerCase();
        const previous = (byCategory[category] as JsonObject | undefined)?.confidenceLevel as Confidence | undefined;
        if (!previous || confidenceRank[f.confidence] > confidenceRank[previous]) {
          byCategory[category] = { matchState: "MATCH_FOUND", confidenceLevel: f.confidence };
        }
      }
      result.raiFilterTypeResults = byCategory;
    }
    if (own.length > 0) {
      result.findings = own.slice(0, maxFindings).map(findingJson);
      result.findingsTruncated = own.length > maxFindings;
    }
    filterResults[name] = result;
  }
  const failed = filterNames.filter((n) => inspection.filters[n].error !== undefined);
  const verdict: JsonObject = {
    direction: inspection.direction,
    template: inspection.template,
    filterMatchState: inspection.findings.length > 0 ? "MATCH_FOUND" : "NO_MATCH_FOUND",
    invocationResult:
      failed.length === 0
        ? "SUCCESS"
        : failed.length === filterNames.filter((n) => inspection.filters[n].enabled).length
          ? "FAILURE"
          : "PARTIAL",
    action: inspection.action.toUpperCase(),
    filterResults,
  };
  if (failed.length > 0 || inspection.truncated) {
    const metadata: JsonObject = {};
    if (failed.length > 0) {
      metadata.errorCode = inspection.failedClosed ? "DETECTOR_FAILED_CLOSED" : "DETECTOR_FAILED_OPEN";
      metadata.errorMessage = `filters failed: ${failed.join(", ")}`;
    }
    if (inspection.truncated) metadata.truncated = true;
    verdict.sanitizationMetadata = metadata;
  }
  return verdict;
}

/** Filters with a match, in canonical order. */
export function matchedFilters(inspection: Inspection): FilterName[] {
  return filterNames.filter((n) => inspection.findings.some((f) => f.filter === n));
}

/** Compact header value, e.g. `action=redact; match=sdp; template=default; invocation=SUCCESS`. */
export function summaryHeaderValue(inspection: Inspection): string {
  const matched = matchedFilters(inspection);
  const failed = filterNames.some((n) => inspection.filters[n].error !== undefined);
  return `action=${inspection.action}; match=${matched.length > 0 ? matched.join(",") : "none"}; template=${inspection.template}; invocation=${failed ? "PARTIAL" : "SUCCESS"}`;
}

/**
 * One structured audit record per decision: counts, types, paths and offsets,
 * never matched or redacted values.
 */
export function buildAuditRecord(
  inspection: Inspection,
  extra: { requestId?: string | undefined; durationMs: number; scannedChars: number },
): JsonObject {
  const counts: JsonObject = {};
  for (const f of inspection.findings) counts[f.type] = ((counts[f.type] as number | undefined) ?? 0) + 1;
  const failed = filterNames.filter((n) => inspection.filters[n].error !== undefined);
  const record: JsonObject = {
    event: "guardrail.decision",
    direction: inspection.direction,
    template: inspection.template,
    action: inspection.action,
    matchedFilters: matchedFilters(inspection),
    findingCounts: counts,
    locations: inspection.findings.slice(0, 50).map((f) => `${f.type}@${f.path}[${f.start},${f.end})`),
    failedFilters: failed,
    failedClosed: inspection.failedClosed,
    scannedChars: extra.scannedChars,
    durationMs: Math.round(extra.durationMs * 1000) / 1000,
  };
  if (extra.requestId !== undefined) record.requestId = extra.requestId;
  return record;
}

/** Re-exported for processors that need to name filters. */
export type { FilterName };
