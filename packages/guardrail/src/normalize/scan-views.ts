import { type Encoding, findEncodedSegments } from "./decode.js";
import { type NormalizedText, normalizeText } from "./normalize.js";

/** Where a view's text came from. */
export type ViewSource = "text" | Encoding | "unicode-tags" | "variation-selectors" | "despaced";

/** One text that detectors scan, with a map back to the original string. */
export interface ScanView {
  readonly source: ViewSource;
  readonly text: string;
  /** Maps a [start, end) range of `text` to original offsets (whole segment for decoded views). */
  toOriginal(start: number, end: number): readonly [start: number, end: number];
}

export interface ScanViewsOptions {
  /** Decode nested encodings up to this depth (default 2; 0 disables decoding). */
  readonly decodeDepth?: number;
  /** Upper bound on views per text (default 16). */
  readonly maxViews?: number;
}

/** The normalised text plus decoded payloads; `views[0]` is always the normalised text. */
export interface ScanViews {
  readonly normalized: NormalizedText;
  readonly views: readonly ScanView[];
}

// "i g n o r e  a l l": six or more single letters separated by single spaces (or dots, dashes).
const spacedLetters = /(?<![\p{L}\p{N}])\p{L}(?:[ .\-_]\p{L}){5,}(?![\p{L}\p{N}])/gu;

/** Letter-by-letter spaced runs with the separators removed ("S a y" -> "Say"), for rescanning. */
export function despace(text: string): { text: string; start: number; end: number } | undefined {
  let out = "";
  let cursor = 0;
  let first = -1;
  let last = -1;
  for (const m of text.matchAll(spacedLetters)) {
    if (first < 0) first = m.index;
    last = m.index + m[0].length;
    out += `${text.slice(cursor, m.index)}${m[0].replace(/[ .\-_]/g, "")}`;
    cursor = last;
  }
  if (first < 0) return undefined;
  return { text: out + text.slice(cursor), start: first, end: last };
}

/** Builds every view detectors must scan for one original text. */
export function createScanViews(original: string, options: ScanViewsOptions = {}): ScanViews {
  const depth = options.decodeDepth ?? 2;
  const maxViews = options.maxViews ?? 16;
  const normalized = normalizeText(original);
  const views: ScanView[] = [{ source: "text", text: normalized.text, toOriginal: normalized.toOriginal }];
  const addDecoded = (text: string, range: readonly [number, number], level: number): void => {
    if (level > depth) return;
    for (const segment of findEncodedSegments(text)) {
      if (views.length >= maxViews) return;
      const inner = normalizeText(segment.text);
      const whole: readonly [number, number] = level === 1 ? normalized.toOriginal(segment.start, segment.end) : range;
      views.push({ source: segment.encoding, text: inner.text, toOriginal: () => whole });
      addDecoded(inner.text, whole, level + 1);
    }
  };
  for (const hidden of normalized.smuggled) {
    if (views.length >= maxViews) break;
    const inner = normalizeText(hidden.text);
    const whole = [hidden.start, hidden.end] as const;
    views.push({ source: hidden.kind, text: inner.text, toOriginal: () => whole });
    if (depth > 0) addDecoded(inner.text, whole, 2);
  }
  if (depth > 0) addDecoded(normalized.text, [0, original.length], 1);
  const joined = views.length < maxViews ? despace(normalized.text) : undefined;
  if (joined) {
    const whole = normalized.toOriginal(joined.start, joined.end);
    views.push({ source: "despaced", text: joined.text, toOriginal: () => whole });
  }
  return { normalized, views };
}
