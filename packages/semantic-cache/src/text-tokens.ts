/** Lower-cased word and number tokens of `text` (NFKC, apostrophes kept inside words). */
export function tokenize(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(TOKEN) ?? [];
}

// Letters (with inner apostrophes and a trailing + or #, so "c++" and "c#" differ from "c"), or numbers.
const TOKEN = /[\p{L}\p{M}]+(?:['’][\p{L}]+)*[+#]*|\p{N}+(?:[.,]\p{N}+)*/gu;
