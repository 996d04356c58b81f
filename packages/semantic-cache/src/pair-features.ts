import { ANTONYMS, INTENT, STOP } from "./lexicon.js";
import { structuralSignals } from "./question-structure.js";
import { type Analysis, analyse, checkRules, isTypoOf, swappedRoles, type WordKnowledge } from "./rule-checks.js";

/**
 * The pair features the learned verifier scores, in model order. Every feature is
 * in [0, 1]; lexical ones are symmetric in the two prompts.
 */
export const PAIR_FEATURES = [
  "cosine",
  "cosineSquared",
  "sharedMin",
  "sharedMax",
  "alignedMin",
  "alignedMax",
  "unmatchedRarest",
  "unmatchedCount",
  "entityUnmatched",
  "negation",
  "number",
  "questionKind",
  "intentWord",
  "antonym",
  "swappedRoles",
  "quantityAsked",
  "mood",
  "prepositions",
  "swappedAroundRelation",
  "expressions",
  "salientUnmatched",
  "lengthRatio",
  "trigramJaccard",
  "sameFirstWord",
  "bigramShared",
  "cosineTimesAligned",
  "shortPrompt",
  "rareUnmatched",
  "substitution",
  "substitutionSimilarity",
  "addition",
  "contentLength",
  "weightedAlignedMin",
  "weightedAlignedMax",
  "rulesAccept",
  "ruleContent",
  "ruleIntent",
  "ruleOrder",
] as const;

export type PairFeatureName = (typeof PAIR_FEATURES)[number];

/** Options of {@link pairFeatures}. */
export interface PairFeatureOptions {
  /**
   * Word vectors for soft alignment ("purchase" ~ "buy"). Without them only exact
   * stems and one-edit typos align, and unknown words carry no rarity penalty.
   */
  readonly words?: WordKnowledge;
}

/**
 * Features of a (query, cached prompt) pair for the learned verifier: the embedder's
 * cosine, content-word overlap and alignment, the rarest word left unmatched, named
 * entities on one side only, negation / number / question-kind / intent / antonym /
 * role / structure mismatches, length ratio, character trigram overlap and word order.
 */
export function pairFeatures(
  query: string,
  cached: string,
  cosine: number,
  options: PairFeatureOptions = {},
): Float64Array {
  const a = analyse(query);
  const b = analyse(cached);
  const words = options.words;
  const contentA = contentWords(a);
  const contentB = contentWords(b);
  const stemsA = new Set(contentA.map((w) => w.stem));
  const stemsB = new Set(contentB.map((w) => w.stem));
  const shared = [...stemsA].filter((s) => stemsB.has(s)).length;
  const shareA = stemsA.size ? shared / stemsA.size : 1;
  const shareB = stemsB.size ? shared / stemsB.size : 1;

  const alignA = align(contentA, contentB, stemsB, a.entities, words);
  const alignB = align(contentB, contentA, stemsA, b.entities, words);
  const unmatched = [...alignA.unmatched, ...alignB.unmatched];
  const rarity = (word: string): number => {
    const rank = words?.rank(word);
    // Unknown to the vocabulary: rare when a vocabulary exists, neutral without one.
    if (rank === undefined) return words ? 1 : 0.5;
    return Math.min(1, Math.log(rank + 2) / Math.log(200_000));
  };
  // Words with no synonym (similarity 0.85) opposite: on both sides a substitution ("Spain" / "China"), on one an addition.
  const looseA = alignA.loose;
  const looseB = alignB.loose;
  const rare = (w: string) => {
    const rank = words?.rank(w);
    return rank === undefined || rank >= 1_000;
  };
  let substitutionSimilarity = 0;
  if (words) {
    for (const x of looseA) {
      const rx = words.rank(x);
      if (rx === undefined) continue;
      for (const y of looseB) {
        const ry = words.rank(y);
        if (ry !== undefined) substitutionSimilarity = Math.max(substitutionSimilarity, words.similarity(rx, ry));
      }
    }
  }
  const unmatchedRarest = unmatched.reduce((max, w) => Math.max(max, rarity(w)), 0);

  const entityUnmatched =
    [...a.entities].filter((e) => !b.entities.has(e) && !b.words.some((w) => w === e || isTypoOf(e, w))).length +
    [...b.entities].filter((e) => !a.entities.has(e) && !a.words.some((w) => w === e || isTypoOf(e, w))).length;

  const intentWord = INTENT.some((w) => a.stemSet.has(w) !== b.stemSet.has(w));
  const onlyA = new Set(a.words.filter((w) => !b.words.includes(w)));
  const onlyB = new Set(b.words.filter((w) => !a.words.includes(w)));
  const antonym = [...onlyA].some((w) => ANTONYMS.get(w)?.some((o) => onlyB.has(o)));
  const structure = structuralSignals(query, cached, (t) => !STOP.has(t) && !/^\p{N}/u.test(t));

  const lengthA = a.words.length + a.numbers.length;
  const lengthB = b.words.length + b.numbers.length;
  const bigramsA = bigrams(contentA.map((w) => w.stem));
  const bigramsB = bigrams(contentB.map((w) => w.stem));
  const sharedBigrams = [...bigramsA].filter((g) => bigramsB.has(g)).length;
  const aligned = Math.min(alignA.score, alignB.score);
  const c = Math.max(0, Math.min(1, cosine));
  const rules = checkRules(query, cached, words ? { words } : {});
  const rule = (reason: string) => (!rules.ok && rules.reason === reason ? 1 : 0);

  const values: Record<PairFeatureName, number> = {
    cosine: c,
    cosineSquared: c * c,
    sharedMin: Math.min(shareA, shareB),
    sharedMax: Math.max(shareA, shareB),
    alignedMin: aligned,
    alignedMax: Math.max(alignA.score, alignB.score),
    unmatchedRarest,
    unmatchedCount: Math.min(unmatched.length, 5) / 5,
    entityUnmatched: Math.min(entityUnmatched, 3) / 3,
    negation: a.negated !== b.negated ? 1 : 0,
    number: a.numbers.join(" ") !== b.numbers.join(" ") ? 1 : 0,
    questionKind: a.questionKind !== b.questionKind && a.questionKind !== "other" && b.questionKind !== "other" ? 1 : 0,
    intentWord: intentWord ? 1 : 0,
    antonym: antonym ? 1 : 0,
    swappedRoles: swappedRoles(a, b) !== undefined ? 1 : 0,
    quantityAsked: structure.quantity ? 1 : 0,
    mood: structure.mood ? 1 : 0,
    prepositions: structure.prepositions ? 1 : 0,
    swappedAroundRelation: structure.swapped ? 1 : 0,
    expressions: structure.expressions ? 1 : 0,
    salientUnmatched: Math.min(alignA.salientUnmatched + alignB.salientUnmatched, 3) / 3,
    lengthRatio: Math.max(lengthA, lengthB) ? Math.min(lengthA, lengthB) / Math.max(lengthA, lengthB) : 1,
    trigramJaccard: jaccard(trigrams(query), trigrams(cached)),
    sameFirstWord: a.words[0] !== undefined && a.words[0] === b.words[0] ? 1 : 0,
    bigramShared:
      Math.max(bigramsA.size, bigramsB.size) > 0 ? sharedBigrams / Math.max(bigramsA.size, bigramsB.size) : 1,
    cosineTimesAligned: c * aligned,
    shortPrompt: Math.min(contentA.length, contentB.length) <= 2 ? 1 : 0,
    rareUnmatched: Math.min([...looseA, ...looseB].filter(rare).length, 3) / 3,
    substitution: looseA.length > 0 && looseB.length > 0 ? 1 : 0,
    substitutionSimilarity: Math.max(0, substitutionSimilarity),
    addition: looseA.length > 0 !== looseB.length > 0 ? 1 : 0,
    contentLength: Math.min(Math.max(contentA.length, contentB.length), 15) / 15,
    weightedAlignedMin: Math.min(alignA.weighted, alignB.weighted),
    weightedAlignedMax: Math.max(alignA.weighted, alignB.weighted),
    rulesAccept: rules.ok ? 1 : 0,
    ruleContent: rule("content"),
    ruleIntent: rule("intent"),
    ruleOrder: rule("order"),
  };
  return Float64Array.from(PAIR_FEATURES, (name) => values[name]);
}

interface ContentWord {
  readonly word: string;
  readonly stem: string;
}

/** Words that carry the question's content: not stop words (acronyms like "IT" count). */
function contentWords(side: Analysis): ContentWord[] {
  const out: ContentWord[] = [];
  side.words.forEach((word, i) => {
    if (STOP.has(word) && !side.acronyms.has(word)) return;
    out.push({ word, stem: side.stems[i] as string });
  });
  return out;
}

/**
 * Soft alignment of `from` onto `to`: each content word scores 1 when its stem is on
 * the other side, 0.9 for a one-edit typo, else its best word-vector similarity
 * (below 0.5 counts as 0). Returns the mean score, the words left unmatched, and how
 * many salient words (named entities, words outside the vocabulary or rarer than the
 * 50 most frequent) have no match at similarity 0.85 or better.
 */
function align(
  from: readonly ContentWord[],
  to: readonly ContentWord[],
  toStems: ReadonlySet<string>,
  entities: ReadonlySet<string>,
  words: WordKnowledge | undefined,
): {
  readonly score: number;
  readonly weighted: number;
  readonly unmatched: string[];
  readonly loose: string[];
  readonly salientUnmatched: number;
} {
  if (from.length === 0) return { score: 1, weighted: 1, unmatched: [], loose: [], salientUnmatched: 0 };
  let total = 0;
  let weighted = 0;
  let weights = 0;
  let salientUnmatched = 0;
  const unmatched: string[] = [];
  const loose: string[] = [];
  for (const { word, stem } of from) {
    const rank = words?.rank(word);
    // Informative words weigh more: log-rank, unknown words as the rarest.
    const weight = rank === undefined ? 1 : Math.log(rank + 2) / Math.log(200_000);
    weights += weight;
    if (toStems.has(stem)) {
      total += 1;
      weighted += weight;
      continue;
    }
    if (to.some((t) => isTypoOf(word, t.word))) {
      total += 0.9;
      weighted += 0.9 * weight;
      continue;
    }
    let best = 0;
    if (words && rank !== undefined) {
      for (const t of to) {
        const r = words.rank(t.word);
        if (r !== undefined) best = Math.max(best, words.similarity(rank, r));
      }
    }
    if (best >= 0.5) {
      total += best;
      weighted += best * weight;
    } else unmatched.push(word);
    if (best < SYNONYM) loose.push(word);
    const salient = entities.has(word) || rank === undefined || rank >= SALIENT_RANK;
    if (salient && (best < SYNONYM || entities.has(word))) salientUnmatched++;
  }
  return {
    score: total / from.length,
    weighted: weights > 0 ? weighted / weights : 1,
    unmatched,
    loose,
    salientUnmatched,
  };
}

/** Words less frequent than this rank are salient: they must be matched on the other side. */
const SALIENT_RANK = 50;
/** A word at least this similar counts as a synonym of a salient word. */
const SYNONYM = 0.85;

function bigrams(stems: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < stems.length; i++) out.add(`${stems[i]} ${stems[i + 1]}`);
  return out;
}

function trigrams(text: string): Set<string> {
  const s = ` ${text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim()} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= s.length; i++) out.add(s.slice(i, i + 3));
  return out;
}

function jaccard(x: ReadonlySet<string>, y: ReadonlySet<string>): number {
  let both = 0;
  for (const g of x) if (y.has(g)) both++;
  const union = x.size + y.size - both;
  return union ? both / union : 1;
}
