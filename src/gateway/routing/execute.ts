/**
 * Runs one request along its plan: tries targets in order with retries, backoff, a circuit breaker per
 * target and per-attempt timeouts, and returns the first success or throws the last failure.
 *
 * The I/O is the caller's `attempt` function (usually built by `adapter-attempts.ts` over `ProviderAdapter`s);
 * clock, randomness, sleeping and timers are injected, so every path can be tested without real time.
 *
 * Streams: an `attempt` for a streamed answer resolves once the upstream accepted the request (and, with
 * `streamAttempt`, once its first event arrived) and before anything was sent to the caller. Retries and
 * fallbacks happen only while `execute` has not resolved; once it has, the pipeline starts writing to the
 * caller and a later failure ends that stream with an error — there is no fallback after the first byte.
 */
import { setTimeout as delay } from "node:timers/promises";
import { ClawfleetError, type ErrorCode, isClawfleetError } from "../../contracts/errors.js";
import { CallAbortController, forwardAbort } from "../../http/call-abort.js";
import type { ProviderCallContext } from "../../contracts/provider.js";
import { type BreakerPermit, type CircuitBreakerRegistry, breakerKey } from "./circuit-breaker.js";
import type { RandomSource } from "./load-balance.js";
import type { PlannedTarget, RoutePlan } from "./plan.js";
import { type FailureOutcome, decideRetry, failureOutcome, isRetryableFailure } from "./retry.js";

/** Sleeps `ms` milliseconds; rejects when `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal | undefined) => Promise<void>;
/** Calls `callback` after `ms` milliseconds; returns a function that cancels it. */
export type SetTimer = (callback: () => void, ms: number) => () => void;

/**
 * Reports a target's health after the attempt resolved (a stream's real outcome is known only at its end).
 * Exactly one call counts; later ones are ignored.
 */
export interface TargetHealthReport {
  /** The answer completed: the target's breaker closes. */
  success(): void;
  /** The answer failed after the attempt resolved (e.g. a stall mid-stream): counts as a breaker failure. */
  failure(error: unknown): void;
  /** No verdict (the caller stopped reading): frees a half-open breaker's trial slot. */
  release(): void;
}

/** What an attempt receives: the adapter's call context plus routing information. */
export interface AttemptContext extends ProviderCallContext {
  target: PlannedTarget;
  /** 1 for the first call of the request, counting retries and fallbacks. */
  attemptNumber: number;
  /**
   * Call before resolving to report the target's health later through the returned object instead of
   * counting the resolution as a success. If the attempt rejects anyway, the rejection is what counts.
   */
  deferHealthReport(): TargetHealthReport;
}

/** One call to one target: resolves with the result or rejects with a `ClawfleetError` (see retry.ts). */
export type AttemptFunction<Result> = (target: PlannedTarget, context: AttemptContext) => Promise<Result>;

/** One call made while executing a plan. */
export interface AttemptRecord {
  provider: string;
  model: string;
  /** `success`, a failure kind (see retry.ts), or `aborted` (the caller went away). */
  outcome: "success" | FailureOutcome | "aborted";
  /** HTTP status of a failure (the upstream's, for `CF_UPSTREAM_ERROR`). */
  status?: number;
  errorCode?: ErrorCode;
  /** From the call to its settlement, ms (injected clock). */
  durationMs: number;
  /** `trial`: the half-open breaker's trial call; `forced`: tried although its breaker was open. */
  breaker?: "trial" | "forced";
}

/** A target not called because its circuit breaker was open (or its half-open trial was taken). */
export interface SkippedTarget {
  provider: string;
  model: string;
  reason: "circuit_open";
}

export interface ExecuteResult<Result> {
  result: Result;
  /** The target that answered. */
  target: PlannedTarget;
  /** Every call made, in order, the successful one last. */
  attempts: AttemptRecord[];
  skippedTargets: SkippedTarget[];
}

export interface ExecuteOptions {
  /** Shared breakers (one registry per process). */
  breakers: CircuitBreakerRegistry;
  requestId: string;
  /** The caller's signal: aborting it stops everything (current call, backoff, remaining targets). */
  signal?: AbortSignal;
  /** Jitter source, values in [0, 1). Default `Math.random`. */
  random?: RandomSource;
  /** Clock for durations, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Backoff waits. Default: `timers/promises` setTimeout with the signal. */
  sleep?: Sleep;
  /** Per-attempt backstop timers. Default: global `setTimeout`. */
  setTimer?: SetTimer;
}

const defaultSleep: Sleep = (ms, signal) => delay(ms, undefined, signal ? { signal } : {});
const defaultSetTimer: SetTimer = (callback, ms) => {
  const handle = setTimeout(callback, ms);
  return () => clearTimeout(handle);
};

/**
 * The router's own deadline for an attempt to settle, ms: `connectMs + firstByteMs + idleMs`. Adapters
 * enforce the precise connect / first-byte / idle timeouts themselves; this backstop aborts the attempt's
 * signal with `CF_UPSTREAM_TIMEOUT` if an adapter fails to, and stops waiting for it. It stops once the
 * attempt resolves (a stream's body is governed by the adapter's idle timeout).
 */
export function attemptDeadlineMs(target: PlannedTarget): number {
  return target.timeouts.connectMs + target.timeouts.firstByteMs + target.timeouts.idleMs;
}

type AttemptRun<Result> =
  | { kind: "success"; value: Result; deferred: boolean }
  | { kind: "failed"; error: unknown }
  | { kind: "aborted"; reason: unknown };

type TargetOutcome<Result> =
  | { kind: "success"; value: Result }
  | { kind: "final"; error: unknown }
  | { kind: "exhausted"; error: unknown };

/** Thrown inside `execute` to stop everything when the caller aborts; unwrapped before leaving. */
class CallerAborted {
  constructor(readonly reason: unknown) {}
}

/**
 * Executes `plan`: for each target in order, skipping targets whose breaker is open (if every target is
 * unavailable, the one whose breaker opened least recently gets a single forced try), calls `attempt`.
 * - Success: returns `{result, target, attempts, skippedTargets}`.
 * - Retryable failure (retry.ts): counts on the target's breaker, retried on the same target up to
 *   `retries.attempts` times after a full-jitter backoff (a `retryAfterSeconds` is the minimum wait; above
 *   `maxBackoffMs` the target is left at once), then the next target is tried. A retry is skipped when the
 *   breaker opened meanwhile.
 * - Final failure (a caller's 4xx, anything not retryable): thrown at once; no retry, no fallback; neutral
 *   for the breaker.
 * @throws the last failure as a `ClawfleetError` of the same code, status and `retryAfterSeconds`, with
 *   `details.attempts` (the {@link AttemptRecord}s) added and the original as `cause`; a failure that is not a
 *   `ClawfleetError` becomes `CF_INTERNAL`. When the caller's signal aborts, throws `signal.reason` as it is.
 */
export async function execute<Result>(plan: RoutePlan, attempt: AttemptFunction<Result>, options: ExecuteOptions): Promise<ExecuteResult<Result>> {
  const { breakers, requestId, signal } = options;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const setTimer = options.setTimer ?? defaultSetTimer;
  const attempts: AttemptRecord[] = [];
  const skippedTargets: SkippedTarget[] = [];
  let attemptNumber = 0;

  async function runAttempt(target: PlannedTarget, permit: BreakerPermit): Promise<AttemptRun<Result>> {
    attemptNumber += 1;
    const key = breakerKey(target);
    const controller = new CallAbortController();
    const stopForwarding = signal ? forwardAbort(signal, controller) : undefined;
    const deadlineMs = attemptDeadlineMs(target);
    // Created only when the timer fires: building an Error captures a stack trace, too dear for every call.
    let timeoutError: ClawfleetError | undefined;
    const cancelTimer = setTimer(() => {
      timeoutError = new ClawfleetError("CF_UPSTREAM_TIMEOUT", `provider ${target.provider} gave no answer within ${deadlineMs} ms`, {
        details: { provider: target.provider, model: target.model, timeoutMs: deadlineMs },
      });
      controller.abort(timeoutError);
    }, deadlineMs);
    let report: (TargetHealthReport & { settled: boolean }) | undefined;
    const context: AttemptContext = {
      requestId,
      signal: controller.signal,
      connectTimeoutMs: target.timeouts.connectMs,
      firstByteTimeoutMs: target.timeouts.firstByteMs,
      idleTimeoutMs: target.timeouts.idleMs,
      target,
      attemptNumber,
      deferHealthReport() {
        if (report) return report;
        const created = {
          settled: false,
          success() {
            if (created.settled) return;
            created.settled = true;
            breakers.recordSuccess(key);
          },
          failure() {
            if (created.settled) return;
            created.settled = true;
            breakers.recordFailure(key);
          },
          release() {
            if (created.settled) return;
            created.settled = true;
            breakers.release(key, permit);
          },
        };
        report = created;
        return created;
      },
    };
    try {
      // One promise settled by whichever comes first, the attempt or the abort of its signal (rather than a
      // `Promise.race` against a separate abort promise: fewer promises and handlers per request). The attempt
      // still starts a microtask later, as a `Promise.resolve().then`, so a synchronous throw is a rejection.
      const value = await new Promise<Result>((resolve, reject) => {
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
        Promise.resolve()
          .then(() => attempt(target, context))
          .then(resolve, reject);
      });
      cancelTimer();
      return { kind: "success", value, deferred: report !== undefined };
    } catch (error) {
      cancelTimer();
      stopForwarding?.();
      if (report) report.settled = true;
      if (signal?.aborted) return { kind: "aborted", reason: signal.reason };
      if (!controller.signal.aborted) controller.abort(error);
      if (timeoutError) return { kind: "failed", error: isClawfleetError(error) && error.code === "CF_UPSTREAM_TIMEOUT" ? error : timeoutError };
      return { kind: "failed", error };
    }
  }

  async function tryTarget(target: PlannedTarget, firstPermit: BreakerPermit, retryLimit: number): Promise<TargetOutcome<Result>> {
    const key = breakerKey(target);
    let permit = firstPermit;
    for (let retriesDone = 0; ; retriesDone += 1) {
      const startedMs = now();
      const run = await runAttempt(target, permit);
      const record: AttemptRecord = { provider: target.provider, model: target.model, outcome: "success", durationMs: now() - startedMs };
      if (permit !== "closed") record.breaker = permit;
      attempts.push(record);
      if (run.kind === "success") {
        if (!run.deferred) breakers.recordSuccess(key);
        return { kind: "success", value: run.value };
      }
      if (run.kind === "aborted") {
        record.outcome = "aborted";
        breakers.release(key, permit);
        throw new CallerAborted(run.reason);
      }
      const error = run.error;
      record.outcome = failureOutcome(error);
      if (isClawfleetError(error)) {
        record.status = error.status;
        record.errorCode = error.code;
      }
      if (!isRetryableFailure(error)) {
        breakers.release(key, permit);
        return { kind: "final", error };
      }
      breakers.recordFailure(key);
      if (breakers.state(key) === "open") return { kind: "exhausted", error };
      const decision = decideRetry(error, { ...target.retries, attempts: retryLimit }, retriesDone, random);
      if (decision.action === "next_target") return { kind: "exhausted", error };
      try {
        await sleep(decision.delayMs, signal);
      } catch (sleepError) {
        if (signal?.aborted) throw new CallerAborted(signal.reason);
        throw sleepError;
      }
      if (signal?.aborted) throw new CallerAborted(signal.reason);
      const next = breakers.acquire(key);
      if (next === undefined) return { kind: "exhausted", error };
      permit = next;
    }
  }

  try {
    signal?.throwIfAborted();
    let lastError: unknown;
    let triedAny = false;
    for (const target of plan.targets) {
      if (signal?.aborted) throw new CallerAborted(signal.reason);
      const permit = breakers.acquire(breakerKey(target));
      if (permit === undefined) {
        skippedTargets.push({ provider: target.provider, model: target.model, reason: "circuit_open" });
        continue;
      }
      triedAny = true;
      const outcome = await tryTarget(target, permit, target.retries.attempts);
      if (outcome.kind === "success") return { result: outcome.value, target, attempts, skippedTargets };
      if (outcome.kind === "final") throw annotate(outcome.error, attempts);
      lastError = outcome.error;
    }
    if (!triedAny) {
      // Every breaker is open: one forced try of the target that has been open longest, no retries.
      const target = leastRecentlyOpened(plan.targets, breakers);
      const outcome = await tryTarget(target, "forced", 0);
      if (outcome.kind === "success") return { result: outcome.value, target, attempts, skippedTargets };
      lastError = outcome.error;
    }
    throw annotate(lastError, attempts);
  } catch (error) {
    if (error instanceof CallerAborted) throw error.reason;
    throw error;
  }
}

/** The target whose breaker opened least recently (the first in plan order on a tie). */
function leastRecentlyOpened(targets: readonly PlannedTarget[], breakers: CircuitBreakerRegistry): PlannedTarget {
  let chosen = targets[0];
  let chosenOpenedAt = Number.POSITIVE_INFINITY;
  for (const target of targets) {
    const openedAt = breakers.openedAt(breakerKey(target)) ?? Number.NEGATIVE_INFINITY;
    if (openedAt < chosenOpenedAt) {
      chosen = target;
      chosenOpenedAt = openedAt;
    }
  }
  if (!chosen) throw new ClawfleetError("CF_INTERNAL", "route plan has no targets");
  return chosen;
}

/** The failure to throw: same code, status and retry-after, `details.attempts` added, original as `cause`. */
function annotate(error: unknown, attempts: AttemptRecord[]): ClawfleetError {
  if (isClawfleetError(error)) {
    return new ClawfleetError(error.code, error.message, {
      status: error.status,
      retryAfterSeconds: error.retryAfterSeconds,
      cause: error,
      details: { ...error.details, attempts },
    });
  }
  return new ClawfleetError("CF_INTERNAL", "a provider call failed unexpectedly", { cause: error, details: { attempts } });
}
