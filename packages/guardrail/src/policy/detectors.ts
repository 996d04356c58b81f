import type { ModelArmorClient } from "../backends/model-armor.js";
import type { NemoGuardrailsOptions } from "../backends/nemo-guardrails.js";
import type { PolicyTemplate } from "../config.js";
import { compileCustomPatterns } from "../content/custom-patterns.js";
import { createTermListDetector, defaultTermLists } from "../content/term-lists.js";
import { createUrlDetector } from "../content/url-check.js";
import { type AttackClassifier, createAttackClassifier } from "../detect/attack/attack-model.js";
import { attackModels } from "../detect/attack/model-weights.js";
import type { AsyncAttackModel } from "../detect/attack/transformers-model.js";
import type { Finding, TextDetector } from "../detect/finding.js";
import { createSensitiveDataDetector } from "../detect/sensitive-data.js";

/** Model Armor's filter keys, plus operator patterns. */
export type FilterName = "pi_and_jailbreak" | "sdp" | "rai" | "malicious_uris" | "custom_patterns";

export const filterNames: readonly FilterName[] = [
  "pi_and_jailbreak",
  "sdp",
  "rai",
  "malicious_uris",
  "custom_patterns",
];

/** The detectors one template needs, built once per template. */
export interface DetectorSet {
  readonly attack: AttackClassifier;
  /** Optional asynchronous model (transformers) scored next to `attack` on request texts. */
  readonly model?: AsyncAttackModel;
  readonly text: Readonly<Partial<Record<Exclude<FilterName, "pi_and_jailbreak">, TextDetector>>>;
  /** Per custom-pattern finding type, its own action if it has one. */
  readonly customActions: ReadonlyMap<string, "block" | "redact" | "inspect">;
}

/** Replaces built-in detectors (tests inject failing ones; deployments may add models). */
export interface DetectorOverrides {
  readonly attack?: AttackClassifier;
  /** An extra asynchronous prompt-attack model (the configured transformers model, or a test double). */
  readonly model?: AsyncAttackModel;
  readonly text?: Partial<Record<Exclude<FilterName, "pi_and_jailbreak">, TextDetector>>;
  /** The Model Armor client templates with `modelArmor` templates consult (built from `backends.modelArmor`). */
  readonly modelArmor?: ModelArmorClient;
  /** The NeMo Guardrails server templates with a `nemoGuardrails.configId` consult. */
  readonly nemoGuardrails?: NemoGuardrailsOptions;
}

let sharedClassifier: AttackClassifier | undefined;

/** The shipped classifier, loaded once per process. */
export function defaultAttackClassifier(): AttackClassifier {
  sharedClassifier ??= createAttackClassifier(attackModels);
  return sharedClassifier;
}

/** Builds the detectors a template enables. */
export function createDetectorSet(template: PolicyTemplate, overrides: DetectorOverrides = {}): DetectorSet {
  const text: Partial<Record<Exclude<FilterName, "pi_and_jailbreak">, TextDetector>> = {};
  if (template.sensitiveData.enabled) {
    text.sdp = createSensitiveDataDetector({
      names: template.sensitiveData.names,
      addresses: template.sensitiveData.addresses,
    });
  }
  if (template.responsibleAi.enabled) {
    const lists = [
      ...(template.responsibleAi.useDefaultTermLists ? defaultTermLists : []),
      ...template.responsibleAi.termLists,
    ];
    text.rai = createTermListDetector(lists);
  }
  if (template.maliciousUris.enabled) text.malicious_uris = createUrlDetector(template.maliciousUris);
  const customActions = new Map<string, "block" | "redact" | "inspect">();
  if (template.customPatterns.patterns.length > 0) {
    const compiled = compileCustomPatterns(template.customPatterns.patterns);
    // The config schema already rejected invalid patterns; this is a bug guard.
    if ("errors" in compiled) throw new Error(compiled.errors.join("; "));
    text.custom_patterns = compiled.detector;
    for (const p of template.customPatterns.patterns) {
      const type = p.type ?? `CUSTOM_${p.name.toUpperCase().replace(/\W+/g, "_")}`;
      if (p.action) customActions.set(type, p.action);
    }
  }
  return {
    attack: overrides.attack ?? defaultAttackClassifier(),
    ...(overrides.model ? { model: overrides.model } : {}),
    text: { ...text, ...overrides.text },
    customActions,
  };
}

/** A detector that always throws, for fail-open / fail-closed tests and drills. */
export function createFailingDetector(message = "detector failed"): TextDetector {
  return {
    name: "failing",
    detect(): Finding[] {
      throw new Error(message);
    },
  };
}
