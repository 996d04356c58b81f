import type { Finding, TextDetector } from "./finding.js";

// Street types in the languages of common address formats (USPS suffixes and European equivalents).
const suffixes =
  "street|st|avenue|ave|av|road|rd|drive|dr|lane|ln|boulevard|blvd|way|close|court|ct|place|pl|square|sq|terrace|crescent|parkway|pkwy|highway|hwy|alley|circle|cir|trail|row|walk|grove|gardens|mews|hill|park|loop|crossroad|crossing|path|pike|plaza|ridge|view|rise|green|quay|wharf|esplanade|promenade|ul|utca|u";
const prefixes =
  "rua|via|viale|vicolo|piazza|piazzetta|corso|largo|calle|avenida|av|avda|paseo|plaza|carrer|rue|boulevard|bd|allée|chemin|impasse|ul|ulica|aleja|al|strada|calea|odos|leoforos|rruga";
const compounds =
  "stra(?:ss|ß)e|str|gasse|weg|allee|platz|ring|damm|gade|vej|veien|vegen|gata|gatan|vägen|väg|katu|tie|polku|laan|straat|plein|kade|gracht|utca|tér|út|útja|ulice|náměstí|cesta|gatvė|iela|tänav";
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
  /\b(?:PSC|Unit|USNS|USNV|USS|USCGC) \d{4}(?:, Box \d{4})?\s+[AF]PO A[AEP] \d{5}\b/g,
];

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
          const end = start + m[0].replace(/[\s,.]+$/, "").length;
          if (!out.some((f) => start < f.end && end > f.start)) {
            out.push({ type: "STREET_ADDRESS", start, end, confidence: "MEDIUM" });
          }
        }
      }
      return out;
    },
  };
}
