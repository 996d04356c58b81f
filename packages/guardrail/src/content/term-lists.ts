import type { Confidence, Finding, TextDetector } from "../detect/finding.js";

/** Responsible-AI categories (Model Armor's RAI filter types). */
export type RaiCategory = "hate_speech" | "harassment" | "sexually_explicit" | "dangerous";

/** A denied topic or term list: phrases matched on word boundaries, case-insensitively. */
export interface TermList {
  readonly category: RaiCategory | string;
  readonly terms: readonly string[];
  readonly confidence?: Confidence;
}

/**
 * Small, unambiguous default phrases per category. Slur lists are deliberately not
 * shipped: operators add their own through config (`contentPolicy.termLists`).
 */
export const defaultTermLists: readonly TermList[] = [
  {
    category: "dangerous",
    terms: [
      "how to make a bomb",
      "build a pipe bomb",
      "make a pipe bomb",
      "synthesize sarin",
      "make sarin",
      "make nerve gas",
      "synthesize methamphetamine",
      "cook meth",
      "make ricin",
      "make napalm",
      "make a molotov cocktail",
      "untraceable gun",
      "3d print a gun",
      "write ransomware",
      "write a keylogger",
    ],
  },
  {
    category: "harassment",
    terms: ["kill yourself", "go kill yourself", "kys", "you should die", "i will find you and hurt you"],
  },
  { category: "hate_speech", terms: ["gas the", "exterminate all", "subhuman race", "ethnic cleansing now"] },
  {
    category: "sexually_explicit",
    terms: ["explicit sex scene", "hardcore porn", "write porn", "sexual content involving minors"],
  },
];

function escapeTerm(term: string): string {
  return term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+");
}

/**
 * Terms per compiled alternation. V8 matches an alternation of a few hundred literals fast, but
 * one of 10,000 falls off its fast path: 18 s for 256 KiB of prose, against about 100 ms for
 * the same terms in alternations of 500 (measured on the development machine).
 */
const termsPerPattern = 500;

/** Most terms one template may list across its term lists (the config refuses more). */
export const maxTermsPerTemplate = 10_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Denied-term detector: one alternation of escaped literals per category (no
 * quantifiers besides whitespace runs, so matching is linear).
 */
export function createTermListDetector(lists: readonly TermList[]): TextDetector {
  const compiled = lists.flatMap((l) =>
    chunks(l.terms, termsPerPattern).map((terms) => ({
      type: `RAI_${l.category.toUpperCase()}`,
      confidence: l.confidence ?? "MEDIUM",
      pattern: new RegExp(`(?<![\\p{L}\\p{N}])(?:${terms.map(escapeTerm).join("|")})(?![\\p{L}\\p{N}])`, "giu"),
    })),
  );
  return {
    name: "term-lists",
    detect(text) {
      const out: Finding[] = [];
      for (const c of compiled) {
        for (const m of text.matchAll(c.pattern)) {
          out.push({ type: c.type, start: m.index, end: m.index + m[0].length, confidence: c.confidence });
        }
      }
      return out;
    },
  };
}
