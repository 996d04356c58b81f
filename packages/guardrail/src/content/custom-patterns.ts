import { RE2 } from "re2-wasm";
import type { Confidence, Finding, TextDetector } from "../detect/finding.js";

/** An operator-supplied pattern (RE2 syntax: no backreferences or lookaround). */
export interface CustomPattern {
  readonly name: string;
  readonly pattern: string;
  /** Finding type (default `CUSTOM_<NAME>`). */
  readonly type?: string;
  readonly confidence?: Confidence;
  readonly caseInsensitive?: boolean;
}

export type CompileResult = { readonly detector: TextDetector } | { readonly errors: readonly string[] };

// RE2 offsets are code points; JS strings index UTF-16 code units.
function codePointToUtf16(text: string): (cp: number) => number {
  if (!/[\ud800-\udfff]/.test(text)) return (cp) => cp;
  const offsets: number[] = [];
  let unit = 0;
  for (const c of text) {
    offsets.push(unit);
    unit += c.length;
  }
  offsets.push(unit);
  return (cp) => offsets[cp] ?? unit;
}

/**
 * Compiles operator patterns with RE2 (re2-wasm): matching time is linear in the
 * input for every pattern, so no configuration can cause catastrophic
 * backtracking. Invalid or non-RE2 patterns are rejected at config load with
 * their index and the engine's message.
 */
export function compileCustomPatterns(patterns: readonly CustomPattern[]): CompileResult {
  const errors: string[] = [];
  const compiled: { re: RE2; type: string; confidence: Confidence }[] = [];
  patterns.forEach((p, i) => {
    try {
      const re = new RE2(p.pattern, p.caseInsensitive ? "giu" : "gu");
      compiled.push({
        re,
        type: p.type ?? `CUSTOM_${p.name.toUpperCase().replace(/\W+/g, "_")}`,
        confidence: p.confidence ?? "HIGH",
      });
    } catch (error) {
      errors.push(`customPatterns[${i}] (${p.name}): ${(error as Error).message}`);
    }
  });
  if (errors.length > 0) return { errors };
  return {
    detector: {
      name: "custom-patterns",
      detect(text) {
        const out: Finding[] = [];
        if (compiled.length === 0) return out;
        const toUnits = codePointToUtf16(text);
        for (const c of compiled) {
          c.re.lastIndex = 0;
          for (let m = c.re.exec(text); m !== null; m = c.re.exec(text)) {
            const start = toUnits(m.index);
            const end = toUnits(m.index + [...(m[0] ?? "")].length);
            if (end > start) out.push({ type: c.type, start, end, confidence: c.confidence });
            else c.re.lastIndex++;
          }
        }
        return out;
      },
    },
  };
}
