/**
 * Retry decisions: which failures may be retried or sent to the next target, and how long to wait.
 *
 * Retryable (and fallback-able): `CF_UPSTREAM_UNREACHABLE`, `CF_UPSTREAM_TIMEOUT`, and `CF_UPSTREAM_ERROR`
 * whose upstream status is 429 or ≥ 500 (the rule of `ProviderAdapter`'s docstring). Anything else — a
 * caller's 4xx passed on by the upstream (400, 401, 403, 404, 413, 422…), another error code, or a thrown
 * value that is no `ClawfleetError` — is final: never retried, never sent to another target.
 *
 * Backoff is exponential with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015):
 * retry n (0-based) waits `random() · min(maxBackoffMs, initialBackoffMs · 2^n)`. A `retry-after` from the
 * upstream (RFC 9110 §10.2.3) is a floor on that wait.
 */
import { type ClawfleetError, isClawfleetError } from "../../contracts/errors.js";
import type { TargetRetries } from "./config.js";
import type { RandomSource } from "./load-balance.js";

/** How a failed attempt ended, as recorded in an attempt list. */
export type FailureOutcome = "upstream_error" | "timeout" | "unreachable" | "rejected" | "internal_error";

/** True when `error` may be retried on the same target or sent to the next one (rules above). */
export function isRetryableFailure(error: unknown): error is ClawfleetError {
  if (!isClawfleetError(error)) return false;
  if (error.code === "CF_UPSTREAM_UNREACHABLE" || error.code === "CF_UPSTREAM_TIMEOUT") return true;
  if (error.code === "CF_UPSTREAM_ERROR") return error.status === 429 || error.status >= 500;
  return false;
}

/**
 * The outcome name of a failure: `timeout`, `unreachable`, `upstream_error` (retryable upstream status),
 * `rejected` (a final ClawfleetError, e.g. the caller's 4xx), `internal_error` (not a ClawfleetError).
 */
export function failureOutcome(error: unknown): FailureOutcome {
  if (!isClawfleetError(error)) return "internal_error";
  if (error.code === "CF_UPSTREAM_TIMEOUT") return "timeout";
  if (error.code === "CF_UPSTREAM_UNREACHABLE") return "unreachable";
  return isRetryableFailure(error) ? "upstream_error" : "rejected";
}

/** The backoff cap of retry `retryIndex` (0 = first retry), ms: `min(max, initial · 2^retryIndex)`. */
export function backoffCapMs(retries: Pick<TargetRetries, "initialBackoffMs" | "maxBackoffMs">, retryIndex: number): number {
  return Math.min(retries.maxBackoffMs, retries.initialBackoffMs * 2 ** retryIndex);
}

/** What to do after a retryable failure of one target. */
export type RetryDecision =
  /** Wait `delayMs` (ms), then try the same target again. */
  | { action: "retry"; delayMs: number }
  /** Give up on this target: `reason` says why. */
  | { action: "next_target"; reason: "retries_exhausted" | "retry_after_too_long" };

/**
 * Decides the next step after retryable failure number `retriesDone + 1` of a target whose settings are
 * `retries`: retry with a full-jitter delay while `retriesDone < attempts`; a `retryAfterSeconds` on the error
 * raises the delay to at least that many seconds, and when it exceeds `maxBackoffMs` the target is left
 * instead of waiting so long.
 */
export function decideRetry(error: ClawfleetError, retries: TargetRetries, retriesDone: number, random: RandomSource): RetryDecision {
  if (retriesDone >= retries.attempts) return { action: "next_target", reason: "retries_exhausted" };
  const retryAfterMs = error.retryAfterSeconds !== undefined && error.retryAfterSeconds > 0 ? Math.ceil(error.retryAfterSeconds * 1000) : 0;
  if (retryAfterMs > retries.maxBackoffMs) return { action: "next_target", reason: "retry_after_too_long" };
  const jitteredMs = Math.floor(random() * backoffCapMs(retries, retriesDone));
  return { action: "retry", delayMs: Math.max(jitteredMs, retryAfterMs) };
}
