/**
 * Text normalization for prompt-injection scanning: undoes the tricks that defeat keyword lists.
 *
 * - NFKC (Unicode TR15): fullwidth `ｉｇｎｏｒｅ` → `ignore`, ligatures, circled and styled letters.
 * - Invisible characters removed: zero-width (U+200B–U+200D, U+2060, U+FEFF), soft hyphen, bidi controls
 *   (U+202A–U+202E, U+2066–U+2069), variation selectors; Unicode tag characters (U+E0020–U+E007E, "ASCII
 *   smuggling") are decoded to ASCII and reported as a separate hidden payload.
 * - Homoglyphs: Cyrillic and Greek letters that look Latin are folded to Latin inside words that mix scripts,
 *   and everywhere in a segment that is mostly Latin (a Russian or Greek text is left alone).
 * - Case folded, diacritics removed (`précédentes` → `precedentes`; composed again so kana and Hangul stay whole).
 * - Light leetspeak inside tokens mixing letters and digits (`1gn0r3` → `ignore`; `2024` stays).
 * - The *compact* view keeps letters and digits only, so `i g n o r e`, `i.g.n.o.r.e` and `ig-no-re` all read
 *   `ignore`; signal patterns are written against it.
 */

/** One normalized segment (a line or sentence). */
export interface NormalizedSegment {
  /** Lower-cased, folded text with separators kept (for context: quotes, meta words). */
  words: string;
  /** Letters and digits only, of `words`. */
  compact: string;
  /** Evidence of deliberate obfuscation in the original (invisible characters, mixed scripts, spaced letters…). */
  obfuscated: boolean;
}

const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/gu;
const INVISIBLE_TEST = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;
const TAG_CHARACTERS = /[\u{E0000}-\u{E007F}]+/gu;
const FULLWIDTH = /[\uff01-\uff5e\u3000]/u;

/** Cyrillic and Greek confusables → Latin (Unicode confusables.txt, the letters that look identical in common fonts). */
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  а: "a", в: "b", е: "e", ё: "e", к: "k", м: "m", н: "h", о: "o", р: "p", с: "c", т: "t", у: "y", х: "x", і: "i", ї: "i", ј: "j", ѕ: "s", һ: "h", ԁ: "d", ԛ: "q", ԝ: "w", ɡ: "g", ӏ: "l",
  α: "a", β: "b", ε: "e", η: "n", ι: "i", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t", υ: "u", χ: "x", γ: "y", ω: "w", μ: "u", ϲ: "c", ϳ: "j",
};
const LEET: Readonly<Record<string, string>> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s" };
const LATIN = /\p{Script=Latin}/u;
const CYRILLIC_OR_GREEK = /[\p{Script=Cyrillic}\p{Script=Greek}]/u;
const SPACED_LETTERS = /(?<![\p{L}])(?:\p{L}[ .\-_*|·•]){3,}\p{L}(?![\p{L}])/u;
const SPLIT_WORD = /(?<![\p{L}])\p{L}{2,12}[-.·_*]\p{L}{1,3}[-.·_*]\p{L}{2}/u;
const ASCII_SPACED_LETTERS = /(?<![a-z])(?:[a-z][ .\-_*|]){3,}[a-z](?![a-z])/;
const ASCII_SPLIT_WORD = /(?<![a-z])[a-z]{2,12}[-._*][a-z]{1,3}[-._*][a-z]{2}/;

/** Decodes Unicode tag characters to ASCII (`U+E0069` → `i`). */
export function decodeTagCharacters(run: string): string {
  let out = "";
  for (const character of run) {
    const code = (character.codePointAt(0) as number) - 0xe0000;
    if (code >= 0x20 && code <= 0x7e) out += String.fromCharCode(code);
  }
  return out;
}

/** Tag-character runs of `text`, decoded (hidden payloads a human cannot see). */
export function hiddenTagPayloads(text: string): string[] {
  const payloads: string[] = [];
  for (const match of text.matchAll(TAG_CHARACTERS)) {
    const decoded = decodeTagCharacters(match[0]);
    if (decoded.trim().length > 0) payloads.push(decoded);
  }
  return payloads;
}

function foldWord(word: string, foldAll: boolean): string {
  if (!foldAll && !(LATIN.test(word) && CYRILLIC_OR_GREEK.test(word))) return word;
  let out = "";
  for (const character of word) out += HOMOGLYPHS[character] ?? character;
  return out;
}

function deLeet(token: string): string {
  if (!/\p{L}/u.test(token) || !/[013457@$]/.test(token)) return token;
  let out = "";
  for (const character of token) out += LEET[character] ?? character;
  return out;
}

const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_LEET_TOKEN = /[a-z]+[013457@$][a-z013457@$]*|[013457@$]+[a-z][a-z013457@$]*/g;
const ASCII_NON_ALPHANUMERIC = /[^a-z0-9]+/g;
const LEET_TOKEN = /\p{L}+[013457@$][\p{L}013457@$]*|[013457@$]+\p{L}[\p{L}013457@$]*/gu;
const WORD = /[\p{L}\p{M}]+/gu;
const NON_ALPHANUMERIC = /[^\p{L}\p{N}]+/gu;

/** Counts ASCII lower-case letters and Cyrillic/Greek letters (U+0370–U+04FF). */
function scriptCounts(value: string): { latin: number; other: number } {
  let latin = 0;
  let other = 0;
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 97 && code <= 122) latin += 1;
    else if (code >= 0x370 && code <= 0x4ff) other += 1;
  }
  return { latin, other };
}

/**
 * Normalizes one segment. Pure; O(length); pure-ASCII text takes a fast path (no Unicode work to do).
 */
export function normalizeSegment(text: string): NormalizedSegment {
  if (!NON_ASCII.test(text)) {
    const lower = text.toLowerCase();
    const words = lower.replace(ASCII_LEET_TOKEN, deLeet);
    return { words, compact: words.replace(ASCII_NON_ALPHANUMERIC, ""), obfuscated: ASCII_SPACED_LETTERS.test(words) || ASCII_SPLIT_WORD.test(words) };
  }
  let obfuscated = INVISIBLE_TEST.test(text) || FULLWIDTH.test(text);
  let value = text.replace(TAG_CHARACTERS, "").normalize("NFKC").replace(INVISIBLE, "").toLowerCase();
  // Homoglyphs: mostly-Latin segments fold everything; others only mixed-script words.
  const { latin, other } = scriptCounts(value);
  if (other > 0) {
    const foldAll = latin > other * 2;
    const folded = value.replace(WORD, (word) => foldWord(word, foldAll));
    if (folded !== value) obfuscated = true;
    value = folded;
  }
  if (SPACED_LETTERS.test(value) || SPLIT_WORD.test(value)) obfuscated = true;
  // Leetspeak is folded but not counted as obfuscation evidence (hashes and versions mix letters and digits).
  value = value.replace(LEET_TOKEN, deLeet);
  if (/[\u00c0-\u024f\u1e00-\u1eff]/.test(value)) value = value.normalize("NFD").replace(/[\u0300-\u036f]/g, "").normalize("NFC");
  return { words: value, compact: value.replace(NON_ALPHANUMERIC, ""), obfuscated };
}

/** Splits text into segments: lines, and sentences inside long lines (`. `, `! `, `? `, `。`, `！`, `？`). */
export function segmentsOf(text: string): string[] {
  const segments: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim().length === 0) continue;
    for (const sentence of line.split(/(?<=[.!?;])\s+|(?<=[。！？])/u)) if (sentence.trim().length > 0) segments.push(sentence);
  }
  return segments;
}
