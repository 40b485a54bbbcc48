/**
 * AdmissionControl against the in-process shared state: which buckets a call takes from (rules matched per
 * tenant/profile, requests before tokens), the `x-ratelimit-*` headers (the last matching rule of each kind),
 * giving tokens back when a later check refuses, token reconciliation and budget commits on `settle`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isClawfleetError } from "../../../src/contracts/errors.js";
import { AdmissionControl, type AdmissionRequest, type BudgetRule, type RateLimitRule } from "../../../src/gateway/limits/admission.js";
import { createLogger } from "../../../src/observability/logger.js";
import { MemorySharedState } from "../../../src/state/memory/shared-state.js";

const NOW = Date.parse("2026-11-21T12:00:00Z");
const request: AdmissionRequest = { tenantId: "acme", keyId: "k1", profile: "standard", model: "default", provider: "openai", estimatedTokens: 100, estimatedCostMicros: 1_000 };
const budget = (overrides: Partial<BudgetRule>): BudgetRule => ({ scope: "tenant", period: "month", limitUsd: 1, alertThresholds: [1], action: "block", ...overrides });

function control(limits: RateLimitRule[], budgets: BudgetRule[] = []): { admission: AdmissionControl; state: MemorySharedState } {
  // The buckets refill with time; a frozen clock keeps the arithmetic exact.
  const state = new MemorySharedState({ now: () => NOW });
  return { admission: new AdmissionControl(state, { limits, budgets, timeZone: "UTC" }, createLogger("silent"), async () => undefined, () => NOW), state };
}

test("every matching rule is charged; headers come from the last matching rule of each kind; a rule for another tenant is skipped", async () => {
  const { admission, state } = control([
    { scope: "key", requestsPerMinute: 5 },
    { scope: "tenant", requestsPerMinute: 100, tokensPerMinute: 1_000 },
    { scope: "tenant", requestsPerMinute: 7, match: { tenant: "other" } },
  ]);
  const admitted = await admission.admit(request);
  assert.deepEqual(admitted.headers, {
    "x-ratelimit-limit-requests": "100",
    "x-ratelimit-remaining-requests": "99",
    "x-ratelimit-reset-requests": admitted.headers["x-ratelimit-reset-requests"],
    "x-ratelimit-limit-tokens": "1000",
    "x-ratelimit-remaining-tokens": "900",
    "x-ratelimit-reset-tokens": admitted.headers["x-ratelimit-reset-tokens"],
  });
  assert.equal(admitted.fallbackRoute, null);
  // The key bucket was charged one request: 4 of 5 left.
  assert.equal((await state.takeTokens("rl:key:k1:requests:5", 0, { capacity: 5, refillPerSecond: 5 / 60 })).remaining, 4);
  // The other tenant's rule took nothing.
  assert.equal((await state.takeTokens("rl:tenant:acme:requests:7", 0, { capacity: 7, refillPerSecond: 7 / 60 })).remaining, 7);
  // Settling with 30 real tokens gives back the other 70 of the 100 estimated.
  await admitted.settle({ usage: { inputTokens: 20, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, costMicros: 0 });
  assert.equal((await state.takeTokens("rl:tenant:acme:tokens:1000", 0, { capacity: 1_000, refillPerSecond: 1_000 / 60 })).remaining, 970);
  await state.close();
});

test("a refusal by a later check gives back what the earlier checks took", async () => {
  const { admission, state } = control([
    { scope: "tenant", requestsPerMinute: 100 },
    { scope: "key", tokensPerMinute: 50 },
  ]);
  // A call is charged at most a bucket's capacity: the first takes all 50 tokens, the second finds none.
  await admission.admit({ ...request, estimatedTokens: 80 });
  await assert.rejects(admission.admit({ ...request, estimatedTokens: 80 }), (error: unknown) => {
    assert.ok(isClawfleetError(error));
    assert.equal(error.code, "CF_RATE_LIMITED");
    assert.deepEqual((error.details as { scope: string; unit: string }).scope, "key");
    assert.equal((error.details as { unit: string }).unit, "tokens/minute");
    return true;
  });
  // The first call's request is still taken; the refused one's was given back.
  assert.equal((await state.takeTokens("rl:tenant:acme:requests:100", 0, { capacity: 100, refillPerSecond: 100 / 60 })).remaining, 99);
  await state.close();
});

test("budgets: the estimate is reserved, the real cost committed on settle, and a spent budget refuses (or falls back)", async () => {
  const { admission, state } = control([], [budget({ limitUsd: 0.003 })]);
  const first = await admission.admit(request);
  await first.settle({ usage: null, costMicros: 1_500 });
  const second = await admission.admit(request);
  await second.settle({ usage: null, costMicros: 1_500 });
  await assert.rejects(admission.admit(request), (error: unknown) => isClawfleetError(error) && error.code === "CF_BUDGET_EXCEEDED" && (error.details as { spentUsd: number }).spentUsd === 0.003);
  await state.close();

  const withFallback = control([], [budget({ limitUsd: 0.001, action: "fallback", fallbackRoute: "cheap" }), budget({ scope: "key", limitUsd: 10 })]);
  const spent = await withFallback.admission.admit(request);
  await spent.settle({ usage: null, costMicros: 2_000 });
  const moved = await withFallback.admission.admit(request);
  assert.equal(moved.fallbackRoute, "cheap");
  await moved.settle({ usage: null, costMicros: 500 });
  const usage = await withFallback.state.reserveBudget("budget:key:k1:month:2026-11", 0, 10_000_000, { ttlMs: 60_000, periodTtlMs: 60_000 });
  assert.equal(usage.usage.spentMicros, 2_500, "the key budget was charged both calls");
  await withFallback.state.close();
});
