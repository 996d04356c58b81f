import { type AttackClassifier, type AttackScore, mergeAttackScores } from "../detect/attack/attack-model.js";
import type { AsyncAttackModel } from "../detect/attack/transformers-model.js";

/**
 * An asynchronous attack model (local transformers or served over HTTP) next to the
 * synchronous engine, in two passes: the first local pass runs with a recording
 * classifier (the built-in one, remembering every text it was asked about: each view and
 * the joined conversation), the model scores those texts in one call (while the remote
 * backends run), and the second pass uses `modelClassifier`, which merges the model's
 * scores with the built-in ones (the more confident per kind).
 */
export function recordingClassifier(builtIn: AttackClassifier): {
  readonly classifier: AttackClassifier;
  readonly texts: () => string[];
} {
  const seen = new Set<string>();
  return {
    classifier: {
      classify(text) {
        seen.add(text);
        return builtIn.classify(text);
      },
    },
    texts: () => [...seen],
  };
}

/**
 * Scores `texts` with the model. On failure the classifier is `builtIn` alone and `failure`
 * says why: the caller records it on the filter after the local pass, so a local detection
 * still counts (a local block stays a 400, not a 503) and the template's fail mode decides the rest.
 */
export async function modelClassifier(
  model: AsyncAttackModel,
  builtIn: AttackClassifier,
  texts: readonly string[],
): Promise<{ readonly classifier: AttackClassifier; readonly failure?: string }> {
  try {
    const results = await model.score(texts);
    const scored = new Map<string, AttackScore[]>(texts.map((t, i) => [t, results[i] ?? []]));
    return { classifier: { classify: (text) => mergeAttackScores(builtIn.classify(text), scored.get(text) ?? []) } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { classifier: builtIn, failure: `${model.id}: ${message}` };
  }
}
