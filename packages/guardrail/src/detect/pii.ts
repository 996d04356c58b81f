import { isIPv6 } from "node:net";
import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import { hasKnownIin, isLuhnValid, isValidIban, isValidSsn } from "./checksums.js";
import { type Confidence, dropOverlaps, type Finding, type TextDetector } from "./finding.js";

/** Info types reported by the structured-PII detector (Presidio names). */
export type PiiType = "EMAIL_ADDRESS" | "PHONE_NUMBER" | "CREDIT_CARD" | "IBAN_CODE" | "US_SSN" | "IP_ADDRESS";

const email =
  /(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;
const cardContiguous = /(?<![\d+\-.])\d{12,19}(?![\d])/g;
const cardGrouped = /(?<![\d+\-.])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\d])/g;
const iban = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])/g;
const ssn = /(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])/g;
const ssnContext = /\b(?:ssn|social security|sozialversicherung|taxpayer)\b/i;
const ipv4 = /(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?!\.?\d)/g;
const ipv6Candidate =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)/g;
const phone =
  /(?<![\w+\-./])(?:\+\d{1,3}[ .-]?|00\d{1,3}[ .-])?(?:\(0\) ?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,8}){0,6}(?: ?(?:x|ext\.?|#) ?\d{1,5})?(?!\w|-\d|[.,:/]\d)/g;
const maxPhoneParses = 64;
const dateLike = /^\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$/;
const notPhoneContext =
  /\b(?:licen[cs]e|passport|zip|postal|post ?code|iban|account|isbn|order|invoice|serial|id|ssn|social security|card)\b[^\n\d]{0,20}$/i;
// Sticky: tested at an offset, without slicing the rest of the text per candidate.
const streetContinuation = /[ \t]+\p{L}/uy;
const phoneContext = /\b(?:phone|tel|mobile|cell|fax|call|desk|office|whatsapp|sms|text me|number|contact)\b/i;

function push(out: Finding[], type: PiiType, start: number, end: number, confidence: Confidence): void {
  out.push({ type, start, end, confidence });
}

/** E-mail addresses (RFC 5321 dot-atom local parts, DNS host names). */
export function detectEmails(text: string, out: Finding[] = []): Finding[] {
  if (!text.includes("@")) return out;
  for (const m of text.matchAll(email)) push(out, "EMAIL_ADDRESS", m.index, m.index + m[0].length, "HIGH");
  return out;
}

/** Payment card numbers: Luhn-valid, 12-19 digits; HIGH when the IIN is a known scheme. */
export function detectCards(text: string, out: Finding[] = []): Finding[] {
  for (const pattern of [cardContiguous, cardGrouped]) {
    for (const m of text.matchAll(pattern)) {
      const digits = m[0].replace(/[ -]/g, "");
      if (digits.length < 12 || digits.length > 19 || !isLuhnValid(digits) || /^(\d)\1+$/.test(digits)) continue;
      const known = hasKnownIin(digits);
      if (digits.length < 13 && !known) continue;
      push(out, "CREDIT_CARD", m.index, m.index + m[0].length, known ? "HIGH" : "MEDIUM");
    }
  }
  return out;
}

/** IBANs: registered country, its exact length, and mod-97. */
export function detectIbans(text: string, out: Finding[] = []): Finding[] {
  for (const m of text.matchAll(iban)) {
    let candidate = m[0];
    // Trim trailing groups until the country length and checksum fit (spaced IBANs run into words).
    while (candidate.length >= 15) {
      if (isValidIban(candidate.replaceAll(" ", ""))) {
        push(out, "IBAN_CODE", m.index, m.index + candidate.length, "HIGH");
        break;
      }
      const cut = candidate.lastIndexOf(" ");
      if (cut < 0) break;
      candidate = candidate.slice(0, cut);
    }
  }
  return out;
}

/** US social security numbers with a valid area/group/serial; context raises confidence. */
export function detectSsns(text: string, out: Finding[] = []): Finding[] {
  for (const m of text.matchAll(ssn)) {
    const [whole, area = "", sep = "", group = "", serial = ""] = m;
    if (!isValidSsn(area, group, serial)) continue;
    const context = ssnContext.test(text.slice(Math.max(0, m.index - 60), m.index));
    const confidence: Confidence = context ? "HIGH" : sep === "-" ? "MEDIUM" : "LOW";
    push(out, "US_SSN", m.index, m.index + whole.length, confidence);
  }
  return out;
}

/** IPv4 (dotted quad) and IPv6 (validated by node:net) addresses. */
export function detectIps(text: string, out: Finding[] = []): Finding[] {
  if (text.includes(":")) {
    for (const m of text.matchAll(ipv6Candidate)) {
      if (m[0].length >= 3 && isIPv6(m[0])) push(out, "IP_ADDRESS", m.index, m.index + m[0].length, "HIGH");
    }
  }
  for (const m of text.matchAll(ipv4)) {
    const end = m.index + m[0].length;
    if (!out.some((f) => f.type === "IP_ADDRESS" && m.index < f.end && end > f.start)) {
      push(out, "IP_ADDRESS", m.index, end, "HIGH");
    }
  }
  return out;
}

/**
 * Phone numbers in international and national formats: 7-15 digits in groups.
 * libphonenumber-js validity gives HIGH; a nearby phone word or typical grouping MEDIUM.
 */
export function detectPhones(text: string, out: Finding[] = []): Finding[] {
  // libphonenumber parsing costs ~50 us: validate only the first candidates of a text so a
  // wall of digit groups cannot make a scan slow (later ones are rated by shape and context).
  let parses = 0;
  for (const m of text.matchAll(phone)) {
    const value = m[0];
    const main = value.replace(/ ?(?:x|ext\.?|#) ?\d{1,5}$/, "");
    const digits = main.replace(/\D/g, "");
    if (digits.length < 7 || digits.length > 15 || dateLike.test(main)) continue;
    const grouped = /[ .()-]/.test(main) || main.startsWith("+");
    if (!grouped && digits.length > 12) continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    if (notPhoneContext.test(before)) continue;
    const context = phoneContext.test(before);
    // "224 4966 Bond Street": two bare groups followed by words are a house number, not a phone.
    const groups = main.split(/[ .-]/).length;
    streetContinuation.lastIndex = m.index + value.length;
    if (!context && groups <= 2 && !/[+()]/.test(main) && streetContinuation.test(text)) continue;
    const parsed =
      parses++ >= maxPhoneParses
        ? undefined
        : main.startsWith("+") || main.startsWith("00")
          ? parsePhoneNumberFromString(main.replace(/^00/, "+").replace("(0)", ""))
          : parsePhoneNumberFromString(main, "US");
    const confidence: Confidence = parsed?.isValid() ? "HIGH" : context || (grouped && groups > 2) ? "MEDIUM" : "LOW";
    push(out, "PHONE_NUMBER", m.index, m.index + value.length, confidence);
  }
  return out;
}

/** All structured PII detectors; overlapping matches resolve by confidence, then card > IBAN > SSN > IP > e-mail > phone. */
export function createPiiDetector(types?: readonly PiiType[]): TextDetector {
  const enabled = new Set<PiiType>(
    types ?? ["CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER"],
  );
  return {
    name: "pii",
    detect(text) {
      const out: Finding[] = [];
      if (enabled.has("CREDIT_CARD")) detectCards(text, out);
      if (enabled.has("IBAN_CODE")) detectIbans(text, out);
      if (enabled.has("US_SSN")) detectSsns(text, out);
      if (enabled.has("IP_ADDRESS")) detectIps(text, out);
      if (enabled.has("EMAIL_ADDRESS")) detectEmails(text, out);
      if (enabled.has("PHONE_NUMBER")) detectPhones(text, out);
      return dropOverlaps(out);
    },
  };
}
