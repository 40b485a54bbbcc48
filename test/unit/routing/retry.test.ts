import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import { backoffCapMs, decideRetry, failureOutcome, isRetryableFailure } from "../../../src/gateway/routing/retry.js";
import { timeoutError, unreachableError, upstreamError } from "../../support/routing-fakes.js";

const retries = { attempts: 3, initialBackoffMs: 250, maxBackoffMs: 1000 };

test("retryable: unreachable, timeout, upstream 429 and 5xx; final: the caller's 4xx, other codes, non-Clawfleet errors", () => {
  for (const error of [unreachableError(), timeoutError(), upstreamError(429), upstreamError(500), upstreamError(502), upstreamError(503), upstreamError(529)]) {
    assert.equal(isRetryableFailure(error), true, `${error.code} ${error.status}`);
  }
  for (const status of [400, 401, 403, 404, 408, 409, 413, 422]) assert.equal(isRetryableFailure(upstreamError(status)), false, String(status));
  assert.equal(isRetryableFailure(new ClawfleetError("CF_VALIDATION_FAILED", "bad")), false);
  assert.equal(isRetryableFailure(new ClawfleetError("CF_RATE_LIMITED", "ours, not the upstream's")), false);
  assert.equal(isRetryableFailure(new TypeError("bug")), false);
  assert.equal(isRetryableFailure("text"), false);
});

test("failure outcomes name the kind of failure", () => {
  assert.equal(failureOutcome(timeoutError()), "timeout");
  assert.equal(failureOutcome(unreachableError()), "unreachable");
  assert.equal(failureOutcome(upstreamError(503)), "upstream_error");
  assert.equal(failureOutcome(upstreamError(400)), "rejected");
  assert.equal(failureOutcome(new Error("bug")), "internal_error");
});

test("backoff cap doubles from initialBackoffMs and stops at maxBackoffMs", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((retryIndex) => backoffCapMs(retries, retryIndex)), [250, 500, 1000, 1000, 1000]);
});

test("full jitter: the delay is random() · cap, from 0 up to (not including) the cap", () => {
  const error = upstreamError(503);
  assert.deepEqual(decideRetry(error, retries, 0, () => 0), { action: "retry", delayMs: 0 });
  assert.deepEqual(decideRetry(error, retries, 0, () => 0.5), { action: "retry", delayMs: 125 });
  assert.deepEqual(decideRetry(error, retries, 1, () => 0.5), { action: "retry", delayMs: 250 });
  assert.deepEqual(decideRetry(error, retries, 2, () => 0.999999), { action: "retry", delayMs: 999 });
  for (let retriesDone = 0; retriesDone < 3; retriesDone += 1) {
    for (let sample = 0; sample < 200; sample += 1) {
      const decision = decideRetry(error, retries, retriesDone, Math.random);
      assert.equal(decision.action, "retry");
      if (decision.action === "retry") assert.ok(decision.delayMs >= 0 && decision.delayMs < backoffCapMs(retries, retriesDone));
    }
  }
});

test("after `attempts` retries the target is left", () => {
  assert.deepEqual(decideRetry(upstreamError(500), retries, 3, () => 0.5), { action: "next_target", reason: "retries_exhausted" });
  assert.deepEqual(decideRetry(upstreamError(500), { ...retries, attempts: 0 }, 0, () => 0.5), { action: "next_target", reason: "retries_exhausted" });
});

test("retry-after is the minimum delay; above maxBackoffMs the target is left without waiting", () => {
  assert.deepEqual(decideRetry(upstreamError(429, 1), retries, 0, () => 0.5), { action: "retry", delayMs: 1000 });
  assert.deepEqual(decideRetry(upstreamError(429, 0.3), retries, 2, () => 0.9), { action: "retry", delayMs: 900 });
  assert.deepEqual(decideRetry(upstreamError(429, 0.3), retries, 0, () => 0.1), { action: "retry", delayMs: 300 });
  assert.deepEqual(decideRetry(upstreamError(429, 2), retries, 0, () => 0.5), { action: "next_target", reason: "retry_after_too_long" });
  assert.deepEqual(decideRetry(upstreamError(503, 0), retries, 0, () => 0.5), { action: "retry", delayMs: 125 });
});
