import { type Confidence, dropOverlaps, type Finding, type TextDetector } from "./finding.js";

/** Secret info types. */
export type SecretType =
  | "AWS_ACCESS_KEY_ID"
  | "GCP_API_KEY"
  | "GITHUB_TOKEN"
  | "SLACK_TOKEN"
  | "STRIPE_SECRET_KEY"
  | "OPENAI_API_KEY"
  | "ANTHROPIC_API_KEY"
  | "JWT"
  | "PRIVATE_KEY"
  | "PASSWORD"
  | "AUTH_TOKEN";

interface TokenRule {
  readonly type: SecretType;
  readonly pattern: RegExp;
  /** Cheap substring that must be present before the regex runs. */
  readonly hint: string;
}

// Prefix formats published by each vendor (token scanning partner programs, detect-secrets plugins).
const tokenRules: readonly TokenRule[] = [
  {
    type: "AWS_ACCESS_KEY_ID",
    hint: "A",
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b/g,
  },
  { type: "GCP_API_KEY", hint: "AIza", pattern: /\bAIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  {
    type: "GITHUB_TOKEN",
    hint: "g",
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/g,
  },
  { type: "SLACK_TOKEN", hint: "xox", pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,250}/g },
  {
    type: "SLACK_TOKEN",
    hint: "hooks.slack.com",
    pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,}/g,
  },
  { type: "STRIPE_SECRET_KEY", hint: "_", pattern: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}\b/g },
  { type: "ANTHROPIC_API_KEY", hint: "sk-ant-", pattern: /\bsk-ant-[a-z]{3,6}\d{2}-[A-Za-z0-9_-]{20,}/g },
  { type: "OPENAI_API_KEY", hint: "sk-", pattern: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}/g },
  { type: "JWT", hint: "eyJ", pattern: /\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}/g },
];

const assignment =
  /(?<![A-Za-z])(pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|credentials?|private[_-]?key)["']?\s{0,3}(?:[:=]|=>|\bis\b)\s{0,3}["'`]?([^\s"'`,;]{6,200})/gi;
const bearer = /\b(?:Bearer|Basic|Token)\s+([A-Za-z0-9._~+/-]{16,}=*)/g;
const urlCredentials = /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:@/]{1,64}:([^\s@/]{3,128})@/gi;
const placeholder =
  /^(?:x+|\*+|\.+|<[^>]*>|\$\{?[\w.]+\}?|%\w+%|\{\{.*\}\}|changeme|password|secret|example|redacted|null|none|undefined|true|false|your[_-].*|\[[A-Z_]+_\d+\])$/i;

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function credentialConfidence(value: string): Confidence {
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(value)).length;
  if (shannonEntropy(value) >= 3.5 && classes >= 3) return "HIGH";
  if (classes >= 2 || value.length >= 12) return "MEDIUM";
  return "LOW";
}

/** Finds private key blocks by index (no regex over the body: linear and streaming-safe). */
function detectPrivateKeys(text: string, out: Finding[]): void {
  let from = 0;
  for (;;) {
    const begin = text.indexOf("-----BEGIN ", from);
    if (begin < 0) return;
    const headerEnd = text.indexOf("-----", begin + 11);
    const header = headerEnd < 0 ? "" : text.slice(begin, headerEnd);
    if (headerEnd < 0 || !header.includes("PRIVATE KEY") || header.length > 60) {
      from = begin + 11;
      continue;
    }
    const endMarker = text.indexOf("-----END ", headerEnd + 5);
    const close = endMarker < 0 ? -1 : text.indexOf("-----", endMarker + 9);
    const end = close < 0 ? text.length : close + 5;
    out.push({ type: "PRIVATE_KEY", start: begin, end, confidence: "HIGH" });
    from = end;
  }
}

/**
 * Secrets: vendor token formats, JWTs, PEM private keys, bearer tokens, URL
 * credentials and `password=...`-style assignments (the value span only).
 */
export function createSecretsDetector(): TextDetector {
  return {
    name: "secrets",
    detect(text) {
      const out: Finding[] = [];
      for (const rule of tokenRules) {
        if (!text.includes(rule.hint)) continue;
        for (const m of text.matchAll(rule.pattern)) {
          out.push({ type: rule.type, start: m.index, end: m.index + m[0].length, confidence: "HIGH" });
        }
      }
      if (text.includes("PRIVATE KEY")) detectPrivateKeys(text, out);
      const captured = (m: RegExpExecArray | RegExpMatchArray, type: SecretType, confidence?: Confidence): void => {
        const value = m[m.length - 1] as string;
        if (placeholder.test(value)) return;
        const start = (m.index as number) + m[0].lastIndexOf(value);
        out.push({ type, start, end: start + value.length, confidence: confidence ?? credentialConfidence(value) });
      };
      for (const m of text.matchAll(assignment)) captured(m, "PASSWORD");
      for (const m of text.matchAll(bearer)) captured(m, "AUTH_TOKEN", "HIGH");
      if (text.includes("://")) for (const m of text.matchAll(urlCredentials)) captured(m, "PASSWORD", "HIGH");
      return dropOverlaps(out);
    },
  };
}
