/**
 * A Prometheus text-format (0.0.4) parser that only parses the families asked for.
 * A real vLLM `/metrics` page is tens of KB, mostly histograms the picker never reads:
 * lines of other families are skipped after a prefix check, without tokenising.
 */

/** One sample: its labels and value. */
export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type ParseResult = { readonly value: Map<string, PromSample[]> } | { readonly error: string };

/**
 * Samples of `families` in `text`. Comment and blank lines are skipped; a malformed
 * line of a wanted family is an error (the page is garbage), other lines are ignored.
 */
export function parsePromText(text: string, families: ReadonlySet<string>): ParseResult {
  const out = new Map<string, PromSample[]>();
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = n;
    const first = text.charCodeAt(start);
    // Skip '#', blank lines and anything whose name is not wanted.
    if (first !== 35 && end > start) {
      const nameEnd = scanName(text, start, end);
      const name = text.slice(start, nameEnd);
      if (families.has(name)) {
        const sample = parseSample(text, nameEnd, end);
        if ("error" in sample)
          return { error: `line "${text.slice(start, Math.min(end, start + 120))}": ${sample.error}` };
        let list = out.get(name);
        if (!list) {
          list = [];
          out.set(name, list);
        }
        list.push(sample.value);
      }
    }
    start = end + 1;
  }
  return { value: out };
}

function scanName(text: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || c === 32 || c === 9) break;
    i++;
  }
  return i;
}

function parseSample(text: string, from: number, end: number): { value: PromSample } | { error: string } {
  const labels: Record<string, string> = {};
  let i = from;
  if (text.charCodeAt(i) === 123) {
    i++;
    for (;;) {
      while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 44)) i++;
      if (i >= end) return { error: "unterminated label set" };
      if (text.charCodeAt(i) === 125) {
        i++;
        break;
      }
      const eq = text.indexOf("=", i);
      if (eq === -1 || eq >= end) return { error: "label without value" };
      const key = text.slice(i, eq).trim();
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key)) return { error: `invalid label name "${key}"` };
      if (text.charCodeAt(eq + 1) !== 34) return { error: "label value not quoted" };
      let j = eq + 2;
      let value = "";
      for (;;) {
        if (j >= end) return { error: "unterminated label value" };
        const c = text[j];
        if (c === "\\") {
          const next = text[j + 1];
          value += next === "n" ? "\n" : (next ?? "");
          j += 2;
        } else if (c === '"') {
          j++;
          break;
        } else {
          value += c;
          j++;
        }
      }
      labels[key] = value;
      i = j;
    }
  }
  const rest = text.slice(i, end).trim().split(/\s+/);
  const raw = rest[0];
  if (raw === undefined || raw === "") return { error: "missing value" };
  const value = parseValue(raw);
  if (value === undefined) return { error: `invalid value "${raw}"` };
  return { value: { labels, value } };
}

/** Go's strconv.ParseFloat forms Prometheus emits: decimals, exponents, NaN, +Inf, -Inf. */
export function parseValue(raw: string): number | undefined {
  if (raw === "NaN") return Number.NaN;
  if (raw === "+Inf" || raw === "Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}
