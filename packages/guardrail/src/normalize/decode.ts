/** How a segment was encoded. */
export type Encoding = "base64" | "hex" | "url";

/** A decoded segment of a text; offsets are into the text that was searched. */
export interface DecodedSegment {
  readonly encoding: Encoding;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Bounds on decoding work per text (defence against decode bombs). */
export interface DecodeOptions {
  /** Maximum decoded segments returned (default 32). */
  readonly maxSegments?: number;
  /** Minimum decoded length in characters to keep a segment (default 8). */
  readonly minDecodedChars?: number;
}

const base64Run = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const hexRun = /(?:\\x[0-9a-fA-F]{2}){6,}|\b(?:[0-9a-fA-F]{2}[ :]?){8,}\b/g;
const urlRun = /[^\s"'<>]*(?:%[0-9A-Fa-f]{2}[^\s"'<>%]*){3,}/g;

/** True when at least 90% of the characters are printable text (letters, punctuation, spaces). */
export function isMostlyPrintable(text: string): boolean {
  if (text.length === 0) return false;
  let printable = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    if ((cp >= 0x20 && cp < 0x7f) || cp === 0x0a || cp === 0x0d || cp === 0x09 || (cp >= 0xa0 && cp !== 0xfffd)) {
      printable++;
    }
  }
  return printable / text.length >= 0.9;
}

function decodeBase64(segment: string): string | undefined {
  // All-hex or all-letter runs are words or digests, not base64 worth decoding.
  if (
    /^[0-9a-fA-F]+$/.test(segment) ||
    !/[0-9+/=_-]/.test(segment) ||
    !/[a-z]/.test(segment) ||
    !/[A-Z]/.test(segment)
  ) {
    return undefined;
  }
  const text = Buffer.from(segment.replaceAll("-", "+").replaceAll("_", "/"), "base64").toString("utf8");
  return isMostlyPrintable(text) ? text : undefined;
}

function decodeHex(segment: string): string | undefined {
  const digits = segment.replace(/\\x|[ :]/g, "");
  if (digits.length % 2 !== 0) return undefined;
  const text = Buffer.from(digits, "hex").toString("utf8");
  return isMostlyPrintable(text) ? text : undefined;
}

function decodeUrl(segment: string): string | undefined {
  try {
    const text = decodeURIComponent(segment.replaceAll("+", " "));
    return text !== segment && isMostlyPrintable(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds base64, hex and URL-encoded segments that decode to readable text, so
 * detectors can rescan the payload (Model Armor does not decode; attackers encode).
 */
export function findEncodedSegments(text: string, options: DecodeOptions = {}): DecodedSegment[] {
  const maxSegments = options.maxSegments ?? 32;
  const minChars = options.minDecodedChars ?? 8;
  const found: DecodedSegment[] = [];
  const taken: [number, number][] = [];
  const overlaps = (start: number, end: number): boolean => taken.some(([s, e]) => start < e && end > s);
  const scan = (pattern: RegExp, encoding: Encoding, decode: (s: string) => string | undefined): void => {
    if (encoding === "url" ? !text.includes("%") : false) return;
    for (const match of text.matchAll(pattern)) {
      if (found.length >= maxSegments) return;
      const start = match.index;
      const end = start + match[0].length;
      if (overlaps(start, end)) continue;
      const decoded = decode(match[0]);
      if (decoded === undefined || decoded.trim().length < minChars) continue;
      taken.push([start, end]);
      found.push({ encoding, start, end, text: decoded });
    }
  };
  scan(hexRun, "hex", decodeHex);
  scan(urlRun, "url", decodeUrl);
  scan(base64Run, "base64", decodeBase64);
  return found.sort((a, b) => a.start - b.start);
}
