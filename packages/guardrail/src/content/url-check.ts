import { domainToUnicode } from "node:url";
import type { Confidence, Finding, TextDetector } from "../detect/finding.js";

/** URL checks, all offline. */
export interface UrlCheckOptions {
  /** Host names (and their subdomains) that are always malicious. */
  readonly blocklist?: readonly string[];
  /** Host names (and subdomains) never reported. */
  readonly allowlist?: readonly string[];
  /** Report hosts given as IP literals (default true). */
  readonly flagIpLiterals?: boolean;
  /** Report punycode / mixed-script host names (default true). */
  readonly flagPunycode?: boolean;
  /** URLs inspected per text (Model Armor scans the first 256). */
  readonly maxUrls?: number;
}

const candidate =
  /\b(?:(?:https?|ftp|wss?):\/\/[^\s<>"'`]+|www\.[^\s<>"'`]+|(?:javascript|vbscript|data):[^\s<>"'`]+)/gi;
const trailing = /[).,;:!?\]}]+$/;

function hostMatches(host: string, list: ReadonlySet<string>): boolean {
  const labels = host.split(".");
  for (let i = 0; i < labels.length - 1; i++) if (list.has(labels.slice(i).join("."))) return true;
  return list.has(host);
}

function isMixedScript(unicodeHost: string): boolean {
  const scripts = new Set<string>();
  for (const label of unicodeHost.split(".")) {
    for (const c of label) {
      if (/\p{Script=Latin}/u.test(c)) scripts.add("Latin");
      else if (/\p{Script=Cyrillic}/u.test(c)) scripts.add("Cyrillic");
      else if (/\p{Script=Greek}/u.test(c)) scripts.add("Greek");
    }
  }
  return scripts.size > 1 || scripts.has("Cyrillic") || scripts.has("Greek");
}

/** Classifies one URL string; undefined when it looks benign. */
export function classifyUrl(
  raw: string,
  options: UrlCheckOptions = {},
): { type: string; confidence: Confidence } | undefined {
  const scheme = raw.slice(0, raw.indexOf(":")).toLowerCase();
  if (scheme === "javascript" || scheme === "vbscript") return { type: "URL_SCRIPT_SCHEME", confidence: "HIGH" };
  if (scheme === "data") {
    return /^data:(?:text\/html|application\/(?:x-)?javascript|image\/svg)/i.test(raw)
      ? { type: "URL_DATA_SCHEME", confidence: "HIGH" }
      : { type: "URL_DATA_SCHEME", confidence: "LOW" };
  }
  let url: URL;
  try {
    url = new URL(raw.startsWith("www.") ? `http://${raw}` : raw);
  } catch {
    return undefined;
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const blocklist = new Set((options.blocklist ?? []).map((h) => h.toLowerCase()));
  const allowlist = new Set((options.allowlist ?? []).map((h) => h.toLowerCase()));
  if (hostMatches(host, allowlist)) return undefined;
  if (hostMatches(host, blocklist)) return { type: "URL_BLOCKLISTED", confidence: "HIGH" };
  if (url.username !== "" && /\./.test(decodeURIComponent(url.username)))
    return { type: "URL_USERINFO_DECEPTION", confidence: "MEDIUM" };
  const ipLiteral = /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
  if (ipLiteral && options.flagIpLiterals !== false) return { type: "URL_IP_LITERAL", confidence: "MEDIUM" };
  if (options.flagPunycode !== false && host.split(".").some((l) => l.startsWith("xn--"))) {
    return { type: "URL_PUNYCODE", confidence: isMixedScript(domainToUnicode(host)) ? "HIGH" : "LOW" };
  }
  return undefined;
}

/** Malicious or suspicious URLs: script/data schemes, blocklisted hosts, IP literals, punycode look-alikes, userinfo tricks. */
export function createUrlDetector(options: UrlCheckOptions = {}): TextDetector {
  const maxUrls = options.maxUrls ?? 256;
  return {
    name: "malicious-urls",
    detect(text) {
      if (!/[:.]/.test(text)) return [];
      const out: Finding[] = [];
      let seen = 0;
      for (const m of text.matchAll(candidate)) {
        if (++seen > maxUrls) break;
        const raw = m[0].replace(trailing, "");
        const verdict = classifyUrl(raw, options);
        if (verdict)
          out.push({ type: verdict.type, start: m.index, end: m.index + raw.length, confidence: verdict.confidence });
      }
      return out;
    },
  };
}
