/**
 * Writes test/fixtures/injection/corpus.jsonl: the labelled prompt-injection corpus (hand-written texts; the
 * obfuscated attack categories apply one trick — case, spacing, zero-width, fullwidth, homoglyphs, leetspeak,
 * base64, hex, percent, HTML entities, ROT13, Unicode tag characters — to a hand-written attack sentence).
 * Every 10 items, those at positions 2, 5 and 8 form the held-out split (30%), fixed before the detector was tuned.
 * Run: `npx tsx scripts/build-injection-corpus.ts`. Deterministic (no randomness).
 */
import { writeFileSync } from "node:fs";
import { ATTACKS, BENIGN, type CorpusSeed } from "./injection-corpus-seeds.js";

const CYRILLIC: Record<string, string> = { a: "а", e: "е", o: "о", p: "р", c: "с", x: "х", y: "у", i: "і", s: "ѕ", A: "А", E: "Е", O: "О", P: "Р", C: "С", T: "Т", H: "Н", M: "М", K: "К", B: "В" };
const GREEK: Record<string, string> = { o: "ο", v: "ν", i: "ι", A: "Α", B: "Β", E: "Ε", I: "Ι", K: "Κ", N: "Ν", O: "Ο", T: "Τ", Y: "Υ" };
const ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"];

/** Applies one obfuscation trick; `n` varies the pattern deterministically. */
export function obfuscate(trick: string, text: string, n: number): string {
  switch (trick) {
    case "case":
      return [...text].map((character, index) => ((index + n) % 2 === 0 ? character.toUpperCase() : character.toLowerCase())).join("");
    case "spacing":
      return text.replace(/[A-Za-z]{5,}/g, (word, offset: number) => ((offset + n) % 3 === 0 ? [...word].join(n % 2 === 0 ? " " : ".") : word.length > 6 ? `${word.slice(0, 3)}-${word.slice(3)}` : word));
    case "zero-width":
      return text.replace(/[A-Za-z]{4,}/g, (word) => [...word].join(ZERO_WIDTH[n % ZERO_WIDTH.length] as string));
    case "fullwidth":
      return [...text].map((character) => (character >= "!" && character <= "~" ? String.fromCodePoint((character.codePointAt(0) as number) + 0xfee0) : character === " " ? "\u3000" : character)).join("");
    case "homoglyph": {
      const table = n % 3 === 2 ? GREEK : CYRILLIC;
      return [...text].map((character, index) => ((index + n) % 2 === 0 ? (table[character] ?? character) : character)).join("");
    }
    case "leetspeak":
      return text.replace(/[aeiost]/g, (character, offset: number) => ((offset + n) % 2 === 0 ? ({ a: "4", e: "3", i: "1", o: "0", s: "5", t: "7" } as Record<string, string>)[character] ?? character : character));
    case "base64":
      return Buffer.from(text, "utf8").toString("base64");
    case "hex":
      return Buffer.from(text, "utf8").toString("hex");
    case "percent":
      return [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0").toUpperCase()}`).join("");
    case "html-entity":
      return [...text].map((character, index) => ((index + n) % 3 === 0 ? `&#${character.codePointAt(0)};` : (index + n) % 3 === 1 ? `&#x${(character.codePointAt(0) as number).toString(16)};` : character)).join("");
    case "rot13":
      return text.replace(/[a-z]/gi, (character) => {
        const base = character <= "Z" ? 65 : 97;
        return String.fromCharCode(((character.charCodeAt(0) - base + 13) % 26) + base);
      });
    case "tag-smuggling":
      return [...text].map((character) => String.fromCodePoint(0xe0000 + (character.codePointAt(0) as number))).join("");
    default:
      return text;
  }
}

interface CorpusEntry {
  id: string;
  label: "attack" | "benign";
  category: string;
  split: "dev" | "holdout";
  text: string;
}

function entries(seeds: readonly CorpusSeed[], label: "attack" | "benign"): CorpusEntry[] {
  return seeds.map((seed, index) => {
    const text = seed.trick ? (seed.wrap ?? "{}").replace("{}", obfuscate(seed.trick, seed.text, index)) : seed.text;
    return { id: `${label === "attack" ? "a" : "b"}${String(index + 1).padStart(3, "0")}`, label, category: seed.category, split: [2, 5, 8].includes(index % 10) ? "holdout" : "dev", text };
  });
}

const corpus = [...entries(ATTACKS, "attack"), ...entries(BENIGN, "benign")];
writeFileSync(new URL("../test/fixtures/injection/corpus.jsonl", import.meta.url), corpus.map((entry) => JSON.stringify(entry)).join("\n") + "\n");
process.stdout.write(`wrote ${corpus.length} entries (${ATTACKS.length} attacks, ${BENIGN.length} benign)\n`);
