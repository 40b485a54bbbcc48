/**
 * Loads the labelled prompt-injection corpus and evaluates the detector on it: precision, recall and F1
 * overall, per split and per category (for benign categories only false positives are meaningful).
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { detectInjection } from "../../src/governance/safety/injection/detector.js";

const entrySchema = z.strictObject({
  id: z.string(),
  label: z.enum(["attack", "benign"]),
  category: z.string(),
  split: z.enum(["dev", "holdout"]),
  text: z.string().min(1),
});
export type CorpusEntry = z.infer<typeof entrySchema>;

export const CORPUS_PATH = new URL("../fixtures/injection/corpus.jsonl", import.meta.url);

export function loadCorpus(): CorpusEntry[] {
  return readFileSync(CORPUS_PATH, "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => entrySchema.parse(JSON.parse(line)));
}

export interface Counts {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
}

export interface Metrics extends Counts {
  precision: number;
  recall: number;
  f1: number;
}

function metrics(counts: Counts): Metrics {
  const precision = counts.truePositives + counts.falsePositives === 0 ? 1 : counts.truePositives / (counts.truePositives + counts.falsePositives);
  const recall = counts.truePositives + counts.falseNegatives === 0 ? 1 : counts.truePositives / (counts.truePositives + counts.falseNegatives);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...counts, precision, recall, f1 };
}

export interface Evaluation {
  overall: Metrics;
  bySplit: Record<string, Metrics>;
  byCategory: Record<string, Metrics & { label: string; total: number }>;
  mistakes: Array<{ entry: CorpusEntry; score: number }>;
}

function tally(into: Counts, label: "attack" | "benign", detected: boolean): void {
  if (label === "attack") {
    if (detected) into.truePositives += 1;
    else into.falseNegatives += 1;
  } else if (detected) into.falsePositives += 1;
  else into.trueNegatives += 1;
}

const zero = (): Counts => ({ truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0 });

export function evaluateCorpus(corpus: readonly CorpusEntry[]): Evaluation {
  const overall = zero();
  const splits: Record<string, Counts> = {};
  const categories: Record<string, Counts & { label: string; total: number }> = {};
  const mistakes: Evaluation["mistakes"] = [];
  for (const entry of corpus) {
    const finding = detectInjection(entry.text);
    tally(overall, entry.label, finding.detected);
    tally((splits[entry.split] ??= zero()), entry.label, finding.detected);
    const category = (categories[`${entry.label}/${entry.category}`] ??= { ...zero(), label: entry.label, total: 0 });
    category.total += 1;
    tally(category, entry.label, finding.detected);
    if (finding.detected !== (entry.label === "attack")) mistakes.push({ entry, score: finding.score });
  }
  return {
    overall: metrics(overall),
    bySplit: Object.fromEntries(Object.entries(splits).map(([name, counts]) => [name, metrics(counts)])),
    byCategory: Object.fromEntries(Object.entries(categories).map(([name, counts]) => [name, { ...metrics(counts), label: counts.label, total: counts.total }])),
    mistakes,
  };
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

export function formatReport(evaluation: Evaluation, verbose: boolean): string {
  const lines: string[] = [];
  const row = (name: string, value: Metrics) =>
    `${name.padEnd(28)} precision ${percent(value.precision).padStart(6)}  recall ${percent(value.recall).padStart(6)}  F1 ${percent(value.f1).padStart(6)}  (TP ${value.truePositives}, FP ${value.falsePositives}, FN ${value.falseNegatives}, TN ${value.trueNegatives})`;
  lines.push(row("overall", evaluation.overall));
  for (const [name, value] of Object.entries(evaluation.bySplit)) lines.push(row(`split ${name}`, value));
  lines.push("", "per category (attacks: recall; benign: false-positive rate):");
  for (const [name, value] of Object.entries(evaluation.byCategory).sort(([left], [right]) => left.localeCompare(right))) {
    const figure = value.label === "attack" ? `recall ${percent(value.recall)}` : `false positives ${value.falsePositives}/${value.total}`;
    lines.push(`  ${name.padEnd(30)} ${String(value.total).padStart(3)} texts  ${figure}`);
  }
  lines.push("", `misclassified (${evaluation.mistakes.length}):`);
  for (const mistake of evaluation.mistakes) {
    lines.push(`  ${mistake.entry.id} ${mistake.entry.label}/${mistake.entry.category} [${mistake.entry.split}] score ${mistake.score}${verbose ? `: ${JSON.stringify(mistake.entry.text.slice(0, 200))}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Scan speed over the whole corpus (`rounds` passes) and over one large benign tool result. */
export function measureSpeed(corpus: readonly CorpusEntry[]): { microsecondsPerKilobyte: number; kilobytes: number; rounds: number; largeBenignMs: number } {
  const rounds = 20;
  let bytes = 0;
  for (const entry of corpus) bytes += Buffer.byteLength(entry.text, "utf8");
  for (const entry of corpus) detectInjection(entry.text);
  const started = performance.now();
  for (let round = 0; round < rounds; round += 1) for (const entry of corpus) detectInjection(entry.text);
  const elapsedMs = performance.now() - started;
  const benign = corpus.filter((entry) => entry.label === "benign").map((entry) => entry.text).join("\n");
  let large = "";
  while (large.length < 400_000) large += `${benign}\n`;
  detectInjection(large);
  const largeStarted = performance.now();
  detectInjection(large);
  const largeBenignMs = performance.now() - largeStarted;
  return { microsecondsPerKilobyte: (elapsedMs * 1000) / ((bytes * rounds) / 1024), kilobytes: bytes / 1024, rounds, largeBenignMs };
}
