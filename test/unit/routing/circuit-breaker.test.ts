import assert from "node:assert/strict";
import { test } from "node:test";
import { CircuitBreakerRegistry, breakerKey } from "../../../src/gateway/routing/circuit-breaker.js";
import { FakeClock } from "../../support/routing-fakes.js";

const key = breakerKey({ provider: "openai", model: "gpt-4o-mini" });

test("breaker keys are provider/model", () => {
  assert.equal(key, "openai/gpt-4o-mini");
});

test("closed → open after `failureThreshold` consecutive failures; a success in between resets the count", () => {
  const clock = new FakeClock();
  const breakers = new CircuitBreakerRegistry({ failureThreshold: 3, cooldownMs: 1000 }, clock.now);
  breakers.recordFailure(key);
  breakers.recordFailure(key);
  breakers.recordSuccess(key);
  breakers.recordFailure(key);
  breakers.recordFailure(key);
  assert.equal(breakers.state(key), "closed");
  assert.equal(breakers.acquire(key), "closed");
  breakers.recordFailure(key);
  assert.equal(breakers.state(key), "open");
  assert.equal(breakers.openedAt(key), clock.nowMs);
  assert.equal(breakers.acquire(key), undefined);
});

test("open → half-open after the cooldown: exactly one trial; success closes, failure reopens for another cooldown", () => {
  const clock = new FakeClock();
  const breakers = new CircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 1000 }, clock.now);
  breakers.recordFailure(key);
  clock.advance(999);
  assert.equal(breakers.acquire(key), undefined);
  clock.advance(1);
  assert.equal(breakers.state(key), "half_open");
  assert.equal(breakers.acquire(key), "trial");
  assert.equal(breakers.acquire(key), undefined, "a second caller may not trial at the same time");
  breakers.recordFailure(key);
  assert.equal(breakers.state(key), "open");
  assert.equal(breakers.openedAt(key), clock.nowMs);
  clock.advance(1000);
  assert.equal(breakers.acquire(key), "trial");
  breakers.recordSuccess(key);
  assert.equal(breakers.state(key), "closed");
  assert.equal(breakers.acquire(key), "closed");
  assert.deepEqual(breakers.snapshot(), [{ key, state: "closed", consecutiveFailures: 0, openedAtMs: clock.nowMs - 1000 }]);
});

test("a released trial frees the slot; releasing a normal call changes nothing", () => {
  const clock = new FakeClock();
  const breakers = new CircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 10 }, clock.now);
  breakers.recordFailure(key);
  clock.advance(10);
  assert.equal(breakers.acquire(key), "trial");
  breakers.release(key, "trial");
  assert.equal(breakers.acquire(key), "trial");
  breakers.release(key, "closed");
  assert.equal(breakers.acquire(key), undefined);
});

test("breakers are per target, and configure() keeps their states", () => {
  const clock = new FakeClock();
  const breakers = new CircuitBreakerRegistry({ failureThreshold: 2, cooldownMs: 1000 }, clock.now);
  const other = breakerKey({ provider: "openai", model: "gpt-4o" });
  breakers.recordFailure(key);
  breakers.recordFailure(key);
  assert.equal(breakers.state(key), "open");
  assert.equal(breakers.state(other), "closed");
  breakers.configure({ failureThreshold: 2, cooldownMs: 5000 });
  clock.advance(1000);
  assert.equal(breakers.state(key), "open", "the new cooldown applies to the open breaker");
  clock.advance(4000);
  assert.equal(breakers.state(key), "half_open");
});
