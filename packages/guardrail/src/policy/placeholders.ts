/** A [start, end) range of one text to redact, with its info type. */
export interface Redaction {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

// Short placeholder labels (`[EMAIL_1]`); unknown types use their own name.
const labels: Readonly<Record<string, string>> = {
  EMAIL_ADDRESS: "EMAIL",
  PHONE_NUMBER: "PHONE",
  CREDIT_CARD: "CARD",
  IBAN_CODE: "IBAN",
  US_SSN: "SSN",
  IP_ADDRESS: "IP",
  STREET_ADDRESS: "ADDRESS",
};

/** Issues typed placeholders; the same value gets the same placeholder for the registry's lifetime (one request). */
export interface PlaceholderRegistry {
  placeholder(type: string, value: string): string;
  /** Distinct values redacted so far. */
  readonly size: number;
}

export function createPlaceholderRegistry(): PlaceholderRegistry {
  const byValue = new Map<string, string>();
  const counters = new Map<string, number>();
  return {
    placeholder(type, value) {
      const label = labels[type] ?? type;
      const key = `${label}\u0000${value}`;
      const existing = byValue.get(key);
      if (existing) return existing;
      const n = (counters.get(label) ?? 0) + 1;
      counters.set(label, n);
      const made = `[${label}_${n}]`;
      byValue.set(key, made);
      return made;
    },
    get size() {
      return byValue.size;
    },
  };
}

/**
 * Replaces each range with a placeholder or a mask of equal length. Overlapping
 * ranges are merged (the earlier type names the merged range).
 */
export function redactText(
  text: string,
  redactions: readonly Redaction[],
  mode: "placeholder" | "mask",
  registry: PlaceholderRegistry,
): string {
  if (redactions.length === 0) return text;
  const sorted = [...redactions].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Redaction[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start < last.end) merged[merged.length - 1] = { ...last, end: Math.max(last.end, r.end) };
    else merged.push(r);
  }
  let out = "";
  let cursor = 0;
  for (const r of merged) {
    out += text.slice(cursor, r.start);
    const value = text.slice(r.start, r.end);
    out += mode === "mask" ? "*".repeat(value.length) : registry.placeholder(r.type, value);
    cursor = r.end;
  }
  return out + text.slice(cursor);
}
