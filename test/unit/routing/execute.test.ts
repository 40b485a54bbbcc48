import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import { CircuitBreakerRegistry } from "../../../src/gateway/routing/circuit-breaker.js";
import { type RouteConfig, routingConfigSchema } from "../../../src/gateway/routing/config.js";
import { type AttemptFunction, type ExecuteOptions, execute } from "../../../src/gateway/routing/execute.js";
import { resolvePlan } from "../../../src/gateway/routing/plan.js";
import { FakeClock, type ScriptedStep, scriptedAttempt, sequenceRandom, timeoutError, unreachableError, upstreamError } from "../../support/routing-fakes.js";

type TargetInput = { provider: string; model?: string; retries?: Partial<RouteConfig["targets"][number]["retries"]>; timeouts?: Partial<RouteConfig["targets"][number]["timeouts"]> };

/** A fallback route over `targets` (model `m`), a fake clock, fresh breakers, and `run(attempt)`. */
function setup(targets: TargetInput[], circuitBreaker = { failureThreshold: 5, cooldownMs: 30_000 }) {
  const clock = new FakeClock();
  const config = routingConfigSchema.parse({
    routes: [{ alias: "default", targets: targets.map((target) => ({ model: "m", ...target })) }],
    circuitBreaker,
  });
  const breakers = new CircuitBreakerRegistry(config.circuitBreaker, clock.now);
  const plan = resolvePlan(config, { model: "default" });
  const run = <Result>(attempt: AttemptFunction<Result>, options: Partial<ExecuteOptions> = {}) =>
    execute(plan, attempt, { breakers, requestId: "req-1", random: () => 0.5, now: clock.now, sleep: clock.sleep, setTimer: clock.setTimer, ...options });
  return { clock, breakers, plan, run };
}

const fail = (error: unknown): ScriptedStep => ({ error });
const ok = (value: string): ScriptedStep => ({ value });

function assertClawfleet(error: unknown, code: string, status?: number): asserts error is ClawfleetError {
  assert.ok(error instanceof ClawfleetError, `expected a ClawfleetError, got ${String(error)}`);
  assert.equal(error.code, code);
  if (status !== undefined) assert.equal(error.status, status);
}

test("success on the first try: the attempt gets the target's timeouts, the request id and a live signal", async () => {
  const { run, clock } = setup([{ provider: "a", timeouts: { connectMs: 100, firstByteMs: 200, idleMs: 300 } }, { provider: "b" }]);
  const script = scriptedAttempt({});
  const outcome = await run(script.attempt);
  assert.equal(outcome.result, "ok:a/m");
  assert.equal(outcome.target.provider, "a");
  assert.deepEqual(outcome.attempts, [{ provider: "a", model: "m", outcome: "success", durationMs: 0 }]);
  assert.deepEqual(outcome.skippedTargets, []);
  const context = script.calls[0]?.context;
  assert.equal(context?.requestId, "req-1");
  assert.equal(context?.attemptNumber, 1);
  assert.deepEqual([context?.connectTimeoutMs, context?.firstByteTimeoutMs, context?.idleTimeoutMs], [100, 200, 300]);
  assert.equal(context?.signal.aborted, false);
  assert.equal(clock.pendingTimers(), 0, "the per-attempt deadline is cancelled once the attempt resolved");
  assert.deepEqual(clock.sleeps, []);
});

test("retries the same target with exponential backoff and full jitter", async () => {
  const { run, clock } = setup([{ provider: "a", retries: { attempts: 3, initialBackoffMs: 100, maxBackoffMs: 1000 } }, { provider: "b" }]);
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(503)), fail(timeoutError()), fail(unreachableError()), ok("third retry")] });
  const outcome = await run(script.attempt, { random: sequenceRandom(0.5, 0.99, 0.25) });
  assert.equal(outcome.result, "third retry");
  assert.deepEqual(clock.sleeps, [50, 198, 100], "random · min(max, 100 · 2^n) for n = 0, 1, 2");
  assert.deepEqual(
    outcome.attempts.map((attempt) => [attempt.outcome, attempt.status]),
    [["upstream_error", 503], ["timeout", 504], ["unreachable", 502], ["success", undefined]],
  );
  assert.deepEqual(script.calls.map((call) => call.attemptNumber), [1, 2, 3, 4]);
  assert.equal(script.callsTo("b/m"), 0);
});

test("backoff stays within [0, cap) and the cap stops at maxBackoffMs", async () => {
  const { run, clock } = setup([{ provider: "a", retries: { attempts: 6, initialBackoffMs: 100, maxBackoffMs: 400 } }], { failureThreshold: 100, cooldownMs: 1000 });
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(500))] });
  await assert.rejects(run(script.attempt, { random: () => 0.999 }));
  assert.deepEqual(clock.sleeps, [99, 199, 399, 399, 399, 399]);
  assert.equal(script.callsTo("a/m"), 7, "first try + 6 retries");
});

test("retry-after sets the minimum delay", async () => {
  const { run, clock } = setup([{ provider: "a" }, { provider: "b" }]);
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(429, 2)), ok("after waiting")] });
  const outcome = await run(script.attempt);
  assert.equal(outcome.result, "after waiting");
  assert.deepEqual(clock.sleeps, [2000], "jitter alone would be 125 ms");
  assert.equal(script.callsTo("b/m"), 0);
});

test("a retry-after above maxBackoffMs moves on to the next target without waiting", async () => {
  const { run, clock } = setup([{ provider: "a", retries: { maxBackoffMs: 8000 } }, { provider: "b" }]);
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(429, 60))] });
  const outcome = await run(script.attempt);
  assert.equal(outcome.target.provider, "b");
  assert.deepEqual(clock.sleeps, []);
  assert.equal(script.callsTo("a/m"), 1);
});

test("the last target's retry-after is kept on the thrown error", async () => {
  const { run } = setup([{ provider: "a", retries: { attempts: 0 } }]);
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(429, 30))] });
  const error = await run(script.attempt).catch((caught: unknown) => caught);
  assertClawfleet(error, "CF_UPSTREAM_ERROR", 429);
  assert.equal(error.retryAfterSeconds, 30);
});

for (const status of [400, 401, 403, 404, 413, 422]) {
  test(`a caller's ${status} is returned at once: no retry, no fallback, no breaker count`, async () => {
    const { run, breakers } = setup([{ provider: "a" }, { provider: "b" }], { failureThreshold: 1, cooldownMs: 1000 });
    const original = upstreamError(status);
    const script = scriptedAttempt({ "a/m": [fail(original)] });
    const error = await run(script.attempt).catch((caught: unknown) => caught);
    assertClawfleet(error, "CF_UPSTREAM_ERROR", status);
    assert.equal(error.cause, original);
    assert.equal(error.message, original.message);
    assert.deepEqual(error.details?.attempts, [{ provider: "a", model: "m", outcome: "rejected", status, errorCode: "CF_UPSTREAM_ERROR", durationMs: 0 }]);
    assert.equal(error.details?.upstreamStatus, status, "the original details are kept");
    assert.equal(script.callsTo("a/m"), 1);
    assert.equal(script.callsTo("b/m"), 0);
    assert.equal(breakers.state("a/m"), "closed");
  });
}

test("an error that is not a ClawfleetError is final and becomes CF_INTERNAL", async () => {
  const { run } = setup([{ provider: "a" }, { provider: "b" }]);
  const bug = new TypeError("cannot read properties of undefined");
  const script = scriptedAttempt({ "a/m": [fail(bug)] });
  const error = await run(script.attempt).catch((caught: unknown) => caught);
  assertClawfleet(error, "CF_INTERNAL", 500);
  assert.equal(error.cause, bug);
  assert.equal(script.callsTo("b/m"), 0);
});

for (const [name, makeError] of [
  ["429", () => upstreamError(429)],
  ["500", () => upstreamError(500)],
  ["503", () => upstreamError(503)],
  ["a timeout", timeoutError],
  ["unreachable", unreachableError],
] as const) {
  test(`falls back to the next target after retries on ${name}`, async () => {
    const { run, clock } = setup([{ provider: "a", retries: { attempts: 1 } }, { provider: "b" }]);
    const script = scriptedAttempt({ "a/m": [fail(makeError())] });
    const outcome = await run(script.attempt);
    assert.equal(outcome.result, "ok:b/m");
    assert.equal(script.callsTo("a/m"), 2);
    assert.deepEqual(outcome.attempts.map((attempt) => attempt.provider), ["a", "a", "b"]);
    assert.equal(clock.sleeps.length, 1);
  });
}

test("when every target fails, the last error is thrown with every attempt in details", async () => {
  const { run } = setup([{ provider: "a", retries: { attempts: 1 } }, { provider: "b", retries: { attempts: 0 } }]);
  const script = scriptedAttempt({ "a/m": [fail(unreachableError())], "b/m": [fail(upstreamError(502))] });
  const error = await run(script.attempt).catch((caught: unknown) => caught);
  assertClawfleet(error, "CF_UPSTREAM_ERROR", 502);
  assert.deepEqual(
    (error.details?.attempts as Array<{ provider: string; outcome: string }>).map((attempt) => `${attempt.provider}:${attempt.outcome}`),
    ["a:unreachable", "a:unreachable", "b:upstream_error"],
  );
});

test("the per-attempt deadline aborts an attempt that ignores its timeouts, as CF_UPSTREAM_TIMEOUT, then falls back", async () => {
  const { run, clock } = setup([{ provider: "a", retries: { attempts: 0 }, timeouts: { connectMs: 10, firstByteMs: 20, idleMs: 30 } }, { provider: "b" }]);
  let seenSignal: AbortSignal | undefined;
  const script = scriptedAttempt({
    "a/m": [
      (context) => {
        seenSignal = context.signal;
        clock.advance(59);
        assert.equal(context.signal.aborted, false);
        clock.advance(1);
        return new Promise<string>(() => undefined);
      },
    ],
  });
  const outcome = await run(script.attempt);
  assert.equal(outcome.result, "ok:b/m");
  assert.deepEqual(outcome.attempts.map((attempt) => [attempt.outcome, attempt.durationMs]), [["timeout", 60], ["success", 0]]);
  assert.equal(seenSignal?.aborted, true);
  assertClawfleet(seenSignal?.reason, "CF_UPSTREAM_TIMEOUT", 504);
});

test("an adapter that rejects with a plain AbortError when the deadline fires is still reported as a timeout", async () => {
  const { run, clock } = setup([{ provider: "a", retries: { attempts: 0 }, timeouts: { connectMs: 1, firstByteMs: 1, idleMs: 1 } }]);
  const script = scriptedAttempt({
    "a/m": [
      (context) =>
        new Promise<string>((_resolve, reject) => {
          context.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
          clock.advance(3);
        }),
    ],
  });
  const error = await run(script.attempt).catch((caught: unknown) => caught);
  assertClawfleet(error, "CF_UPSTREAM_TIMEOUT");
});

test("circuit breaker: opens after the threshold, the target is skipped, half-opens after the cooldown, one trial closes it", async () => {
  const { run, clock, breakers } = setup([{ provider: "a", retries: { attempts: 0 } }, { provider: "b" }], { failureThreshold: 2, cooldownMs: 1000 });
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(500)), fail(upstreamError(500)), ok("a recovered")] });
  assert.equal((await run(script.attempt)).target.provider, "b");
  assert.equal(breakers.state("a/m"), "closed");
  assert.equal((await run(script.attempt)).target.provider, "b");
  assert.equal(breakers.state("a/m"), "open");
  for (let request = 0; request < 3; request += 1) {
    const outcome = await run(script.attempt);
    assert.equal(outcome.target.provider, "b");
    assert.deepEqual(outcome.skippedTargets, [{ provider: "a", model: "m", reason: "circuit_open" }]);
    assert.deepEqual(outcome.attempts.map((attempt) => attempt.provider), ["b"]);
  }
  assert.equal(script.callsTo("a/m"), 2, "no call reaches an open target");
  clock.advance(1000);
  assert.equal(breakers.state("a/m"), "half_open");
  const trial = await run(script.attempt);
  assert.equal(trial.result, "a recovered");
  assert.deepEqual(trial.attempts, [{ provider: "a", model: "m", outcome: "success", durationMs: 0, breaker: "trial" }]);
  assert.equal(breakers.state("a/m"), "closed");
  assert.equal((await run(script.attempt)).target.provider, "a");
});

test("circuit breaker: a failed trial reopens it for another cooldown", async () => {
  const { run, clock, breakers } = setup([{ provider: "a", retries: { attempts: 3 } }, { provider: "b" }], { failureThreshold: 1, cooldownMs: 1000 });
  const script = scriptedAttempt({ "a/m": [fail(unreachableError())] });
  await run(script.attempt);
  assert.equal(script.callsTo("a/m"), 1, "no retry once the failure opened the breaker");
  clock.advance(1000);
  const trial = await run(script.attempt);
  assert.equal(trial.target.provider, "b");
  assert.equal(script.callsTo("a/m"), 2, "the trial is one call, not retried");
  assert.equal(trial.attempts[0]?.breaker, "trial");
  assert.equal(breakers.state("a/m"), "open");
  clock.advance(999);
  await run(script.attempt);
  assert.equal(script.callsTo("a/m"), 2);
});

test("a retry is skipped when the breaker opened meanwhile", async () => {
  const { run, clock } = setup([{ provider: "a", retries: { attempts: 5 } }, { provider: "b" }], { failureThreshold: 2, cooldownMs: 1000 });
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(503))] });
  const outcome = await run(script.attempt);
  assert.equal(outcome.target.provider, "b");
  assert.equal(script.callsTo("a/m"), 2);
  assert.equal(clock.sleeps.length, 1);
});

test("all breakers open: the least recently opened target gets one forced try, without retries", async () => {
  const { run, clock, breakers } = setup([{ provider: "a" }, { provider: "b" }], { failureThreshold: 1, cooldownMs: 10_000 });
  breakers.recordFailure("b/m");
  clock.advance(10);
  breakers.recordFailure("a/m");
  clock.advance(10);
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(500))], "b/m": [fail(upstreamError(500)), ok("b back")] });
  const error = await run(script.attempt).catch((caught: unknown) => caught);
  assertClawfleet(error, "CF_UPSTREAM_ERROR", 500);
  assert.deepEqual(error.details?.attempts, [{ provider: "b", model: "m", outcome: "upstream_error", status: 500, errorCode: "CF_UPSTREAM_ERROR", durationMs: 0, breaker: "forced" }]);
  assert.equal(script.callsTo("a/m"), 0);
  assert.deepEqual(clock.sleeps, []);
  // b failed again, so it is now the most recently opened: the next forced try goes to a.
  clock.advance(10);
  await assert.rejects(run(script.attempt));
  assert.deepEqual(script.calls.map((call) => call.key), ["b/m", "a/m"]);
  clock.advance(10);
  const third = await run(script.attempt);
  assert.equal(third.result, "b back");
  assert.deepEqual(third.skippedTargets.map((target) => target.provider), ["a", "b"]);
  assert.equal(breakers.state("b/m"), "closed", "a forced success closes the breaker");
});

test("caller abort before the start: nothing is called, the reason is thrown as is", async () => {
  const { run } = setup([{ provider: "a" }]);
  const controller = new AbortController();
  const reason = new Error("client went away");
  controller.abort(reason);
  const script = scriptedAttempt({});
  await assert.rejects(run(script.attempt, { signal: controller.signal }), (error) => error === reason);
  assert.equal(script.calls.length, 0);
});

test("caller abort during an attempt stops everything: no retry, no fallback, no breaker count", async () => {
  const { run, breakers } = setup([{ provider: "a" }, { provider: "b" }], { failureThreshold: 1, cooldownMs: 1000 });
  const controller = new AbortController();
  const reason = new Error("client went away");
  let attemptSignal: AbortSignal | undefined;
  const script = scriptedAttempt({
    "a/m": [
      (context) =>
        new Promise<string>((_resolve, reject) => {
          attemptSignal = context.signal;
          context.signal.addEventListener("abort", () => reject(unreachableError()));
          controller.abort(reason);
        }),
    ],
  });
  await assert.rejects(run(script.attempt, { signal: controller.signal }), (error) => error === reason);
  assert.equal(attemptSignal?.aborted, true);
  assert.equal(attemptSignal?.reason, reason);
  assert.deepEqual(script.calls.map((call) => call.key), ["a/m"]);
  assert.equal(breakers.state("a/m"), "closed");
});

test("caller abort during the backoff stops everything", async () => {
  const { run } = setup([{ provider: "a" }, { provider: "b" }]);
  const controller = new AbortController();
  const script = scriptedAttempt({ "a/m": [fail(upstreamError(500))] });
  const sleeps: number[] = [];
  const sleep = async (ms: number, signal: AbortSignal | undefined) => {
    sleeps.push(ms);
    controller.abort("stop");
    signal?.throwIfAborted();
  };
  await assert.rejects(run(script.attempt, { signal: controller.signal, sleep }), (error) => error === "stop");
  assert.equal(sleeps.length, 1);
  assert.deepEqual(script.calls.map((call) => call.key), ["a/m"]);
});

test("after success the attempt's signal still follows the caller's (a stream is cancelled when the caller leaves)", async () => {
  const { run } = setup([{ provider: "a" }]);
  const controller = new AbortController();
  const script = scriptedAttempt({});
  await run(script.attempt, { signal: controller.signal });
  const signal = script.calls[0]?.context.signal;
  assert.equal(signal?.aborted, false);
  controller.abort("bye");
  assert.equal(signal?.aborted, true);
});

test("a deferred health report decides the breaker after the attempt resolved", async () => {
  const { run, clock, breakers } = setup([{ provider: "a" }, { provider: "b" }], { failureThreshold: 1, cooldownMs: 1000 });
  breakers.recordFailure("a/m");
  clock.advance(1000);
  const reports: Array<{ success(): void; failure(error: unknown): void; release(): void }> = [];
  const attempt: AttemptFunction<string> = async (target, context) => {
    reports.push(context.deferHealthReport());
    return target.provider;
  };
  assert.equal((await run(attempt)).result, "a");
  assert.equal(breakers.state("a/m"), "half_open", "the trial is still running (a stream being read)");
  assert.equal((await run(attempt)).result, "b", "a second request may not trial a while the first still streams");
  reports[0]?.failure(timeoutError());
  reports[0]?.success();
  assert.equal(breakers.state("a/m"), "open", "only the first report counts");
  clock.advance(1000);
  assert.equal((await run(attempt)).result, "a");
  reports[2]?.success();
  assert.equal(breakers.state("a/m"), "closed");
});
