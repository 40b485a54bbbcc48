/**
 * Prints precision, recall and F1 of the prompt-injection detector on the labelled corpus
 * (test/fixtures/injection/corpus.jsonl), overall, per split (dev, held-out) and per category, plus the
 * misclassified ids and the scan speed. Run: `npm run report:injection` (add `--verbose` for the texts).
 */
import { evaluateCorpus, formatReport, loadCorpus, measureSpeed } from "../test/support/injection-corpus.js";

const corpus = loadCorpus();
const evaluation = evaluateCorpus(corpus);
process.stdout.write(formatReport(evaluation, process.argv.includes("--verbose")));
const speed = measureSpeed(corpus);
process.stdout.write(`\nspeed: ${speed.microsecondsPerKilobyte.toFixed(1)} µs per KB over ${speed.kilobytes.toFixed(0)} KB of corpus text (${speed.rounds} rounds); a benign 400 KB tool result: ${speed.largeBenignMs.toFixed(2)} ms\n`);
