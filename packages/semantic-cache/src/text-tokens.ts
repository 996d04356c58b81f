/**
 * Lower-cased word and number tokens of `text` (NFKC). English clitics are split
 * off as the word vectors expect: "what's" -> "what", "'s"; "doesn't" -> "does", "n't".
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const token of text.normalize("NFKC").toLowerCase().replace(/’/g, "'").match(TOKEN) ?? []) {
    const clitic = CLITIC.exec(token);
    if (clitic?.[1] && clitic[2]) tokens.push(clitic[1], clitic[2]);
    else tokens.push(token);
  }
  return tokens;
}

// Letters (with inner apostrophes and a trailing + or #, so "c++" and "c#" differ from "c"), or numbers.
const TOKEN = /[\p{L}\p{M}]+(?:'[\p{L}]+)*[+#]*|\p{N}+(?:[.,]\p{N}+)*/gu;
const CLITIC = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/u;
