import { tokenize } from "./text-tokens.js";

/**
 * Structural differences between two questions that word overlap misses: what kind
 * of quantity is asked ("how much" vs "how"), the tense or mood of the question
 * ("how did you" vs "how would you"), the relations the prepositions express
 * ("get in" vs "get into", "X" vs "X for"), roles swapped around a shared relation
 * ("X like Y" vs "Y like X"), and number expressions ("1" vs "1-i").
 * Each check returns the differing word, or undefined when the two agree.
 */
export function structuralDifference(
  query: string,
  cached: string,
  isContent: (token: string) => boolean,
): { readonly reason: "intent" | "order" | "number"; readonly word: string } | undefined {
  const a = tokenize(query);
  const b = tokenize(cached);
  const quantity = askedQuantity(a) ?? askedQuantity(b);
  if (quantity !== undefined && askedQuantity(a) !== askedQuantity(b) && a.includes("how") && b.includes("how"))
    return { reason: "intent", word: quantity };
  const [moodA, moodB] = [moodOf(a), moodOf(b)];
  if (moodA && moodB && moodA !== moodB && PAST_VS_HYPOTHETICAL.has(`${moodA}/${moodB}`))
    return { reason: "intent", word: `${moodA}/${moodB}` };
  const [relationsA, relationsB] = [prepositions(a), prepositions(b)];
  if (relationsA !== relationsB) return { reason: "intent", word: relationsA || relationsB };
  const swapped = swappedAroundRelation(a, b, isContent);
  if (swapped !== undefined) return { reason: "order", word: swapped };
  const [numbersA, numbersB] = [numberExpressions(query), numberExpressions(cached)];
  if (numbersA !== numbersB) return { reason: "number", word: numbersA || numbersB };
  return undefined;
}

/** Each structural check on its own, for the learned verifier's features (true = the two differ). */
export interface StructuralSignals {
  readonly quantity: boolean;
  readonly mood: boolean;
  readonly prepositions: boolean;
  readonly swapped: boolean;
  readonly expressions: boolean;
}

export function structuralSignals(
  query: string,
  cached: string,
  isContent: (token: string) => boolean,
): StructuralSignals {
  const a = tokenize(query);
  const b = tokenize(cached);
  const [moodA, moodB] = [moodOf(a), moodOf(b)];
  return {
    quantity: askedQuantity(a) !== askedQuantity(b) && a.includes("how") && b.includes("how"),
    mood: moodA !== undefined && moodB !== undefined && PAST_VS_HYPOTHETICAL.has(`${moodA}/${moodB}`),
    prepositions: prepositions(a) !== prepositions(b),
    swapped: swappedAroundRelation(a, b, isContent) !== undefined,
    expressions: numberExpressions(query) !== numberExpressions(cached),
  };
}

const QUANTITY = new Set([
  "much",
  "many",
  "long",
  "often",
  "far",
  "old",
  "big",
  "large",
  "tall",
  "high",
  "deep",
  "soon",
  "fast",
  "quickly",
  "hard",
]);

/** "much" for "how much ...", undefined when no "how <quantity>" is asked. */
function askedQuantity(tokens: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i] === "how" && QUANTITY.has(tokens[i + 1] as string)) return tokens[i + 1];
  }
  return undefined;
}

/** Past ("how did you") and hypothetical or modal ("how would / can you") questions ask different things. */
const MOOD = new Map([
  ["did", "past"],
  ["was", "past"],
  ["were", "past"],
  ["would", "hypothetical"],
  ["can", "hypothetical"],
  ["could", "hypothetical"],
  ["should", "hypothetical"],
  ["will", "future"],
  ["do", "present"],
  ["does", "present"],
  ["is", "present"],
  ["are", "present"],
  ["am", "present"],
]);
/** Only these mood pairs change the question; "what is" / "what was" are usually the same question. */
const PAST_VS_HYPOTHETICAL = new Set(["past/hypothetical", "hypothetical/past"]);
const WH = new Set(["what", "which", "how", "why", "when", "where", "who", "whom", "whose"]);

/** Mood of the auxiliary that opens the question, right after its wh-word. */
function moodOf(tokens: readonly string[]): string | undefined {
  let i = 0;
  while (i < tokens.length && WH.has(tokens[i] as string)) i++;
  if (i === 0 && tokens.length > 0 && !MOOD.has(tokens[0] as string)) return undefined;
  return MOOD.get(tokens[i] as string);
}

/**
 * "Do Mexican girls like black guys?" vs "Do black girls like Mexican guys?": two
 * shared content words on opposite sides of a shared content word, in swapped order.
 */
function swappedAroundRelation(
  a: readonly string[],
  b: readonly string[],
  isContent: (token: string) => boolean,
): string | undefined {
  const positions = (tokens: readonly string[]) => {
    const at = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (isContent(t) && !at.has(t)) at.set(t, i);
    });
    return at;
  };
  const [pa, pb] = [positions(a), positions(b)];
  const shared = [...pa.keys()].filter((w) => pb.has(w));
  for (const x of shared) {
    for (const y of shared) {
      if (x === y || (pa.get(x) as number) > (pa.get(y) as number)) continue;
      if ((pb.get(x) as number) < (pb.get(y) as number)) continue;
      const [from, to] = [pa.get(x) as number, pa.get(y) as number];
      const [fromB, toB] = [pb.get(y) as number, pb.get(x) as number];
      // "match fixing and spot fixing": a coordination is symmetric.
      if (a.slice(from, to).some((t) => SYMMETRIC.has(t)) || b.slice(fromB, toB).some((t) => SYMMETRIC.has(t)))
        continue;
      const between = shared.some((r) => {
        const [ra, rb] = [pa.get(r) as number, pb.get(r) as number];
        return (
          ra > (pa.get(x) as number) &&
          ra < (pa.get(y) as number) &&
          rb > (pb.get(y) as number) &&
          rb < (pb.get(x) as number)
        );
      });
      if (between) return x;
    }
  }
  return undefined;
}

/** Prepositions name the relation asked about: "treatment for asthma" vs "... in children". */
const PREPOSITIONS = new Set([
  "in",
  "into",
  "on",
  "onto",
  "for",
  "with",
  "without",
  "within",
  "to",
  "from",
  "at",
  "by",
  "about",
  "over",
  "under",
]);

/** The prepositions of a question as a sorted multiset. */
function prepositions(tokens: readonly string[]): string {
  return tokens
    .filter((t) => PREPOSITIONS.has(t))
    .sort()
    .join(" ");
}

const SYMMETRIC = new Set(["and", "or", "vs", "versus", "between"]);

/** Arithmetic expressions ("1-i", "x^2", "2+3"): a number joined by an operator to a number or a single letter. */
function numberExpressions(text: string): string {
  const found =
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/(?:\b\p{L}|\p{N}+)(?:\s*[-+*/^]\s*(?:\p{N}+|\p{L}\b))+/gu) ?? [];
  return found
    .map((n) => n.replace(/,/g, ""))
    .sort()
    .join(" ");
}
