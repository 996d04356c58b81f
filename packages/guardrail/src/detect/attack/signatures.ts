/** A curated prompt-attack phrase family. */
export interface Signature {
  readonly id: string;
  readonly kind: "injection" | "jailbreak";
  readonly pattern: RegExp;
}

// Phrasings collected from public payload lists (deepset/prompt-injections, jailbreakchat-style
// prompts, Giskard and PALLMs lists). Patterns run on normalised, lower-cased text; all are
// linear (no nested quantifiers).
const ignoreVerbs = `(?:ignore|disregard|forget|skip|override|bypass|drop|abandon|neglect|vergiss|ignoriere|ignorieren|vergessen|oublie|olvida|ignora)`;
const previous = `(?:all |any |the |your |my |these |those |every |alle |die |deine |alles )*(?:previous|prior|above|earlier|preceding|initial|original|system|vorherigen?|bisherigen?|obigen?|vorangegangenen?|precedentes?|anteriores?)`;
const orders = `(?:instructions?|prompts?|directions?|rules|guidelines|commands?|context|tasks?|orders|anweisungen|instruktionen|aufgaben|befehle|regeln|instructions|instrucciones)`;

export const signatures: readonly Signature[] = [
  { id: "ignore-previous", kind: "injection", pattern: new RegExp(`${ignoreVerbs} ${previous} ${orders}`) },
  {
    id: "ignore-everything",
    kind: "injection",
    pattern: new RegExp(`${ignoreVerbs} (?:everything|all of (?:the|that)|alles|what (?:i|you) (?:said|told))\\b`),
  },
  {
    id: "forget-instructions-multilingual",
    kind: "injection",
    pattern:
      /(?<!\p{L})(?:забудь(?:те)?|игнорируй(?:те)?|oubliez|oublie|olvida|olvide|dimentica|zaboravi|esque[çc]a|vergiss|vergessen sie|ignorez|ignora)(?!\p{L}).{0,20}(?<!\p{L})(?:все|toutes|todas|tutte|sve|alle|tous|todos)?\s?(?:les |las |le |die )?(?:инструкции|указания|instructions|instrucciones|istruzioni|instrukcije|instru[çc][õo]es|anweisungen|instruktionen|consignes)/u,
  },
  {
    id: "ignore-sources",
    kind: "injection",
    pattern:
      /\b(?:ignor(?:e|ing)|disregard(?:ing)?|not by|without using) (?:the |these |those |all |any )?(?:articles|documents|context|sources|search results|provided text)\b/,
  },
  {
    id: "despite-told",
    kind: "injection",
    pattern: /\b(?:despite|regardless of|no matter) what (?:you(?:'ve| have)? been|you were|i) told\b/,
  },
  {
    id: "german-deviate",
    kind: "injection",
    pattern:
      /\b(?:abweichend (?:zu|von) (?:den )?(?:vorherigen|bisherigen|obigen)|(?:obigen|vorherigen|bisherigen) (?:ausführungen|anweisungen|instruktionen) (?:ignorieren|vergessen|missachten))/,
  },
  {
    id: "stop-and-write",
    kind: "injection",
    pattern: /\b(?:stop|stopp)\b\s*[-–:!]+\s*(?:write|schreib|say|sag|print|ich|now|jetzt)/,
  },
  {
    id: "injected-instruction",
    kind: "injection",
    pattern: /(?:\\n|\n|^|\. )\s*(?:additional |new |neue |zusätzliche )?(?:instruction|anweisung|befehl)\s*[:-]/,
  },
  {
    id: "new-instructions",
    kind: "injection",
    pattern: /\b(?:new|updated|real|actual|neue) (?:instructions?|task|aufgabe|anweisung)(?:en)?\s*(?::|are|is|lautet)/,
  },
  {
    id: "reveal-prompt",
    kind: "injection",
    pattern:
      /\b(?:reveal|show|print|output|repeat|display|leak|tell me|gib|zeige?)\b.{0,30}\b(?:system prompt|initial prompt|your (?:instructions|prompt|rules)|hidden prompt|prompt text|deine anweisungen)/,
  },
  {
    id: "role-override",
    kind: "injection",
    pattern:
      /\b(?:you are no longer|from now on,? you (?:are|will)|ab (?:jetzt|sofort) bist du|stop being an? (?:ai|assistant)|pretend (?:to be|you are) (?:an? )?(?:unfiltered|unrestricted|evil))/,
  },
  {
    id: "fake-system",
    kind: "injection",
    pattern: /(?:^|\n)\s*(?:\[?system\]?|<\|?system\|?>|###\s*system|\[inst\])\s*[:>]/,
  },
  {
    id: "dan",
    kind: "jailbreak",
    pattern:
      /\b(?:dan|do anything now|stan|dude|aim|developer mode|dev mode|jailbreak(?:ed)?|jailbroken|god ?mode)\b.{0,80}\b(?:mode|enabled|prompt|character|persona|can do anything|no (?:restrictions|limits|filters))/,
  },
  {
    id: "no-restrictions",
    kind: "jailbreak",
    pattern:
      /\b(?:without|no|free (?:of|from)|not bound by|break free of|ignore) (?:any )?(?:ethical|moral|content|safety|openai'?s?)? ?(?:restrictions|limitations|guidelines|filters|policies|censorship|rules)\b/,
  },
  {
    id: "unfiltered-persona",
    kind: "jailbreak",
    pattern:
      /\b(?:unfiltered|uncensored|amoral|unrestricted|unethical) (?:ai|chatbot|assistant|model|response|version|character)\b/,
  },
  {
    id: "stay-in-character",
    kind: "jailbreak",
    pattern:
      /\b(?:stay in character|never (?:refuse|break character)|don'?t break character|always (?:answer|respond) (?:as|in character))\b/,
  },
  {
    id: "two-responses",
    kind: "jailbreak",
    pattern:
      /\b(?:two (?:different )?(?:responses|answers|paragraphs)|\[?🔓|\(🔓|classic and jailbreak|normal and (?:developer|dan))\b/,
  },
];

// The same patterns with optional spaces, for text whose spacing was removed (de-spaced
// "i g n o r e a l l" fragments become "ignoreall"); applied only to long unspaced runs.
const relaxed = new Map(
  signatures.map((s) => [s, new RegExp(s.pattern.source.replaceAll(" ", " ?"), s.pattern.flags)]),
);
const unspacedRun = /\p{L}{16,}/u;

/** Signatures that match the (normalised) text. */
export function matchSignatures(text: string): Signature[] {
  const lower = text.toLowerCase().replace(/\s+/g, " ");
  const squeezed = unspacedRun.test(lower);
  return signatures.filter((s) => s.pattern.test(lower) || (squeezed && (relaxed.get(s) as RegExp).test(lower)));
}
