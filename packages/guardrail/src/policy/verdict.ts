import type { JsonValue } from "@llm-callouts/ext-proc";
import { type Confidence, confidenceRank } from "../detect/finding.js";
import { type FilterName, filterNames } from "./detectors.js";
import type { Inspection, LocatedFinding } from "./engine.js";
import { CONFIDENCE_LEVELS, confidenceLevelOf, likelihoodOf, RAI_KEYS } from "./model-armor-result.js";

type JsonObject = { [key: string]: JsonValue };

function highest(findings: readonly LocatedFinding[]): Confidence | undefined {
  let best: Confidence | undefined;
  for (const f of findings) if (!best || confidenceRank[f.confidence] > confidenceRank[best]) best = f.confidence;
  return best;
}

/** A UTF-16 range of `text` as Model Armor's byte and code point ranges (int64 as strings). */
function rangesOf(text: string, start: number, end: number): JsonObject {
  const bytes = (s: string) => Buffer.byteLength(s, "utf8");
  const codepoints = (s: string) => [...s].length;
  const head = text.slice(0, start);
  const span = text.slice(start, end);
  return {
    byteRange: { start: String(bytes(head)), end: String(bytes(head) + bytes(span)) },
    codepointRange: { start: String(codepoints(head)), end: String(codepoints(head) + codepoints(span)) },
  };
}

/** Our own record of one finding: type, our confidence, action, where (JSON path + UTF-16 offsets), who found it. */
function findingJson(f: LocatedFinding): JsonObject {
  return {
    infoType: f.type,
    likelihood: f.confidence,
    action: f.action,
    source: f.source,
    backend: f.backend ?? "local",
    location: { path: f.path, start: f.start, end: f.end },
  };
}

/** google.rpc.Code values for `sanitizationMetadata.errorCode`. */
const UNAVAILABLE = 14;

/**
 * The verdict: `sanitizationResult` is Model Armor's `SanitizationResult`, field for field
 * (model-armor-result.ts; a strict proto3 JSON parser of Model Armor's messages accepts it),
 * and `llmCallouts` holds what Model Armor has no field for: the action taken, numeric
 * attack scores, each finding's JSON path and UTF-16 offsets, which backend found it, and
 * our own filters (`custom_patterns`). Never contains matched values (malicious URI items
 * carry their locations, not the URI).
 */
export function buildVerdict(
  inspection: Inspection,
  maxFindings: number,
  texts: readonly { readonly text: string }[] = [],
): JsonObject {
  const filterResults: JsonObject = {};
  const ours: JsonObject = {};
  const textOf = (f: LocatedFinding) => (f.textIndex >= 0 ? texts[f.textIndex]?.text : undefined);
  for (const name of filterNames) {
    const outcome = inspection.filters[name];
    const own = inspection.findings.filter((f) => f.filter === name);
    const common: JsonObject = {
      executionState: outcome.executed ? "EXECUTION_SUCCESS" : "EXECUTION_SKIPPED",
      matchState: own.length > 0 ? "MATCH_FOUND" : "NO_MATCH_FOUND",
    };
    if (outcome.error !== undefined) common.messageItems = [{ messageType: "ERROR", message: "detector failed" }];
    const level = highest(own);
    const extra: JsonObject = { enabled: outcome.enabled, executed: outcome.executed };
    if (outcome.error !== undefined) extra.error = outcome.error;
    if (outcome.scores)
      extra.scores = Object.fromEntries(
        Object.entries(outcome.scores).map(([k, v]) => [k, Math.round(v * 1000) / 1000]),
      );
    if (own.length > 0) {
      extra.findings = own.slice(0, maxFindings).map(findingJson);
      extra.findingsTruncated = own.length > maxFindings;
    }
    ours[name] = extra;
    if (!outcome.enabled && own.length === 0) continue;
    switch (name) {
      case "pi_and_jailbreak":
        filterResults[name] = {
          piAndJailbreakFilterResult: { ...common, ...(level ? { confidenceLevel: confidenceLevelOf[level] } : {}) },
        };
        break;
      case "sdp":
        filterResults[name] = {
          sdpFilterResult: {
            inspectResult: {
              ...common,
              findings: own.slice(0, maxFindings).map((f) => {
                const text = textOf(f);
                return {
                  infoType: f.type,
                  likelihood: likelihoodOf[f.confidence],
                  ...(text !== undefined && f.end > f.start ? { location: rangesOf(text, f.start, f.end) } : {}),
                };
              }),
              findingsTruncated: own.length > maxFindings,
            },
          },
        };
        break;
      case "rai": {
        const types: JsonObject = {};
        for (const key of RAI_KEYS) {
          types[key] = { filterType: key.toUpperCase(), matchState: "NO_MATCH_FOUND" };
        }
        for (const f of own) {
          const key = f.type.replace(/^RAI_/, "").toLowerCase();
          const previous = (types[key] as JsonObject | undefined)?.confidenceLevel as string | undefined;
          const levelName = confidenceLevelOf[f.confidence];
          if (
            previous === undefined ||
            CONFIDENCE_LEVELS.indexOf(levelName) > CONFIDENCE_LEVELS.indexOf(previous as never)
          ) {
            types[key] = {
              ...((RAI_KEYS as readonly string[]).includes(key) ? { filterType: key.toUpperCase() } : {}),
              confidenceLevel: levelName,
              matchState: "MATCH_FOUND",
            };
          }
        }
        filterResults[name] = { raiFilterResult: { ...common, raiFilterTypeResults: types } };
        break;
      }
      case "malicious_uris":
        filterResults[name] = {
          maliciousUriFilterResult: {
            ...common,
            maliciousUriMatchedItems: own.slice(0, maxFindings).map((f): JsonObject => {
              const text = textOf(f);
              const cp = text !== undefined ? (rangesOf(text, f.start, f.end).codepointRange as JsonObject) : undefined;
              return cp ? { locations: [cp] } : {};
            }),
          },
        };
        break;
      default:
      // custom_patterns has no Model Armor filter: it is reported under llmCallouts only.
    }
  }
  // Filters only a backend evaluates (CSAM, virus scan) are copied from its answer.
  for (const backend of inspection.backends) {
    for (const [key, result] of Object.entries(backend.result?.filterResults ?? {})) {
      if (!(key in filterResults) && !(filterNames as readonly string[]).includes(key))
        filterResults[key] = result as JsonObject;
    }
  }
  const failed = filterNames.filter((n) => inspection.filters[n].error !== undefined);
  const failedBackends = inspection.backends.filter((b) => b.error !== undefined);
  const enabledCount = filterNames.filter((n) => inspection.filters[n].enabled).length;
  const invocationResult =
    failed.length === 0 && failedBackends.length === 0
      ? "SUCCESS"
      : failed.length === enabledCount && failedBackends.length === inspection.backends.length
        ? "FAILURE"
        : "PARTIAL";
  const result: JsonObject = {
    filterMatchState: inspection.findings.length > 0 ? "MATCH_FOUND" : "NO_MATCH_FOUND",
    filterResults,
    invocationResult,
  };
  const extras: JsonObject = {
    direction: inspection.direction,
    template: inspection.template,
    action: inspection.action.toUpperCase(),
    filters: ours,
  };
  if (inspection.backends.length > 0) {
    extras.backends = Object.fromEntries(
      inspection.backends.map((b) => [
        b.name,
        {
          invocationResult: b.error === undefined ? (b.result?.invocationResult ?? "SUCCESS") : "FAILURE",
          durationMs: Math.round(b.durationMs * 1000) / 1000,
          ...(b.error !== undefined ? { error: b.error } : {}),
        },
      ]),
    );
  }
  if (failed.length > 0 || failedBackends.length > 0) {
    const what = [...failed, ...failedBackends.map((b) => `${b.name} (${b.error})`)].join(", ");
    result.sanitizationMetadata = {
      errorCode: String(UNAVAILABLE),
      errorMessage: `${inspection.failedClosed ? "failed closed" : "failed open"}: ${what}`,
    };
    extras.errorCode = inspection.failedClosed ? "DETECTOR_FAILED_CLOSED" : "DETECTOR_FAILED_OPEN";
  }
  if (inspection.truncated) extras.truncated = true;
  return { sanitizationResult: result, llmCallouts: extras };
}

/** Filters with a match, in canonical order. */
export function matchedFilters(inspection: Inspection): FilterName[] {
  return filterNames.filter((n) => inspection.findings.some((f) => f.filter === n));
}

/** Compact header value, e.g. `action=redact; match=sdp; template=default; invocation=SUCCESS`. */
export function summaryHeaderValue(inspection: Inspection): string {
  const matched = matchedFilters(inspection);
  const failed =
    filterNames.some((n) => inspection.filters[n].error !== undefined) ||
    inspection.backends.some((b) => b.error !== undefined);
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
