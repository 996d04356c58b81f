/**
 * A Prometheus text-format (0.0.4) parser that only parses the families asked for.
 * A real vLLM `/metrics` page is tens of KB, mostly histograms the picker never reads:
 * those lines are never tokenised.
 */

/** One sample: its labels and value. */
export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type ParseResult = { readonly value: Map<string, PromSample[]> } | { readonly error: string };

const finders = new WeakMap<ReadonlySet<string>, RegExp>();

/** One multiline regex finding every sample line of the wanted families (`name{` or `name `). */
function finderFor(families: ReadonlySet<string>): RegExp {
  let re = finders.get(families);
  if (!re) {
    const names = [...families].map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    re = new RegExp(`^(?:${names.join("|")})(?=[{ \\t])`, "gm");
    finders.set(families, re);
  }
  return re;
}

/**
 * Samples of `families` in `text`. Comment and blank lines are skipped; a malformed
 * line of a wanted family is an error (the page is garbage), other lines are ignored.
 * One regex pass finds the wanted sample lines (~6 µs for a 42 KB vLLM page), so the
 * histogram lines that make up most of a page are never tokenised.
 */
export function parsePromText(text: string, families: ReadonlySet<string>): ParseResult {
  const out = new Map<string, PromSample[]>();
  if (families.size === 0) return { value: out };
  const re = finderFor(families);
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const name = m[0];
    const at = m.index;
    let end = text.indexOf("\n", at);
    if (end === -1) end = text.length;
    const sample = parseSample(text, at + name.length, end);
    if ("error" in sample) return { error: `line "${text.slice(at, Math.min(end, at + 120))}": ${sample.error}` };
    let list = out.get(name);
    if (!list) {
      list = [];
      out.set(name, list);
    }
    list.push(sample.value);
    re.lastIndex = end;
  }
  return { value: out };
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
