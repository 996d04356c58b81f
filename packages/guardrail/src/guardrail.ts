import { createHash } from "node:crypto";
import type { ImmediateResponse, JsonValue } from "@llm-callouts/ext-proc";
import { openAiErrorBody, openAiErrorResponse } from "@llm-callouts/llm-api";
import { type BackendAnswer, consultBackends, type GuardrailBackend, modelArmorBackend } from "./backends/backends.js";
import { nemoGuardrailsBackend } from "./backends/nemo-guardrails.js";
import type { GuardrailConfig, PolicyTemplate } from "./config.js";
import { createDetectorSet, type DetectorOverrides, type DetectorSet, type FilterName } from "./policy/detectors.js";
import {
  type BackendOutcome,
  failFilter,
  filterAction,
  type Inspection,
  inspectTexts,
  mergeBackendAnswers,
  type ScanText,
} from "./policy/engine.js";
import { modelClassifier, recordingClassifier } from "./policy/model-pass.js";
import { createPlaceholderRegistry, type PlaceholderRegistry } from "./policy/placeholders.js";
import { applyFloor, type SelectionKey, selectTemplateName } from "./policy/template.js";
import { buildAuditRecord, buildVerdict, summaryHeaderValue } from "./policy/verdict.js";
import {
  extractRequestTexts,
  extractResponseTexts,
  type JsonKeys,
  type LocatedText,
  parseJsonBody,
  replaceTexts,
} from "./scan/extract.js";
import { createSseScanner, type SseScanner, type StreamSpan } from "./scan/sse-scanner.js";

/** A template resolved for one request: floor applied, detectors built. */
export interface ResolvedPolicy {
  readonly name: string;
  readonly template: PolicyTemplate;
  readonly detectors: DetectorSet;
  /** Remote backends this template consults after the local pass, per direction. */
  readonly backends: Readonly<Record<"request" | "response", readonly GuardrailBackend[]>>;
}

/** What to do with a body after scanning. */
export interface BodyOutcome {
  readonly inspection: Inspection;
  /** Replacement body when something was redacted. */
  readonly body?: string;
  /** Local reply when blocked. */
  readonly respond?: ImmediateResponse;
  readonly verdict: { [key: string]: JsonValue };
  readonly summary: string;
  readonly audit: { [key: string]: JsonValue };
}

/** The guardrail's decision logic, independent of the wire protocol. */
export interface Guardrail {
  resolve(key: SelectionKey): ResolvedPolicy;
  inspectBody(
    direction: "request" | "response",
    body: Uint8Array,
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
    requestId?: string,
  ): BodyOutcome;
  /**
   * `inspectBody("request", ...)` plus the policy's asynchronous attack model, if any:
   * the texts the engine classifies are scored by the model first, then merged with
   * the built-in classifier (the more confident of the two wins per attack kind).
   */
  inspectRequestBody(
    body: Uint8Array,
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
    requestId?: string,
  ): Promise<BodyOutcome>;
  /** `inspectBody("response", ...)` plus the policy's remote backends (a whole, non-streamed answer). */
  inspectResponseBody(
    body: Uint8Array,
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
    requestId?: string,
  ): Promise<BodyOutcome>;
  createStreamScanner(policy: ResolvedPolicy, registry: PlaceholderRegistry): SseScanner;
  /** The policy's remote backends over a streamed answer, window by window; undefined when it has none. */
  createStreamWindows(policy: ResolvedPolicy): StreamWindows | undefined;
  /** Verdict for a finished (or blocked) stream from the scanner's findings. */
  streamOutcome(
    policy: ResolvedPolicy,
    scanner: SseScanner,
    durationMs: number,
    requestId?: string,
    windows?: StreamWindows,
  ): Omit<BodyOutcome, "body" | "respond">;
}

/** Remote checks of a streamed answer, window by window. */
export interface StreamWindows {
  /**
   * Feeds the text a chunk added (per channel); checks every window that is complete (or, at
   * `end`, what is left) and says whether the stream must stop.
   */
  check(appended: ReadonlyMap<string, string>, end: boolean): Promise<{ block: boolean; spans: StreamSpan[] }>;
  /** Per backend: windows checked, time spent, the first error. */
  outcomes(): BackendOutcome[];
}

/** Characters of the previous window a new window repeats, so a phrase split between two is seen whole. */
const windowOverlapChars = 200;
/** Window verdicts kept per process (oldest dropped first). */
const maxCachedWindows = 10_000;

export function createGuardrail(config: GuardrailConfig, overrides: DetectorOverrides = {}): Guardrail {
  const resolved = new Map<string, ResolvedPolicy>();
  // Template + window text hash -> the backends' answers, so a repeated window is not sent again.
  const windowVerdicts = new Map<string, BackendAnswer[]>();
  const resolve = (key: SelectionKey): ResolvedPolicy => {
    const name = selectTemplateName(config, key);
    let policy = resolved.get(name);
    if (!policy) {
      const template = applyFloor(config.templates[name] as PolicyTemplate, config.floor);
      const armor = overrides.modelArmor;
      const nemo = overrides.nemoGuardrails;
      const backendsFor = (direction: "request" | "response"): GuardrailBackend[] => {
        const list: GuardrailBackend[] = [];
        const armorTemplate =
          direction === "request" ? template.modelArmor.userPromptTemplate : template.modelArmor.modelResponseTemplate;
        if (armor && armorTemplate !== "") list.push(modelArmorBackend(armor, armorTemplate));
        if (nemo && template.nemoGuardrails.configId !== "")
          list.push(nemoGuardrailsBackend(nemo, template.nemoGuardrails.configId));
        return list;
      };
      const backends = { request: backendsFor("request"), response: backendsFor("response") };
      policy = { name, template, detectors: createDetectorSet(template, overrides), backends };
      resolved.set(name, policy);
    }
    return policy;
  };
  const inspect = (
    direction: "request" | "response",
    texts: readonly ScanText[],
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
  ): Inspection =>
    inspectTexts(texts, {
      direction,
      templateName: policy.name,
      template: policy.template,
      detectors: policy.detectors,
      registry,
      decodeDepth: config.decodeDepth,
      maxScanChars: config.maxScanChars,
    });
  const blockReply = (
    direction: "request" | "response",
    policy: ResolvedPolicy,
    inspection: Inspection,
  ): ImmediateResponse => {
    const headers = { [config.summaryHeader]: summaryHeaderValue(inspection) };
    if (inspection.failedClosed && !inspection.findings.some((f) => f.action === "block")) {
      return openAiErrorResponse(503, "guardrail_unavailable", "The content policy could not be evaluated.", {
        details: "guardrail_failed_closed",
        headers,
      });
    }
    const b = direction === "request" ? policy.template.requestBlock : policy.template.responseBlock;
    return openAiErrorResponse(b.status, b.code, b.message, { details: `guardrail_${direction}_blocked`, headers });
  };

  /** What one body holds and what the local pass made of it. */
  interface Scanned {
    readonly inspection: Inspection;
    readonly texts: LocatedText[];
    readonly json: unknown;
    readonly raw: boolean;
  }
  const scan = (
    direction: "request" | "response",
    bytes: Uint8Array,
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
  ): Scanned => {
    const parsed = bytes.length > 0 ? parseJsonBody(bytes) : { value: undefined };
    const json = "value" in parsed ? parsed.value : undefined;
    let texts: LocatedText[] = [];
    if (json !== undefined) texts = direction === "request" ? extractRequestTexts(json) : extractResponseTexts(json);
    const raw = json === undefined && bytes.length > 0;
    // Bodies that are not JSON (or JSON of no known shape) are scanned as plain text.
    if (raw) texts = [{ keys: [], path: "$", text: new TextDecoder().decode(bytes) }];
    return { inspection: inspect(direction, texts, policy, registry), texts, json, raw };
  };
  const outcomeOf = (
    direction: "request" | "response",
    { inspection, texts, json, raw }: Scanned,
    policy: ResolvedPolicy,
    requestId: string | undefined,
    started: number,
  ): BodyOutcome => {
    const scannedChars = texts.reduce((n, t) => n + t.text.length, 0);
    const outcome = {
      inspection,
      verdict: buildVerdict(inspection, config.maxFindingsInVerdict, texts),
      summary: summaryHeaderValue(inspection),
      audit: buildAuditRecord(inspection, { requestId, durationMs: performance.now() - started, scannedChars }),
    };
    if (inspection.action === "block") return { ...outcome, respond: blockReply(direction, policy, inspection) };
    if (inspection.redacted.size === 0) return outcome;
    if (raw) return { ...outcome, body: inspection.redacted.get(0) as string };
    const replacements = new Map<JsonKeys, string>();
    for (const [index, text] of inspection.redacted) replacements.set((texts[index] as LocatedText).keys, text);
    try {
      return { ...outcome, body: JSON.stringify(replaceTexts(json, replacements)) };
    } catch {
      // Nesting too deep to re-serialise: the redaction cannot be applied, so do not forward.
      const respond = openAiErrorResponse(422, "guardrail_unprocessable_body", "The body could not be redacted.", {
        details: "guardrail_unprocessable_body",
      });
      return { ...outcome, respond };
    }
  };
  const inspectBody = (
    direction: "request" | "response",
    bytes: Uint8Array,
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
    requestId: string | undefined,
    started = performance.now(),
  ): BodyOutcome => outcomeOf(direction, scan(direction, bytes, policy, registry), policy, requestId, started);
  /** The local pass, then (unless it already blocks) the template's remote backends within the budget. */
  const withBackends = async (
    direction: "request" | "response",
    scanned: Scanned,
    policy: ResolvedPolicy,
    registry: PlaceholderRegistry,
  ): Promise<Scanned> => {
    const localFirst = policy.template.backendsCombine === "any";
    const backends = policy.backends[direction];
    if (backends.length === 0 || scanned.texts.length === 0) return scanned;
    if (localFirst && scanned.inspection.action === "block") return scanned;
    const answers = await consultBackends(backends, direction, scanned.texts, config.backends.budgetMs);
    const inspection = mergeBackendAnswers(scanned.inspection, scanned.texts, answers, {
      template: policy.template,
      detectors: policy.detectors,
      registry,
    });
    return { ...scanned, inspection };
  };

  return {
    resolve,
    inspectBody: (direction, bytes, policy, registry, requestId) =>
      inspectBody(direction, bytes, policy, registry, requestId),
    async inspectRequestBody(bytes, policy, registry, requestId) {
      const started = performance.now();
      const model = policy.template.piAndJailbreak.enabled ? policy.detectors.model : undefined;
      if (!model) {
        const scanned = await withBackends("request", scan("request", bytes, policy, registry), policy, registry);
        return outcomeOf("request", scanned, policy, requestId, started);
      }
      // Pass 1: the whole local pass with the built-in classifier, recording what it classifies.
      const recorder = recordingClassifier(policy.detectors.attack);
      const scratch = createPlaceholderRegistry();
      const first = scan(
        "request",
        bytes,
        { ...policy, detectors: { ...policy.detectors, attack: recorder.classifier } },
        scratch,
      );
      if (first.inspection.action === "block" && policy.template.backendsCombine === "any") {
        return outcomeOf("request", first, policy, requestId, started);
      }
      // The model and the remote backends run at the same time; pass 2 merges the model's scores.
      const [scored, answers] = await Promise.all([
        modelClassifier(model, policy.detectors.attack, recorder.texts()),
        policy.backends.request.length > 0 && first.texts.length > 0
          ? consultBackends(policy.backends.request, "request", first.texts, config.backends.budgetMs)
          : Promise.resolve([]),
      ]);
      const local = { ...policy, detectors: { ...policy.detectors, attack: scored.classifier } };
      let second = scan("request", bytes, local, registry);
      if (scored.failure !== undefined) {
        second = {
          ...second,
          inspection: failFilter(second.inspection, "pi_and_jailbreak", scored.failure, policy.template),
        };
      }
      const inspection = mergeBackendAnswers(second.inspection, second.texts, answers, {
        template: policy.template,
        detectors: policy.detectors,
        registry,
      });
      return outcomeOf("request", { ...second, inspection }, local, requestId, started);
    },
    async inspectResponseBody(bytes, policy, registry, requestId) {
      const started = performance.now();
      const scanned = await withBackends("response", scan("response", bytes, policy, registry), policy, registry);
      return outcomeOf("response", scanned, policy, requestId, started);
    },
    createStreamScanner(policy, registry) {
      const b = policy.template.responseBlock;
      const mode = policy.template.sensitiveData.redaction;
      return createSseScanner({
        holdBackChars: config.stream.holdBackChars,
        scan: (text): StreamSpan[] => {
          // Placeholders are issued on release only, so scans use a scratch registry.
          const inspection = inspect("response", [{ path: "$", text }], policy, createPlaceholderRegistry());
          if (inspection.failedClosed)
            return [{ type: "DETECTOR_FAILED", start: 0, end: text.length, action: "block" }];
          return inspection.findings.map((f) => ({
            type: f.type,
            start: f.start,
            end: f.end,
            action: f.action,
            filter: f.filter,
            confidence: f.confidence,
          }));
        },
        replacement: (type, value) => (mode === "mask" ? "*".repeat(value.length) : registry.placeholder(type, value)),
        blockEvents: (flavour) => {
          const type = b.status === 429 ? "rate_limit_error" : "invalid_request_error";
          if (flavour === "anthropic") {
            return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message: b.message } })}\n\n`;
          }
          return `data: ${openAiErrorBody(b.message, type, b.code)}\n\ndata: [DONE]\n\n`;
        },
      });
    },
    createStreamWindows(policy) {
      if (policy.backends.response.length === 0) return undefined;
      const pending = new Map<string, { consumed: number; tail: string; text: string }>();
      const answered: BackendAnswer[] = [];
      const checkWindow = async (text: string): Promise<BackendAnswer[]> => {
        const key = createHash("sha256").update(policy.name).update("\0").update(text).digest("base64");
        const cached = windowVerdicts.get(key);
        if (cached) return cached;
        const answers = await consultBackends(
          policy.backends.response,
          "response",
          [{ path: "$.stream", text }],
          config.backends.budgetMs,
        );
        if (answers.every((a) => a.error === undefined)) {
          windowVerdicts.set(key, answers);
          if (windowVerdicts.size > maxCachedWindows)
            windowVerdicts.delete(windowVerdicts.keys().next().value as string);
        }
        return answers;
      };
      return {
        async check(appended, end) {
          const spans: StreamSpan[] = [];
          let failed = false;
          for (const name of new Set([...appended.keys(), ...pending.keys()])) {
            const p = pending.get(name) ?? { consumed: 0, tail: "", text: "" };
            pending.set(name, p);
            p.text += appended.get(name) ?? "";
            while (p.text.length >= config.stream.remoteWindowChars || (end && p.text.length > 0)) {
              const fresh = p.text.slice(0, config.stream.remoteWindowChars);
              p.text = p.text.slice(fresh.length);
              const window = p.tail + fresh;
              const startsAt = p.consumed - p.tail.length;
              p.consumed += fresh.length;
              p.tail = window.slice(-windowOverlapChars);
              const answers = await checkWindow(window);
              answered.push(...answers);
              if (answers.some((a) => a.error !== undefined)) failed = true;
              for (const a of answers) {
                for (const f of a.findings) {
                  spans.push({
                    type: f.type,
                    start: startsAt + f.start,
                    end: startsAt + f.end,
                    action: filterAction(policy.template, policy.detectors, f.filter, f.type),
                    filter: f.filter,
                    confidence: f.confidence,
                    backend: a.name,
                  });
                }
              }
            }
          }
          const block = spans.some((s) => s.action === "block") || (failed && policy.template.failMode === "closed");
          return { block, spans };
        },
        outcomes() {
          const byName = new Map<string, { durationMs: number; error?: string }>();
          for (const a of answered) {
            const o = byName.get(a.name) ?? { durationMs: 0 };
            o.durationMs += a.durationMs;
            if (a.error !== undefined && o.error === undefined) o.error = a.error;
            byName.set(a.name, o);
          }
          return [...byName].map(([name, o]) => ({ name, ...o }));
        },
      };
    },
    streamOutcome(policy, scanner, durationMs, requestId, windows) {
      const findings = scanner.spans().map((s) => ({
        filter: (s.filter ?? "sdp") as FilterName,
        type: s.type,
        confidence: s.confidence ?? ("HIGH" as const),
        textIndex: 0,
        path: "$.stream",
        start: s.start,
        end: s.end,
        source: "text" as const,
        action: s.action,
        ...(s.backend !== undefined ? { backend: s.backend } : {}),
      }));
      const failed = findings.some((f) => f.type === "DETECTOR_FAILED");
      const state = (name: Exclude<FilterName, "pi_and_jailbreak">) => {
        const on = policy.detectors.text[name] !== undefined;
        return { executed: on, enabled: on };
      };
      const inspection: Inspection = {
        direction: "response",
        template: policy.name,
        findings: findings.filter((f) => f.type !== "DETECTOR_FAILED"),
        filters: {
          pi_and_jailbreak: { executed: false, enabled: false },
          sdp: failed ? { executed: false, enabled: true, error: "detector failed" } : state("sdp"),
          rai: state("rai"),
          malicious_uris: state("malicious_uris"),
          custom_patterns: state("custom_patterns"),
        },
        action: scanner.blocked
          ? "block"
          : findings.some((f) => f.action === "redact")
            ? "redact"
            : findings.length > 0
              ? "inspect"
              : "allow",
        failedClosed: failed,
        redacted: new Map(),
        truncated: false,
        backends: windows?.outcomes() ?? [],
      };
      return {
        inspection,
        verdict: buildVerdict(inspection, config.maxFindingsInVerdict),
        summary: summaryHeaderValue(inspection),
        audit: buildAuditRecord(inspection, { requestId, durationMs, scannedChars: 0 }),
      };
    },
  };
}
