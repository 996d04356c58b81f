import type { GuardrailConfig, PolicyFloor, PolicyTemplate } from "../config.js";
import { type Confidence, confidenceRank } from "../detect/finding.js";

/** What a filter may do with a match, weakest first. */
export type Action = "inspect" | "redact" | "block";

const actionRank: Readonly<Record<Action, number>> = { inspect: 0, redact: 1, block: 2 };

/** The stronger of two actions. */
export function strongerAction<A extends Action>(a: A, b: A | undefined): A {
  return b !== undefined && actionRank[b] > actionRank[a] ? b : a;
}

/** The stricter (lower) of two confidence thresholds. */
export function stricterConfidence(a: Confidence, b: Confidence | undefined): Confidence {
  return b !== undefined && confidenceRank[b] < confidenceRank[a] ? b : a;
}

/**
 * Applies the floor to a template: filters named by the floor are enabled, the
 * lower threshold and the stronger action win, fail-closed wins and a direction
 * the floor requires is scanned. The result is never weaker than either input.
 */
export function applyFloor(template: PolicyTemplate, floor: PolicyFloor): PolicyTemplate {
  const infoTypeActions = { ...template.sensitiveData.infoTypeActions };
  for (const [type, a] of Object.entries(floor.sensitiveData?.infoTypeActions ?? {})) {
    infoTypeActions[type] = strongerAction(infoTypeActions[type] ?? template.sensitiveData.action, a);
  }
  return {
    ...template,
    piAndJailbreak: {
      ...template.piAndJailbreak,
      enabled: template.piAndJailbreak.enabled || floor.piAndJailbreak !== undefined,
      minConfidence: stricterConfidence(template.piAndJailbreak.minConfidence, floor.piAndJailbreak?.minConfidence),
      action: strongerAction(template.piAndJailbreak.action, floor.piAndJailbreak?.action),
    },
    sensitiveData: {
      ...template.sensitiveData,
      enabled: template.sensitiveData.enabled || floor.sensitiveData !== undefined,
      minConfidence: stricterConfidence(template.sensitiveData.minConfidence, floor.sensitiveData?.minConfidence),
      action: strongerAction(template.sensitiveData.action, floor.sensitiveData?.action),
      infoTypeActions,
    },
    responsibleAi: {
      ...template.responsibleAi,
      enabled: template.responsibleAi.enabled || floor.responsibleAi !== undefined,
      minConfidence: stricterConfidence(template.responsibleAi.minConfidence, floor.responsibleAi?.minConfidence),
      action: strongerAction(template.responsibleAi.action, floor.responsibleAi?.action),
    },
    maliciousUris: {
      ...template.maliciousUris,
      enabled: template.maliciousUris.enabled || floor.maliciousUris !== undefined,
      minConfidence: stricterConfidence(template.maliciousUris.minConfidence, floor.maliciousUris?.minConfidence),
      action: strongerAction(template.maliciousUris.action, floor.maliciousUris?.action),
    },
    failMode: floor.failMode === "closed" ? "closed" : template.failMode,
    directions: {
      request: template.directions.request || floor.directions?.request === true,
      response: template.directions.response || floor.directions?.response === true,
    },
  };
}

/** What a request is matched on when selecting a template. */
export interface SelectionKey {
  readonly path: string | undefined;
  readonly model: string | undefined;
  readonly tenant: string | undefined;
}

/** Picks the first matching selector's template name, else the default. */
export function selectTemplateName(
  config: Pick<GuardrailConfig, "selectors" | "defaultTemplate">,
  key: SelectionKey,
): string {
  for (const s of config.selectors) {
    if (s.pathPrefix !== undefined && !(key.path ?? "").startsWith(s.pathPrefix)) continue;
    if (s.model !== undefined && s.model !== key.model) continue;
    if (s.tenant !== undefined && s.tenant !== key.tenant) continue;
    return s.template;
  }
  return config.defaultTemplate;
}
