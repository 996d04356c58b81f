/**
 * Remote guardrail backends next to the local detectors. The local pass runs first (it
 * blocks obvious attacks without a network call); the backends a template names then run
 * in parallel within one time budget, and their matches join the local ones (the
 * strongest action wins). A backend that fails or misses the budget is recorded in the
 * verdict and handled by the template's `failMode`: `open` continues with a PARTIAL
 * verdict, `closed` refuses with 503.
 */

import type { Confidence } from "../detect/finding.js";
import type { FilterName } from "../policy/detectors.js";
import type { ScanText } from "../policy/engine.js";
import {
  confidenceFromLevel,
  confidenceFromLikelihood,
  type SanitizationResult,
} from "../policy/model-armor-result.js";
import { BackendError, type ModelArmorClient } from "./model-armor.js";

/** A match a backend reported, located in one scanned text (action still to be decided). */
export interface BackendFinding {
  readonly filter: FilterName;
  readonly type: string;
  readonly confidence: Confidence;
  /** Index into the scanned texts. */
  readonly textIndex: number;
  /** UTF-16 offsets; [0, 0) when the backend gave no location. */
  readonly start: number;
  readonly end: number;
}

export interface BackendAnswer {
  readonly name: string;
  readonly durationMs: number;
  readonly error?: string;
  readonly result?: SanitizationResult;
  readonly findings: readonly BackendFinding[];
  /** Filters it evaluated successfully (its verdict on them is complete). */
  readonly covers?: readonly FilterName[];
  /** A de-identified version of one scanned text (Model Armor's advanced SDP `deidentifyResult.data.text`). */
  readonly deidentified?: { readonly textIndex: number; readonly text: string };
}

/** One remote backend for one template. */
export interface GuardrailBackend {
  readonly name: string;
  /** Its own deadline ends the call; `consultBackends` stops waiting at the budget in any case. */
  inspect(direction: "request" | "response", texts: readonly ScanText[]): Promise<BackendAnswer>;
}

/**
 * Model Armor with one template (a prompt template on requests, a response template on
 * answers). It screens one text per call, as its API documents (single turn): the last user
 * message of a request, the last text of an answer. The rest of the conversation is left to
 * the local pass.
 */
export function modelArmorBackend(client: ModelArmorClient, template: string): GuardrailBackend {
  return {
    name: "model-armor",
    async inspect(direction, texts) {
      const started = performance.now();
      const index =
        direction === "request"
          ? lastIndex(texts, (t) => t.role === "user" || t.role === undefined)
          : lastIndex(texts, () => true);
      const base = { name: "model-armor", findings: [] as BackendFinding[] };
      if (index < 0) return { ...base, durationMs: 0 };
      const text = (texts[index] as ScanText).text;
      try {
        const result =
          direction === "request"
            ? await client.sanitizeUserPrompt(template, text)
            : await client.sanitizeModelResponse(template, text);
        const deidentified = result.filterResults?.sdp?.sdpFilterResult?.deidentifyResult;
        return {
          ...base,
          durationMs: performance.now() - started,
          result,
          findings: findingsOf(result, text, index),
          covers: coveredFilters(result),
          ...(deidentified?.matchState === "MATCH_FOUND" && typeof deidentified.data?.text === "string"
            ? { deidentified: { textIndex: index, text: deidentified.data.text } }
            : {}),
        };
      } catch (error) {
        const status = error instanceof BackendError ? error.status : "INTERNAL";
        return { ...base, durationMs: performance.now() - started, error: status };
      }
    },
  };
}

function lastIndex(texts: readonly ScanText[], keep: (t: ScanText) => boolean): number {
  for (let i = texts.length - 1; i >= 0; i--) if (keep(texts[i] as ScanText)) return i;
  return -1;
}

const ourFilters: readonly FilterName[] = ["pi_and_jailbreak", "sdp", "rai", "malicious_uris"];

/** The filters Model Armor ran to the end (`EXECUTION_SUCCESS`), by our names (its keys are the same). */
function coveredFilters(result: SanitizationResult): FilterName[] {
  return ourFilters.filter((name) => {
    const r = result.filterResults?.[name];
    const state =
      r?.piAndJailbreakFilterResult?.executionState ??
      r?.raiFilterResult?.executionState ??
      r?.sdpFilterResult?.inspectResult?.executionState ??
      r?.sdpFilterResult?.deidentifyResult?.executionState ??
      r?.maliciousUriFilterResult?.executionState;
    return state === "EXECUTION_SUCCESS";
  });
}

/** Model Armor's matches as findings in `text` (its code point ranges turned into UTF-16 offsets). */
export function findingsOf(result: SanitizationResult, text: string, textIndex: number): BackendFinding[] {
  const out: BackendFinding[] = [];
  const codepoints = [...text];
  const utf16 = (cp: unknown): number => {
    const n = Math.max(0, Math.min(codepoints.length, Number(cp ?? 0)));
    return codepoints.slice(0, n).join("").length;
  };
  const whole = { start: 0, end: text.length };
  const add = (filter: FilterName, type: string, confidence: Confidence, at = whole) =>
    out.push({ filter, type, confidence, textIndex, start: at.start, end: at.end });
  for (const value of Object.values(result.filterResults ?? {})) {
    const pi = value.piAndJailbreakFilterResult;
    if (pi?.matchState === "MATCH_FOUND")
      add("pi_and_jailbreak", "PI_AND_JAILBREAK", confidenceFromLevel(pi.confidenceLevel));
    const rai = value.raiFilterResult;
    if (rai?.matchState === "MATCH_FOUND") {
      for (const [category, r] of Object.entries(rai.raiFilterTypeResults ?? {})) {
        if (r.matchState === "MATCH_FOUND")
          add("rai", `RAI_${category.toUpperCase()}`, confidenceFromLevel(r.confidenceLevel));
      }
    }
    const sdp = value.sdpFilterResult;
    for (const f of sdp?.inspectResult?.findings ?? []) {
      const range = f.location?.codepointRange;
      const at = range ? { start: utf16(range.start), end: utf16(range.end) } : { start: 0, end: 0 };
      add("sdp", f.infoType ?? "UNKNOWN", confidenceFromLikelihood(f.likelihood), at);
    }
    if (sdp?.deidentifyResult?.matchState === "MATCH_FOUND") {
      for (const type of sdp.deidentifyResult.infoTypes ?? []) add("sdp", type, "HIGH", { start: 0, end: 0 });
    }
    const uris = value.maliciousUriFilterResult;
    if (uris?.matchState === "MATCH_FOUND") {
      for (const item of uris.maliciousUriMatchedItems ?? []) {
        const locations = item.locations?.length ? item.locations : [undefined];
        for (const l of locations) {
          add("malicious_uris", "MALICIOUS_URI", "HIGH", l ? { start: utf16(l.start), end: utf16(l.end) } : whole);
        }
      }
    }
    if (value.csamFilterFilterResult?.matchState === "MATCH_FOUND") add("rai", "CSAM", "HIGH");
  }
  return out;
}

/** Runs the backends in parallel; a backend still running when the budget ends counts as DEADLINE_EXCEEDED. */
export async function consultBackends(
  backends: readonly GuardrailBackend[],
  direction: "request" | "response",
  texts: readonly ScanText[],
  budgetMs: number,
): Promise<BackendAnswer[]> {
  if (backends.length === 0) return [];
  return Promise.all(
    backends.map((backend) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<BackendAnswer>((done) => {
        timer = setTimeout(
          () =>
            done({
              name: backend.name,
              durationMs: performance.now() - started,
              error: "DEADLINE_EXCEEDED",
              findings: [],
            }),
          budgetMs,
        );
      });
      return Promise.race([backend.inspect(direction, texts), late]).finally(() => clearTimeout(timer));
    }),
  );
}
