/**
 * Prompt-injection detector: scores a text (a tool result, a memory write) for instructions aimed at the model
 * that reads it. Pure, synchronous, no I/O; linear in the text's length (see docs/governance.md, Safety, for the
 * measured µs per KB and the corpus figures).
 *
 * Method: the text is split into segments (lines, sentences); each is normalized (normalize.ts) and matched
 * against the signals (signals.ts). A segment's score is the sum of the best weight per signal category, each
 * weight lowered by 1 when the matches are only quoted (inside quotes or a fenced code block) and by 2 when the
 * segment (or a neighbour) discusses injection ("for example", "attackers", "such as", "classifier"…); plus 1 for evidence of
 * obfuscation (invisible characters, mixed scripts, spaced letters) and plus 1 inside a decoded payload
 * (base64, hex, percent, HTML entities, escapes, ROT13, tag characters; decoded and rescanned up to two levels
 * deep). Obfuscated or encoded matches never get the discount: benign writing has no reason to hide them.
 * The text's score is the best segment's, plus 1 when several segments score; ≥ `threshold` (3) is a detection.
 */
import { decodePayloads, type DecodedPayload } from "./decode.js";
import { normalizeSegment, segmentsOf, type NormalizedSegment } from "./normalize.js";
import { SIGNALS, type Signal, type SignalCategory } from "./signals.js";

/** The verdict on one text. */
export interface InjectionFinding {
  detected: boolean;
  /** Higher is more certain; `detected` when ≥ the threshold. */
  score: number;
  /** Signal categories found in the best-scoring segments (sorted). */
  categories: SignalCategory[];
  /** Encodings a scored payload was hidden in (`base64`, `hex`…), outermost first. */
  encodings: string[];
  /** True when the scored text was obfuscated (invisible characters, homoglyphs, spacing…). */
  obfuscated: boolean;
  /** Up to 160 characters of the best segment, normalized (for audit; never the whole text). */
  excerpt: string;
}

export interface DetectorOptions {
  /** Score at or above which a text is a detection. Default 3. */
  threshold?: number;
  /** Characters scanned: longer texts are scanned head and tail (half each). Default 262,144. */
  maxChars?: number;
}

const META_CONTEXT = /\b(?:example(?!\.(?:com|net|org))|examples|e\.g\.|for instance|such as|phrases?|strings like|payloads?|patterns?|attacks?|attackers?|adversar\w*|injections?|jailbreaks|jailbreak (?:prompts?|attempts?|techniques?)|tricks|classifiers?|flagged|detect\w*|filters?|red-team\w*|red team\w*|researchers?|paper|known as|called|test cases?|honeypot|yara|sigma|regex\w*|regular expressions?|mitigations?|defen[cs]es?|threats?|warnt|warns|beispiel|exemple|par exemple|ejemplo|esempio|article|blog|slide|tried|evaluat\w*|malicious|obfuscat\w*|keywords?|guardrails?|firewall|planted|owasp|incident|quoted|chat[- ]templates?|tokenizer|special tokens?|llama|chatml|mistral|qwen|gemma|exfiltration|persona|role markers?|categor(?:y|ies))\b/u;
const QUOTED_SPAN = /"[^"\n]{2,300}"|“[^”\n]{2,300}”|„[^“”\n]{2,300}[“”]|«[^»\n]{2,300}»|「[^」\n]{2,300}」|`[^`\n]{2,300}`|(?<![\p{L}\p{N}])'[^'\n]{2,300}'(?![\p{L}\p{N}])/gu;
const TURN_PAIR = /(?:^|\n)\s*(?:human|user)\s*:[^\n]*\n(?:[^\n]*\n){0,3}?\s*assistant\s*:/u;
const MAX_DEPTH = 2;

interface SegmentScore {
  score: number;
  categories: Set<SignalCategory>;
  obfuscated: boolean;
  excerpt: string;
}

function test(signal: Signal, segment: { words: string; compact: string }): boolean {
  return signal.pattern.test(signal.view === "compact" ? segment.compact : segment.words);
}

function withoutQuotes(words: string): { words: string; compact: string } {
  const stripped = words.replace(QUOTED_SPAN, " ");
  return { words: stripped, compact: stripped.replace(/[^\p{L}\p{N}]+/gu, "") };
}

/** Scores one normalized segment against the candidate signals. */
function scoreSegment(segment: NormalizedSegment, candidates: readonly Signal[], context: { meta: boolean; inCode: boolean; encoded: boolean }): SegmentScore | null {
  const best = new Map<SignalCategory, number>();
  let allQuoted = true;
  let unquoted: { words: string; compact: string } | null = null;
  for (const signal of candidates) {
    if (!test(signal, segment)) continue;
    if (signal.weight > (best.get(signal.category) ?? 0)) best.set(signal.category, signal.weight);
    if (allQuoted) {
      unquoted ??= withoutQuotes(segment.words);
      if (test(signal, unquoted)) allQuoted = false;
    }
  }
  if (best.size === 0) return null;
  // Quoted or discussed: each category's weight is discounted (obfuscated or encoded text never is).
  const quoted = allQuoted || context.inCode;
  const discount = segment.obfuscated || context.encoded ? 0 : (quoted ? 1 : 0) + (context.meta ? 2 : 0);
  let score = 0;
  for (const weight of best.values()) score += Math.max(0, weight - discount);
  if (segment.obfuscated) score += 1;
  if (context.encoded) score += 1;
  return { score, categories: new Set(best.keys()), obfuscated: segment.obfuscated, excerpt: segment.words.slice(0, 160) };
}

function scanText(text: string, depth: number, encodings: string[], options: Required<DetectorOptions>): InjectionFinding {
  const empty: InjectionFinding = { detected: false, score: 0, categories: [], encodings, obfuscated: false, excerpt: "" };
  const raw = segmentsOf(text);
  const normalized = raw.map(normalizeSegment);
  // Gate: only signals that match somewhere in the whole text are tried per segment.
  const whole = { words: normalized.map((segment) => segment.words).join("\n"), compact: normalized.map((segment) => segment.compact).join("") };
  const candidates = SIGNALS.filter((signal) => test(signal, whole));
  const encoded = depth > 0;
  const scores: SegmentScore[] = [];
  if (candidates.length > 0) {
    const meta = normalized.map((segment) => META_CONTEXT.test(segment.words));
    let inCode = false;
    for (const [index, segment] of normalized.entries()) {
      const line = raw[index] as string;
      const fence = line.trimStart().startsWith("```");
      if (fence) inCode = !inCode;
      const scored = scoreSegment(segment, candidates, { meta: (meta[index - 1] ?? false) || (meta[index] as boolean) || (meta[index + 1] ?? false), inCode: inCode || fence, encoded });
      if (scored) scores.push(scored);
    }
  }
  if (TURN_PAIR.test(text.normalize("NFKC").toLowerCase())) scores.push({ score: 2 + (encoded ? 1 : 0), categories: new Set(["role_marker"]), obfuscated: false, excerpt: "human: … assistant:" });
  let best: SegmentScore | null = null;
  let positive = 0;
  for (const scored of scores) {
    if (scored.score > 0) positive += 1;
    if (!best || scored.score > best.score) best = scored;
  }
  let finding: InjectionFinding = empty;
  if (best && best.score > 0) {
    const score = best.score + (positive >= 2 ? 1 : 0);
    const categories = new Set<SignalCategory>();
    for (const scored of scores) if (scored.score >= best.score - 1 && scored.score > 0) for (const category of scored.categories) categories.add(category);
    finding = { detected: score >= options.threshold, score, categories: [...categories].sort(), encodings, obfuscated: best.obfuscated, excerpt: best.excerpt };
  }
  if (finding.detected || depth >= MAX_DEPTH) return finding;
  for (const payload of decodePayloads(text, { maxPayloads: 16, maxBytes: 65_536 })) {
    const inner = scanText(payload.text, depth + 1, [...encodings, payload.encoding], options);
    if (inner.detected) return inner;
    if (inner.score > finding.score) finding = inner;
  }
  return finding;
}

/** Limits `text` to `maxChars` characters: the head and the tail, half each. */
function bounded(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return `${text.slice(0, half)}\n${text.slice(text.length - half)}`;
}

/** Scores `text` for prompt injection. Never throws. */
export function detectInjection(text: string, options: DetectorOptions = {}): InjectionFinding {
  const resolved: Required<DetectorOptions> = { threshold: options.threshold ?? 3, maxChars: options.maxChars ?? 262_144 };
  return scanText(bounded(text, resolved.maxChars), 0, [], resolved);
}

export type { DecodedPayload, SignalCategory };
