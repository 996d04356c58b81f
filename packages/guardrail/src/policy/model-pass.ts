import { type AttackClassifier, type AttackScore, mergeAttackScores } from "../detect/attack/attack-model.js";
import type { AsyncAttackModel } from "../detect/attack/transformers-model.js";

/**
 * Bridges an asynchronous attack model into the synchronous engine in two passes:
 * `record` runs the engine with a recording classifier (so the exact texts it
 * classifies, every view and the joined conversation, are collected), the model
 * scores them in one call, and the returned classifier merges its scores with
 * `builtIn` (the more confident per kind). When the model fails, the classifier is
 * `builtIn` alone and `failure` says why: the caller records the failure on the
 * filter after the local pass, so a local detection still counts (a local block stays
 * a 400, not a 503) and the template's fail mode decides the rest.
 */
export async function createModelClassifier(
  model: AsyncAttackModel,
  builtIn: AttackClassifier,
  record: (recorder: AttackClassifier) => void,
): Promise<{ readonly classifier: AttackClassifier; readonly failure?: string }> {
  const seen = new Set<string>();
  record({
    classify(text) {
      seen.add(text);
      return [];
    },
  });
  const texts = [...seen];
  let scored: Map<string, AttackScore[]> | undefined;
  let failure: Error | undefined;
  try {
    const results = await model.score(texts);
    scored = new Map(texts.map((t, i) => [t, results[i] ?? []]));
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
  }
  if (failure) return { classifier: builtIn, failure: `${model.id}: ${failure.message}` };
  return { classifier: { classify: (text) => mergeAttackScores(builtIn.classify(text), scored?.get(text) ?? []) } };
}
