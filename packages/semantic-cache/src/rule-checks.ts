import { ANTONYMS, AUX, INTENT, NEGATIONS, NUMBER_WORDS, ROLE_NOUNS, STOP, stem, WH } from "./lexicon.js";
import { structuralDifference } from "./question-structure.js";
import { tokenize } from "./text-tokens.js";

/** Which hand rule refused a pair. */
export type RuleReason = "negation" | "number" | "intent" | "antonym" | "content" | "order";

export type RuleVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: RuleReason; readonly word?: string };

/** Word knowledge the content check may use (from the embedder's vocabulary). */
export interface WordKnowledge {
  /** Frequency rank (0 = most frequent) or undefined when unknown. */
  rank(word: string): number | undefined;
  /** Cosine of two known words (by rank). */
  similarity(rankA: number, rankB: number): number;
}

/** Options of {@link checkRules}. */
export interface VerifyOptions {
  readonly words?: WordKnowledge;
  /** Words rarer than this rank (or unknown, or named entities) must be matched on the other side. Default 50. */
  readonly salientRank?: number;
  /** A salient word counts as matched by a word at least this similar. Default 0.85. */
  readonly synonymSimilarity?: number;
  /** Structural checks (asked quantity, mood, roles around a relation, number expressions). Default true. */
  readonly structure?: boolean;
}

/**
 * The hand-written false-hit rules (the cache's verifier before the learned one): a
 * candidate is refused when the two prompts differ in negation, in numbers, by an
 * antonym pair, in question kind or structure, or in a salient content word (a rare
 * word or a named entity) with no synonym opposite. Now features of the learned
 * verifier (pair-features.ts), which weighs their verdicts against the others.
 */
export function checkRules(query: string, cached: string, options: VerifyOptions = {}): RuleVerdict {
  const a = analyse(query);
  const b = analyse(cached);
  if (a.negated !== b.negated) return { ok: false, reason: "negation" };
  if (a.numbers.join(" ") !== b.numbers.join(" ")) return { ok: false, reason: "number" };
  if (a.questionKind !== b.questionKind && a.questionKind !== "other" && b.questionKind !== "other")
    return { ok: false, reason: "intent", word: a.questionKind };
  for (const word of INTENT) {
    if (a.stemSet.has(word) !== b.stemSet.has(word)) return { ok: false, reason: "intent", word };
  }
  const onlyA = a.stems.filter((s) => !b.stemSet.has(s));
  const onlyB = b.stems.filter((s) => !a.stemSet.has(s));
  const forms = (side: Analysis, diff: string[]): Set<string> =>
    new Set(diff.flatMap((s) => [s, side.wordOfStem.get(s) ?? s]));
  const formsB = forms(b, onlyB);
  for (const word of forms(a, onlyA)) {
    if (ANTONYMS.get(word)?.some((o) => formsB.has(o))) return { ok: false, reason: "antonym", word };
  }
  const salientRank = options.salientRank ?? 50;
  const synonym = options.synonymSimilarity ?? 0.85;
  const words = options.words;
  const unmatched = (side: Analysis, other: Analysis, diff: string[]): string | undefined => {
    for (const stem of diff) {
      const word = side.wordOfStem.get(stem) ?? stem;
      if (STOP.has(word) && !side.acronyms.has(word)) continue;
      const rank = words?.rank(word);
      const salient = side.entities.has(word) || rank === undefined || rank >= salientRank;
      if (!salient) continue;
      // A misspelling ("phillippines") is outside the vocabulary and one edit from a word opposite.
      if (other.words.some((w) => (rank === undefined || words?.rank(w) === undefined) && isTypoOf(word, w))) continue;
      // Named entities must appear on both sides: "Brazil" is close to "Venezuela".
      if (rank === undefined || !words || side.entities.has(word)) return word;
      const matched = other.words.some((w) => {
        const r = words.rank(w);
        return r !== undefined && words.similarity(rank, r) >= synonym;
      });
      if (!matched) return word;
    }
    return undefined;
  };
  const missing = unmatched(a, b, onlyA) ?? unmatched(b, a, onlyB);
  if (missing !== undefined) return { ok: false, reason: "content", word: missing };
  const swapped = swappedRoles(a, b);
  if (swapped !== undefined) return { ok: false, reason: "order", word: swapped };
  if (options.structure !== false) {
    const difference = structuralDifference(query, cached, (t) => !STOP.has(t) && !/^\p{N}/u.test(t));
    if (difference) return { ok: false, ...difference };
  }
  return { ok: true };
}

/** One insertion, deletion, substitution or adjacent transposition apart, both words at least 5 letters. */
export function isTypoOf(x: string, y: string): boolean {
  if (x === y || x.length < 5 || y.length < 5 || Math.abs(x.length - y.length) > 1) return false;
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  const rest = (dx: number, dy: number) => x.slice(i + dx) === y.slice(i + dy);
  if (x.length === y.length) return rest(1, 1) || (x[i] === y[i + 1] && x[i + 1] === y[i] && rest(2, 2));
  return x.length > y.length ? rest(1, 0) : rest(0, 1);
}

/** What the verifier reads off one prompt. */
export interface Analysis {
  readonly negated: boolean;
  readonly numbers: string[];
  readonly words: string[];
  readonly stems: string[];
  readonly stemSet: Set<string>;
  readonly wordOfStem: Map<string, string>;
  /** "Does X work?" (yes/no) asks something else than "How does X work?" (wh). */
  readonly questionKind: "wh" | "yes-no" | "other";
  /** Lower-cased words written with a capital letter after the first word. */
  readonly entities: Set<string>;
  /** Lower-cased all-capital words ("IT", "US"), salient even when they look like stop words. */
  readonly acronyms: Set<string>;
}

export function analyse(text: string): Analysis {
  const tokens = tokenize(text);
  let negations = 0;
  const numbers: string[] = [];
  const words: string[] = [];
  for (const token of tokens) {
    if (NEGATIONS.has(token) || token === "n't") negations++;
    else if (/^\p{N}/u.test(token)) numbers.push(token.replace(/,/g, ""));
    else if (NUMBER_WORDS.has(token)) numbers.push(String(NUMBER_WORDS.get(token)));
    else words.push(token);
  }
  const entities = new Set<string>();
  const acronyms = new Set<string>();
  const raw = text.normalize("NFKC").match(/[\p{L}\p{M}]+/gu) ?? [];
  raw.forEach((word, i) => {
    // Capitalised after the first word (Python, Canada), or an acronym anywhere (AWS).
    if ((i > 0 && /^\p{Lu}/u.test(word)) || /^\p{Lu}{2,}$/u.test(word)) entities.add(word.toLowerCase());
    if (/^\p{Lu}{2,}$/u.test(word)) acronyms.add(word.toLowerCase());
  });
  const stems = words.map(stem);
  const wordOfStem = new Map<string, string>();
  stems.forEach((s, i) => {
    wordOfStem.set(s, words[i] as string);
  });
  const first = tokens[0] ?? "";
  const questionKind = WH.has(first) ? "wh" : AUX.has(first) ? "yes-no" : "other";
  return {
    questionKind,
    negated: negations % 2 === 1,
    numbers: numbers.sort(),
    words,
    stems,
    stemSet: new Set(stems),
    wordOfStem,
    entities,
    acronyms,
  };
}

/**
 * "Are cats afraid of tigers?" vs "Are tigers afraid of cats?": the same words with
 * two named or salient nouns on opposite sides of a relation. Returns the first
 * swapped word when the shared entities appear in a different order.
 */
export function swappedRoles(a: Analysis, b: Analysis): string | undefined {
  const key = (side: Analysis) =>
    side.stems.filter((s, i) => !STOP.has(side.words[i] as string) && side.stems.indexOf(s) === i);
  const orderA = key(a).filter((s) => b.stemSet.has(s));
  const orderB = key(b).filter((s) => a.stemSet.has(s));
  const roles = new Set([...a.entities, ...b.entities, ...ROLE_NOUNS].map(stem));
  const ra = orderA.filter((s) => roles.has(s));
  const rb = orderB.filter((s) => roles.has(s));
  if (ra.length < 2 || ra.length !== rb.length) return undefined;
  const at = ra.findIndex((s, i) => rb[i] !== s);
  return at >= 0 ? ra[at] : undefined;
}
