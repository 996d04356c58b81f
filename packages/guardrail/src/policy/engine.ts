import type { BackendAnswer } from "../backends/backends.js";
import type { PolicyTemplate } from "../config.js";
import { type Confidence, confidenceRank } from "../detect/finding.js";
import { createScanViews, type ViewSource } from "../normalize/scan-views.js";
import type { DetectorSet, FilterName } from "./detectors.js";
import type { SanitizationResult } from "./model-armor-result.js";
import { type PlaceholderRegistry, type Redaction, redactText } from "./placeholders.js";
import type { Action } from "./template.js";

/** One text to scan and where it sits in the body (a JSON path). */
export interface ScanText {
  readonly path: string;
  readonly text: string;
  /** Chat role when known (`user`, `tool`, `system`, `assistant`). */
  readonly role?: string;
}

/** A finding located in one scanned text; never carries the matched value. */
export interface LocatedFinding {
  readonly filter: FilterName;
  readonly type: string;
  readonly confidence: Confidence;
  /** Index into the scanned texts, or -1 for conversation-level findings. */
  readonly textIndex: number;
  readonly path: string;
  /** Original UTF-16 offsets in that text. */
  readonly start: number;
  readonly end: number;
  /** Where the payload was found (`text`, `base64`, `unicode-tags`, ...). */
  readonly source: ViewSource | "conversation";
  readonly action: Action;
  /** The remote backend that reported it (undefined = the local detectors). */
  readonly backend?: string;
}

/** One remote backend's part in an inspection. */
export interface BackendOutcome {
  readonly name: string;
  readonly durationMs: number;
  /** Why it gave no answer (a status such as `RESOURCE_EXHAUSTED`, `DEADLINE_EXCEEDED`, `CIRCUIT_OPEN`). */
  readonly error?: string;
  /** Its answer in Model Armor's shape, when it answered. */
  readonly result?: SanitizationResult;
}

export interface FilterOutcome {
  /** false when the filter threw (its findings are missing). */
  readonly executed: boolean;
  readonly enabled: boolean;
  readonly error?: string;
  /** Numeric scores (prompt-attack filter only). */
  readonly scores?: Readonly<Record<string, number>>;
}

/** The result of scanning one direction of one request. */
export interface Inspection {
  readonly direction: "request" | "response";
  readonly template: string;
  /** Findings at or above each filter's threshold. */
  readonly findings: readonly LocatedFinding[];
  readonly filters: Readonly<Record<FilterName, FilterOutcome>>;
  /** `block` also results from a detector error under fail-closed. */
  readonly action: "allow" | "inspect" | "redact" | "block";
  /** True when a detector failed and fail-closed turned that into the block. */
  readonly failedClosed: boolean;
  /** New text per scanned-text index, for texts that were redacted. */
  readonly redacted: ReadonlyMap<number, string>;
  /** Texts cut to `maxScanChars`. */
  readonly truncated: boolean;
  /** Remote backends consulted (empty when none ran). */
  readonly backends: readonly BackendOutcome[];
}

export interface InspectOptions {
  readonly direction: "request" | "response";
  readonly templateName: string;
  readonly template: PolicyTemplate;
  readonly detectors: DetectorSet;
  readonly registry: PlaceholderRegistry;
  readonly decodeDepth: number;
  readonly maxScanChars: number;
}

const attackRoles = new Set(["user", "tool", "function", "input", undefined]);

function atLeast(confidence: Confidence, min: Confidence): boolean {
  return confidenceRank[confidence] >= confidenceRank[min];
}

/** Runs every enabled filter over the texts and decides block / redact / inspect / allow. */
export function inspectTexts(texts: readonly ScanText[], options: InspectOptions): Inspection {
  const { template, detectors } = options;
  const findings: LocatedFinding[] = [];
  const errors = new Map<FilterName, string>();
  const scores: Record<string, number> = {};
  let truncated = false;
  const enabled: Record<FilterName, boolean> = {
    pi_and_jailbreak: template.piAndJailbreak.enabled && options.direction === "request",
    sdp: detectors.text.sdp !== undefined,
    rai: detectors.text.rai !== undefined,
    malicious_uris: detectors.text.malicious_uris !== undefined,
    custom_patterns: detectors.text.custom_patterns !== undefined,
  };
  const minConfidence: Record<FilterName, Confidence> = {
    pi_and_jailbreak: template.piAndJailbreak.minConfidence,
    sdp: template.sensitiveData.minConfidence,
    rai: template.responsibleAi.minConfidence,
    malicious_uris: template.maliciousUris.minConfidence,
    custom_patterns: "LOW",
  };
  const actionFor = (filter: FilterName, type: string): Action => filterAction(template, detectors, filter, type);
  const run = (filter: FilterName, body: () => void): void => {
    if (!enabled[filter] || errors.has(filter)) return;
    try {
      body();
    } catch (error) {
      errors.set(filter, (error as Error).message || "detector error");
    }
  };
  const attackTexts: string[] = [];

  texts.forEach((item, textIndex) => {
    let text = item.text;
    if (text.length > options.maxScanChars) {
      truncated = true;
      text = text.slice(0, options.maxScanChars);
    }
    const { views } = createScanViews(text, { decodeDepth: options.decodeDepth });
    const add = (
      filter: FilterName,
      type: string,
      confidence: Confidence,
      range: readonly [number, number],
      source: ViewSource,
    ) => {
      if (!atLeast(confidence, minConfidence[filter])) return;
      const [start, end] = range;
      findings.push({
        filter,
        type,
        confidence,
        textIndex,
        path: item.path,
        start,
        end,
        source,
        action: actionFor(filter, type),
      });
    };
    for (const filter of ["sdp", "rai", "malicious_uris", "custom_patterns"] as const) {
      run(filter, () => {
        for (const view of views) {
          for (const f of (detectors.text[filter] as NonNullable<(typeof detectors.text)[typeof filter]>).detect(
            view.text,
          )) {
            add(filter, f.type, f.confidence, view.toOriginal(f.start, f.end), view.source);
          }
        }
      });
    }
    if (attackRoles.has(item.role)) {
      attackTexts.push(text);
      run("pi_and_jailbreak", () => {
        const candidates = views.map((v) => ({
          text: v.text,
          source: v.source,
          range: v.toOriginal(0, v.text.length),
        }));
        // Signatures for non-Latin scripts are written unfolded: also classify the raw text.
        if (views[0] && views[0].text !== text) candidates.push({ text, source: "text", range: [0, text.length] });
        for (const candidate of candidates) {
          for (const s of detectors.attack.classify(candidate.text)) {
            const type = s.kind === "injection" ? "PROMPT_INJECTION" : "JAILBREAK";
            scores[s.kind] = Math.max(scores[s.kind] ?? 0, s.score);
            if (s.confidence) add("pi_and_jailbreak", type, s.confidence, candidate.range, candidate.source);
          }
        }
      });
    }
  });
  if (template.piAndJailbreak.scanConversation && attackTexts.length > 1) {
    run("pi_and_jailbreak", () => {
      for (const s of detectors.attack.classify(attackTexts.join("\n"))) {
        if (!s.confidence || !atLeast(s.confidence, minConfidence.pi_and_jailbreak)) continue;
        const type = s.kind === "injection" ? "PROMPT_INJECTION" : "JAILBREAK";
        const action = template.piAndJailbreak.action;
        findings.push({
          filter: "pi_and_jailbreak",
          type,
          confidence: s.confidence,
          textIndex: -1,
          path: "$",
          start: 0,
          end: 0,
          source: "conversation",
          action,
        });
      }
    });
  }

  const failedClosed = errors.size > 0 && template.failMode === "closed";
  const action = decideAction(findings, failedClosed);
  const redacted = action === "redact" ? redactFindings(texts, findings, template, options.registry) : new Map();
  const filters = Object.fromEntries(
    (Object.keys(enabled) as FilterName[]).map((name) => {
      const outcome: FilterOutcome = {
        executed: enabled[name] && !errors.has(name),
        enabled: enabled[name],
        ...(errors.has(name) ? { error: errors.get(name) as string } : {}),
        ...(name === "pi_and_jailbreak" && enabled[name] ? { scores } : {}),
      };
      return [name, outcome];
    }),
  ) as Record<FilterName, FilterOutcome>;
  return {
    direction: options.direction,
    template: options.templateName,
    findings,
    filters,
    action,
    failedClosed,
    redacted,
    truncated,
    backends: [],
  };
}

/** The action a template takes on a match of `filter` (CSAM, reported by backends only, always blocks). */
export function filterAction(
  template: PolicyTemplate,
  detectors: Pick<DetectorSet, "customActions">,
  filter: FilterName,
  type: string,
): Action {
  switch (filter) {
    case "pi_and_jailbreak":
      return template.piAndJailbreak.action;
    case "sdp":
      return template.sensitiveData.infoTypeActions[type] ?? template.sensitiveData.action;
    case "rai":
      return type === "CSAM" ? "block" : template.responsibleAi.action;
    case "malicious_uris":
      return template.maliciousUris.action;
    case "custom_patterns":
      return detectors.customActions.get(type) ?? template.customPatterns.action;
  }
}

/** block when any finding blocks or a detector failed closed, else the strongest finding's action. */
function decideAction(findings: readonly LocatedFinding[], failedClosed: boolean): Inspection["action"] {
  const strongest = findings.reduce<Action | undefined>(
    (acc, f) =>
      acc === undefined || f.action === "block" || (f.action === "redact" && acc === "inspect") ? f.action : acc,
    undefined,
  );
  return failedClosed || strongest === "block" ? "block" : (strongest ?? "allow");
}

/** New text per scanned text for the findings whose action is redact (and that have a range). */
function redactFindings(
  texts: readonly ScanText[],
  findings: readonly LocatedFinding[],
  template: PolicyTemplate,
  registry: PlaceholderRegistry,
): Map<number, string> {
  const redacted = new Map<number, string>();
  const byText = new Map<number, Redaction[]>();
  for (const f of findings) {
    if (f.action !== "redact" || f.textIndex < 0 || f.end <= f.start) continue;
    const list = byText.get(f.textIndex) ?? [];
    list.push({ type: f.type, start: f.start, end: f.end });
    byText.set(f.textIndex, list);
  }
  for (const [index, list] of byText) {
    redacted.set(index, redactText((texts[index] as ScanText).text, list, template.sensitiveData.redaction, registry));
  }
  return redacted;
}

/**
 * Joins backend answers to a local inspection: their matches become findings (with the
 * template's action for their filter), the action and redactions are decided again over
 * all findings, and a backend without an answer fails the template's way.
 */
export function mergeBackendAnswers(
  inspection: Inspection,
  texts: readonly ScanText[],
  answers: readonly BackendAnswer[],
  options: Pick<InspectOptions, "template" | "detectors" | "registry">,
): Inspection {
  if (answers.length === 0) return inspection;
  const remote: LocatedFinding[] = answers.flatMap((a) =>
    a.findings.map((f) => ({
      ...f,
      path: texts[f.textIndex]?.path ?? "$",
      source: "text" as const,
      action: filterAction(options.template, options.detectors, f.filter, f.type),
      backend: a.name,
    })),
  );
  // remote-authoritative: where a backend ran a filter to the end, local matches are reported only.
  const covered = new Set(
    options.template.backendsCombine === "remote-authoritative" ? answers.flatMap((a) => a.covers ?? []) : [],
  );
  const local = inspection.findings.map((f) =>
    covered.has(f.filter) && f.action !== "inspect" ? { ...f, action: "inspect" as const } : f,
  );
  const findings = [...local, ...remote];
  const failedClosed =
    inspection.failedClosed || (answers.some((a) => a.error !== undefined) && options.template.failMode === "closed");
  const action = decideAction(findings, failedClosed);
  const redacted =
    action === "redact" ? redactFindings(texts, findings, options.template, options.registry) : new Map();
  // Model Armor's de-identified text replaces a text nothing else redacted, when its SDP matches redact.
  if (action === "redact") {
    for (const a of answers) {
      const d = a.deidentified;
      const sdpRedacts = a.findings.some(
        (f) => f.filter === "sdp" && filterAction(options.template, options.detectors, f.filter, f.type) === "redact",
      );
      if (d && sdpRedacts && !redacted.has(d.textIndex)) redacted.set(d.textIndex, d.text);
    }
  }
  return {
    ...inspection,
    findings,
    action,
    failedClosed,
    redacted,
    backends: answers.map((a) => ({
      name: a.name,
      durationMs: a.durationMs,
      ...(a.error !== undefined ? { error: a.error } : {}),
      ...(a.result ? { result: a.result } : {}),
    })),
  };
}

/**
 * Records after the fact that `filter` could not run in full (an asynchronous model
 * failed): the filter is reported skipped with `error`, local findings stay, and a
 * fail-closed template blocks (a local block keeps its own reply).
 */
export function failFilter(
  inspection: Inspection,
  filter: FilterName,
  error: string,
  template: PolicyTemplate,
): Inspection {
  const failedClosed = inspection.failedClosed || template.failMode === "closed";
  const action = decideAction(inspection.findings, failedClosed);
  return {
    ...inspection,
    filters: { ...inspection.filters, [filter]: { ...inspection.filters[filter], executed: false, error } },
    failedClosed,
    action,
    redacted: action === "redact" ? inspection.redacted : new Map(),
  };
}
