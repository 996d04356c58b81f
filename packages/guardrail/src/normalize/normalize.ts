import { homoglyphs } from "./homoglyphs.js";

/** A payload hidden in invisible characters, decoded for rescanning. */
export interface SmuggledText {
  readonly kind: "unicode-tags" | "variation-selectors";
  /** Original offsets (UTF-16 code units) of the invisible run. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** What normalisation changed, for metrics and the verdict. */
export interface NormalizeStats {
  /** Invisible, format, private-use and unassigned code points removed. */
  readonly stripped: number;
  /** Code points changed by NFKC or homoglyph folding. */
  readonly folded: number;
  /** Unicode tag characters (U+E0000-E007F) removed. */
  readonly tags: number;
  /** Variation selectors removed. */
  readonly selectors: number;
}

/** The text detectors see, with a map back to the original string. */
export interface NormalizedText {
  readonly original: string;
  readonly text: string;
  readonly smuggled: readonly SmuggledText[];
  readonly stats: NormalizeStats;
  /** Maps a [start, end) range of `text` to the original string. */
  toOriginal(start: number, end: number): readonly [start: number, end: number];
}

const plainAscii = /^[\x20-\x7e\t\n\r]*$/;
// Cf (format: zero-width, bidi, soft hyphen, BOM), Co (private use), Cn (unassigned).
const invisible = /^[\p{Cf}\p{Co}\p{Cn}]$/u;
const combining = /^\p{M}$/u;

function isVariationSelector(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);
}

/**
 * Unicode NFKC, removal of invisible characters, tag characters and variation
 * selectors, and homoglyph folding. Tag runs and runs of two or more variation
 * selectors are decoded into `smuggled` so their payload is scanned too.
 * Pure ASCII input is returned as is without allocating offset maps.
 */
export function normalizeText(original: string): NormalizedText {
  if (plainAscii.test(original)) {
    return {
      original,
      text: original,
      smuggled: [],
      stats: { stripped: 0, folded: 0, tags: 0, selectors: 0 },
      toOriginal: (start, end) => [start, end],
    };
  }
  const out: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const smuggled: SmuggledText[] = [];
  let stripped = 0;
  let folded = 0;
  let tags = 0;
  let selectors = 0;
  let tagRun: { start: number; end: number; chars: string[] } | undefined;
  let vsRun: { start: number; end: number; bytes: number[] } | undefined;
  const flushRuns = (): void => {
    if (tagRun && tagRun.chars.length > 0) {
      smuggled.push({ kind: "unicode-tags", start: tagRun.start, end: tagRun.end, text: tagRun.chars.join("") });
    }
    if (vsRun && vsRun.bytes.length >= 2) {
      const text = new TextDecoder().decode(new Uint8Array(vsRun.bytes));
      smuggled.push({ kind: "variation-selectors", start: vsRun.start, end: vsRun.end, text });
    }
    tagRun = undefined;
    vsRun = undefined;
  };
  const push = (chunk: string, start: number, end: number): void => {
    for (let k = 0; k < chunk.length; k++) {
      out.push(chunk[k] as string);
      starts.push(start);
      ends.push(end);
    }
  };

  let i = 0;
  while (i < original.length) {
    const cp = original.codePointAt(i) as number;
    const size = cp > 0xffff ? 2 : 1;
    if (cp < 0x80 && (original.charCodeAt(i + 1) < 0x300 || !combining.test(original[i + 1] ?? ""))) {
      if (tagRun || vsRun) flushRuns();
      push(original[i] as string, i, i + 1);
      i += 1;
      continue;
    }
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      tags++;
      tagRun ??= { start: i, end: i, chars: [] };
      if (cp >= 0xe0020 && cp <= 0xe007e) tagRun.chars.push(String.fromCharCode(cp - 0xe0000));
      tagRun.end = i + size;
      i += size;
      continue;
    }
    if (isVariationSelector(cp)) {
      selectors++;
      vsRun ??= { start: i, end: i, bytes: [] };
      vsRun.bytes.push(cp <= 0xfe0f ? cp - 0xfe00 : cp - 0xe0100 + 16);
      vsRun.end = i + size;
      i += size;
      continue;
    }
    const char = original.slice(i, i + size);
    if (invisible.test(char)) {
      stripped++;
      i += size;
      continue;
    }
    if (tagRun || vsRun) flushRuns();
    // A base character and its combining marks normalise together.
    let j = i + size;
    while (j < original.length) {
      const next = original.codePointAt(j) as number;
      if (isVariationSelector(next)) break;
      const nextChar = String.fromCodePoint(next);
      if (!combining.test(nextChar)) break;
      j += nextChar.length;
    }
    const cluster = original.slice(i, j);
    let normalised = cluster.normalize("NFKC");
    let mapped = "";
    for (const c of normalised) mapped += homoglyphs.get(c.codePointAt(0) as number) ?? c;
    normalised = mapped;
    if (normalised !== cluster) folded++;
    push(normalised, i, j);
    i = j;
  }
  flushRuns();
  const text = out.join("");
  return {
    original,
    text,
    smuggled,
    stats: { stripped, folded, tags, selectors },
    toOriginal(start, end) {
      if (text.length === 0) return [0, original.length];
      const s = start >= text.length ? original.length : (starts[start] as number);
      const e = end <= 0 ? 0 : (ends[Math.min(end, text.length) - 1] as number);
      return [s, Math.max(s, e)];
    },
  };
}
