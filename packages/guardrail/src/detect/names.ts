import { commonWords, firstNames, lastNames, placeNames } from "./data/name-lists.js";
import type { Confidence, Finding, TextDetector } from "./finding.js";

const firsts = new Set(firstNames.split("|"));
const lasts = new Set(lastNames.split("|"));
// Function words and greetings that start sentences; never part of a name.
const extraCommon =
  "the|a|an|i|my|your|our|their|his|her|hi|hello|dear|hey|thanks|thank|please|yes|no|ok|okay|this|that|these|those|what|when|where|who|why|how|is|are|was|were|and|or|but|if|so|to|of|in|on|at|for|with|from|by|as|it|we|you|they|he|she|mr|mrs|ms|dr|prof|sir|madam|user|name|address|phone|email|street|road|city|country|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october|november|december|god|lord|christmas|easter|english|french|german|spanish|italian|american|european|inc|ltd|llc|corp|company|bank|university|school|hospital|apt|suite|unit|box|north|south|east|west|new|old|saint|st|can|just|baby|princess|prince|king|queen|royal|bridge|national|lines|group|sons|holdings|international|global|services|house|hotel|church|river|lake|mount|port|fort|via|rua|rue|calle|ul|den|haag|do|does|did|will|would|should|could|let|lets|we’re|i’m|im|also|then|there|here|after|before|today|tomorrow|yesterday|good|great|best|dear";
// Imperative verbs that start prompts ("Compare Kafka and ...") and technology names that are also surnames.
const promptWords =
  "compare|describe|explain|summarize|summarise|translate|list|write|fix|draft|create|generate|give|show|tell|make|convert|rewrite|proofread|outline|solve|calculate|find|act|pretend|suggest|plan|debug|refactor|python|java|javascript|typescript|kafka|rust|ruby|swift|kotlin|scala|perl|julia|haskell|rabbitmq|redis|docker|kubernetes|postgres|mysql|linux|excel|django|flask|spring|react|angular|vue|node|pandas|spark|hadoop|terraform|ansible|jenkins";
const common = new Set([
  ...commonWords.split("|"),
  ...extraCommon.split("|"),
  ...promptWords.split("|"),
  ...placeNames.split("|"),
]);
const titles = /(?:\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Lady|Lord|Herr|Frau|Mme|Mlle|Sr|Sra)\.?\s+)$/;
const particles = new Set([
  "van",
  "von",
  "de",
  "der",
  "den",
  "da",
  "das",
  "do",
  "dos",
  "del",
  "della",
  "di",
  "du",
  "le",
  "la",
  "bin",
  "ibn",
  "al",
  "ter",
  "ten",
]);
const cue =
  /(?:\b(?:name is|i'm|i’m|i am|called|named|said|says|say|told|tell|ask|asked|contact|meet|met|with|by|dear|hi|hello|hey|thanks|kid|son|daughter|wife|husband|producer|singer|author|director|by)\s+)$/i;
const organisation = /^(?:,? (?:Inc|Ltd|LLC|Corp|Corporation|GmbH|AG|SA|PLC|Group|and Sons|& Sons|Company|Co)\b)/;
const orgSuffix = /^(?:Inc|Ltd|LLC|Corp|Corporation|GmbH|AG|PLC|Group|Company|Co)\.?$/;
const word = /[\p{Lu}][\p{Ll}\p{M}'’]*(?:-[\p{L}\p{M}]+)*\.?|[\p{Ll}]+/gu;

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

function isCapitalised(t: string): boolean {
  return /^\p{Lu}/u.test(t);
}

function isInitial(t: string): boolean {
  return /^\p{Lu}\.?$/u.test(t);
}

/**
 * Person names: runs of capitalised words scored against shipped given-name and
 * family-name lists (about 29k Latin-script names); a title, a given+family pair
 * or a middle initial raise confidence. Words that are also common English words
 * need such evidence.
 */
export function createNameDetector(): TextDetector {
  return {
    name: "person-names",
    detect(text) {
      const out: Finding[] = [];
      const tokens: Token[] = [];
      for (const m of text.matchAll(word)) tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
      let i = 0;
      while (i < tokens.length) {
        const t = tokens[i] as Token;
        if (!isCapitalised(t.text) || isInitial(t.text)) {
          i++;
          continue;
        }
        // Collect a run: capitalised words, initials and particles separated by one space.
        const run: Token[] = [t];
        let j = i + 1;
        while (j < tokens.length && run.length < 5) {
          const next = tokens[j] as Token;
          const prev = run[run.length - 1] as Token;
          const gap = text.slice(prev.end, next.start);
          if (gap !== " ") break;
          const bare = next.text.toLowerCase();
          if (!isCapitalised(next.text) && !particles.has(bare)) break;
          run.push(next);
          j++;
        }
        while (run.length > 0 && particles.has((run[run.length - 1] as Token).text.toLowerCase())) run.pop();
        const finding = scoreRun(text, run);
        if (finding) out.push(finding);
        i = Math.max(j, i + 1);
      }
      // Later bare mentions of a name already found ("... starring Holinka").
      const known = new Set<string>();
      for (const f of out)
        for (const part of text.slice(f.start, f.end).split(" ")) if (part.length > 2) known.add(part);
      // Tokens and first-pass findings are both in text order: walk them together.
      const found = [...out];
      let next = 0;
      for (const t of tokens) {
        while (next < found.length && (found[next] as Finding).end <= t.start) next++;
        const covering = next < found.length && (found[next] as Finding).start < t.end;
        const bare = t.text.replace(/['’]s$|[.'’]$/, "");
        if (!covering && known.has(bare))
          out.push({ type: "PERSON", start: t.start, end: t.start + bare.length, confidence: "MEDIUM" });
      }
      out.sort((a, b) => a.start - b.start);
      return out;
    },
  };
}

function bareName(token: Token): string {
  return token.text.replace(/['’]s$|[.'’]$/, "").toLowerCase();
}

function scoreRun(text: string, run: readonly Token[]): Finding | undefined {
  // Drop leading common words ("Hi Victor", "The Smith report").
  let lead = 0;
  while (lead < run.length && common.has(bareName(run[lead] as Token)) && !isInitial((run[lead] as Token).text)) lead++;
  const words = run.slice(lead);
  if (words.length === 0 || words.some((w) => orgSuffix.test(w.text))) return undefined;
  const names = words.map((w) => {
    const bare = bareName(w);
    return {
      first: firsts.has(bare),
      last: lasts.has(bare) || bare.split("-").every((p) => lasts.has(p)),
      common: common.has(bare),
      initial: isInitial(w.text),
      particle: particles.has(bare),
    };
  });
  const first = words[0] as Token;
  const lastWord = words[words.length - 1] as Token;
  const titled = titles.test(text.slice(Math.max(0, first.start - 6), first.start));
  const known = names.filter((n) => (n.first || n.last) && !n.common).length;
  const anyName = names.filter((n) => n.first || n.last).length;
  const substantive = names.filter((n) => !n.initial && !n.particle).length;
  let confidence: Confidence | undefined;
  if (substantive >= 2 && names[0]?.first && names[names.length - 1]?.last) confidence = "HIGH";
  else if (titled) confidence = "HIGH";
  else if (substantive >= 2 && known >= 1 && anyName >= substantive - 1) confidence = "MEDIUM";
  else if (substantive === 1 && known === 1 && names.length <= 2) confidence = "MEDIUM";
  else if (cue.test(text.slice(Math.max(0, first.start - 12), first.start)) && names.every((n) => !n.common)) {
    confidence = "MEDIUM";
  }
  if (!confidence || organisation.test(text.slice(lastWord.end, lastWord.end + 12))) return undefined;
  const trimmed = lastWord.text.match(/(?:['’]s|[.'’])$/)?.[0].length ?? 0;
  const end = isInitial(lastWord.text) ? lastWord.end : lastWord.end - trimmed;
  return { type: "PERSON", start: first.start, end, confidence };
}
