/**
 * The labelled prompt-injection corpus (test/fixtures/injection/corpus.jsonl): the detector must reach
 * precision ≥ 0.9 and recall ≥ 0.9 overall and on the held-out split; the figures are printed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateCorpus, formatReport, loadCorpus } from "../../support/injection-corpus.js";

test("corpus: at least 150 attacks and 150 benign texts, unique ids, ~30% held out", () => {
  const corpus = loadCorpus();
  assert.ok(corpus.filter((entry) => entry.label === "attack").length >= 150);
  assert.ok(corpus.filter((entry) => entry.label === "benign").length >= 150);
  assert.equal(new Set(corpus.map((entry) => entry.id)).size, corpus.length);
  const heldOut = corpus.filter((entry) => entry.split === "holdout").length / corpus.length;
  assert.ok(heldOut > 0.25 && heldOut < 0.35, `held out ${heldOut}`);
});

test("detector precision and recall ≥ 0.9 on the corpus, overall and held out", () => {
  const evaluation = evaluateCorpus(loadCorpus());
  process.stderr.write(formatReport(evaluation, false).split("\n\nper category")[0] + "\n");
  for (const [name, metrics] of [["overall", evaluation.overall], ["holdout", evaluation.bySplit.holdout], ["dev", evaluation.bySplit.dev]] as const) {
    assert.ok(metrics, name);
    assert.ok(metrics.precision >= 0.9, `${name} precision ${metrics.precision}`);
    assert.ok(metrics.recall >= 0.9, `${name} recall ${metrics.recall}`);
  }
});
