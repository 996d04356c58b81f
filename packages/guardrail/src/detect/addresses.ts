import type { Finding, TextDetector } from "./finding.js";

// Street types in the languages of common address formats (USPS suffixes and European equivalents).
const suffixes =
  "street|st|avenue|ave|av|road|rd|drive|dr|lane|ln|boulevard|blvd|way|close|court|ct|place|pl|square|sq|terrace|crescent|parkway|pkwy|highway|hwy|alley|circle|cir|trail|row|walk|grove|gardens|mews|hill|park|loop|crossroad|crossing|path|pike|plaza|ridge|view|rise|green|quay|wharf|esplanade|promenade|ul|utca|u";
const prefixes =
  "rua|via|viale|vicolo|piazza|piazzetta|corso|largo|calle|avenida|av|avda|paseo|plaza|carrer|rue|boulevard|bd|allée|chemin|impasse|ul|ulica|aleja|al|strada|calea|odos|leoforos|rruga";
const compounds =
  "stra(?:ss|ß)e|str|gasse|weg|allee|platz|ring|damm|gade|vej|vænget|veien|vegen|gata|gatan|vägen|väg|stræti|vegur|katu|tie|polku|laan|straat|plein|kade|gracht|utca|tér|út|útja|ulice|náměstí|cesta|gatvė|iela|tänav";
const word = String.raw`[\p{Lu}\p{Ll}][\p{L}\p{M}'’.-]*`;
const num = String.raw`\d{1,6}[A-Za-z]?`;
const unit = String.raw`(?:[ ,]*\n?[ >]*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room)\.?\s*#?\d{1,5}[A-Za-z]?)*`;
const patterns = [
  // Loorenstrasse 149 / Søndergade 52 / Tawastintie 72
  new RegExp(String.raw`(?<![\w])(?:${num} )?[\p{L}\p{M}-]*(?:${compounds}) ${num}\b${unit}`, "giu"),
  // Rua do Arenque 1634 / Via Tasso 129 / ul. Północna 73
  new RegExp(String.raw`(?<![\w])(?:${num} )?(?:${prefixes})\.? (?:${word} ){0,4}${word},? ${num}\b${unit}`, "giu"),
  // 123 Main Street / 5521 119 Countess Close
  new RegExp(String.raw`(?<![\w])(?:${num} )?${num},? (?:${word} ){0,4}(?:${suffixes})\b\.?${unit}`, "giu"),
  // US military mail: PSC 0413, Box 8144 APO AA 42323
  /\b(?:PSC|Unit|USNS|USNV|USS|USCGC) \d{4},? Box \d{4}\s+[ADF]PO A[AEP] \d{5}\b|\b(?:USNS|USNV|USS|USCGC) [A-Z][a-z]+\s+FPO A[AEP] \d{5}\b/gi,
];

// Lines that continue a postal address block: units, city, "Country 12345", ", NI", "61089".
const continuation =
  /^[ \t>]*(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat)\.? ?#?\d{1,5}[A-Za-z]?|,? ?[\p{Lu}\p{Ll}][\p{L}\p{M}'’ .()-]{1,40}?(?:,? [A-Z]{2,3})?(?: \d{4,6})?|,? ?[A-Z]{2,3}|\d{4,6}(?:-\d{3,4})?)[ \t]*$/u;

/** Extends an address over the following short lines of its block (one blank line allowed). */
function extendBlock(text: string, end: number): number {
  let cursor = end;
  let blank = 0;
  for (let lines = 0; lines < 6 && text[cursor] === "\n"; lines++) {
    const next = text.indexOf("\n", cursor + 1);
    const lineEnd = next < 0 ? text.length : next;
    const line = text.slice(cursor + 1, lineEnd);
    if (line.trim() === "") {
      if (++blank > 1) break;
      cursor = lineEnd;
      continue;
    }
    if (!continuation.test(line) || /:/.test(line)) break;
    end = lineEnd - (line.length - line.trimEnd().length);
    cursor = lineEnd;
  }
  return end;
}

/** Street addresses: house number + street name + street type, street-type prefixes and compounds, apartment units. */
export function createAddressDetector(): TextDetector {
  return {
    name: "street-addresses",
    detect(text) {
      if (!/\d/.test(text)) return [];
      const out: Finding[] = [];
      for (const pattern of patterns) {
        for (const m of text.matchAll(pattern)) {
          const start = m.index;
          const end = extendBlock(text, start + m[0].replace(/[\s,.]+$/, "").length);
          if (!out.some((f) => start < f.end && end > f.start)) {
            out.push({ type: "STREET_ADDRESS", start, end, confidence: "MEDIUM" });
          }
        }
      }
      return out;
    },
  };
}
