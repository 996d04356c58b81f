/**
 * Look-alike letters folded to their Latin twin before detection (a subset of
 * Unicode's confusables.txt: the Cyrillic, Greek and IPA letters that render
 * like ASCII in common fonts). Fullwidth and mathematical letters are already
 * folded by NFKC, so they are not listed here.
 */
const pairs: readonly (readonly [string, string])[] = [
  // Cyrillic lower case
  ["а", "a"],
  ["е", "e"],
  ["о", "o"],
  ["р", "p"],
  ["с", "c"],
  ["у", "y"],
  ["х", "x"],
  ["і", "i"],
  ["ј", "j"],
  ["ѕ", "s"],
  ["ԁ", "d"],
  ["ԛ", "q"],
  ["ԝ", "w"],
  ["һ", "h"],
  ["ӏ", "l"],
  ["ɡ", "g"],
  // Cyrillic upper case
  ["А", "A"],
  ["В", "B"],
  ["Е", "E"],
  ["К", "K"],
  ["М", "M"],
  ["Н", "H"],
  ["О", "O"],
  ["Р", "P"],
  ["С", "C"],
  ["Т", "T"],
  ["Х", "X"],
  ["І", "I"],
  ["Ј", "J"],
  ["Ѕ", "S"],
  ["У", "Y"],
  // Greek
  ["α", "a"],
  ["ο", "o"],
  ["ρ", "p"],
  ["ι", "i"],
  ["κ", "k"],
  ["ν", "v"],
  ["υ", "u"],
  ["χ", "x"],
  ["ε", "e"],
  ["Α", "A"],
  ["Β", "B"],
  ["Ε", "E"],
  ["Ζ", "Z"],
  ["Η", "H"],
  ["Ι", "I"],
  ["Κ", "K"],
  ["Μ", "M"],
  ["Ν", "N"],
  ["Ο", "O"],
  ["Ρ", "P"],
  ["Τ", "T"],
  ["Υ", "Y"],
  ["Χ", "X"],
  // IPA and Latin extensions
  ["ɑ", "a"],
  ["ı", "i"],
  ["ɩ", "i"],
  ["ʏ", "y"],
  ["ᴠ", "v"],
  ["ᴡ", "w"],
];

/** Code point -> ASCII replacement. */
export const homoglyphs: ReadonlyMap<number, string> = new Map(
  pairs.map(([from, to]) => [from.codePointAt(0) as number, to]),
);
