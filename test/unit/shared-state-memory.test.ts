/**
 * The in-memory SharedState: the conformance suite (real time), plus exact arithmetic with an injected clock.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemorySharedState } from "../../src/state/memory/shared-state.js";
import { createSharedState } from "../../src/state/index.js";
import { runSharedStateConformance, waitFor } from "../conformance/shared-state.js";

runSharedStateConformance("memory", async () => new MemorySharedState());

/** A clock the test moves by hand, in epoch ms. */
function manualClock(startMs = 1_700_000_000_000) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms), set: (ms: number) => (nowMs = ms) };
}

describe("memory SharedState with an injected clock", () => {
  test("token bucket arithmetic is exact: continuous refill, retryAfterMs, resetMs", async () => {
    const clock = manualClock();
    const state = new MemorySharedState({ now: clock.now });
    const limit = { capacity: 10, refillPerSecond: 2 }; // one token per 500 ms
    assert.deepEqual(await state.takeTokens("k", 10, limit), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 5_000 });
    assert.deepEqual(await state.takeTokens("k", 1, limit), { allowed: false, remaining: 0, retryAfterMs: 500, resetMs: 5_000 });
    clock.advance(250); // 0.5 token
    assert.deepEqual(await state.takeTokens("k", 1, limit), { allowed: false, remaining: 0, retryAfterMs: 250, resetMs: 4_750 });
    clock.advance(250);
    assert.deepEqual(await state.takeTokens("k", 1, limit), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 5_000 });
    clock.advance(1_750); // 3.5 tokens
    assert.deepEqual(await state.takeTokens("k", 3, limit), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 4_750 });
    clock.advance(60_000);
    assert.deepEqual(await state.takeTokens("k", 1, limit), { allowed: true, remaining: 9, retryAfterMs: 0, resetMs: 500 }, "refill stops at capacity");
    await state.close();
  });

  test("a clock stepping backwards neither refills nor drains", async () => {
    const clock = manualClock();
    const state = new MemorySharedState({ now: clock.now });
    const limit = { capacity: 2, refillPerSecond: 1 };
    await state.takeTokens("k", 2, limit);
    clock.advance(-10_000);
    assert.equal((await state.takeTokens("k", 1, limit)).allowed, false);
    clock.advance(10_000 + 1_000);
    assert.equal((await state.takeTokens("k", 1, limit)).allowed, true);
    await state.close();
  });

  test("reservations, leases and cache entries expire exactly at their deadline", async () => {
    const clock = manualClock();
    const state = new MemorySharedState({ now: clock.now });
    const reservation = await state.reserveBudget("budget", 100, 100, { ttlMs: 1_000, periodTtlMs: 10_000 });
    await state.acquireLease("lease", "a", 1_000);
    await state.cacheSet("cache", Buffer.from("v"), 1_000);
    clock.advance(999);
    assert.deepEqual(await state.budgetUsage("budget"), { spentMicros: 0, reservedMicros: 100 });
    assert.equal(await state.leaseOwner("lease"), "a");
    assert.equal((await state.cacheGet("cache"))?.toString(), "v");
    clock.advance(1);
    assert.deepEqual(await state.budgetUsage("budget"), { spentMicros: 0, reservedMicros: 0 });
    assert.equal(await state.leaseOwner("lease"), null);
    assert.equal(await state.cacheGet("cache"), null);
    assert.deepEqual(await state.commitBudget("budget", reservation.reservationId ?? "", 40, { periodTtlMs: 10_000 }), { spentMicros: 40, reservedMicros: 0 });
    clock.advance(10_000);
    assert.deepEqual(await state.budgetUsage("budget"), { spentMicros: 0, reservedMicros: 0 }, "the period ended");
    await state.close();
  });

  test("the periodic sweep keeps the answers unchanged", async () => {
    const clock = manualClock();
    const state = new MemorySharedState({ now: clock.now, sweepIntervalMs: 100 });
    const limit = { capacity: 4, refillPerSecond: 1 };
    await state.takeTokens("partial", 3, limit);
    await state.reserveBudget("budget", 5, 100, { ttlMs: 50, periodTtlMs: 1_000 });
    await state.reserveBudget("budget", 7, 100, { ttlMs: 5_000, periodTtlMs: 10_000 });
    clock.advance(150); // sweep runs on the next call
    assert.equal((await state.takeTokens("partial", 2, limit)).allowed, false, "a bucket that is not full is kept");
    assert.deepEqual(await state.budgetUsage("budget"), { spentMicros: 0, reservedMicros: 7 });
    await state.close();
  });

  test("publish resolves before delivery, and a channel named 'error' is an ordinary channel", async () => {
    const state = new MemorySharedState();
    const received: string[] = [];
    await state.subscribe("error", (message) => received.push(message));
    await state.publish("error", "hello");
    assert.deepEqual(received, [], "delivered asynchronously, like Redis");
    await waitFor(() => received.length === 1, "delivery");
    await state.close();
  });

  test("a throwing subscriber is reported to the logger", async () => {
    const errors: string[] = [];
    const state = new MemorySharedState({ logger: { warn: () => undefined, error: (_details, message) => errors.push(message) } });
    await state.subscribe("c", () => {
      throw new Error("boom");
    });
    await state.publish("c", "m");
    await waitFor(() => errors.length === 1, "the log line");
    await state.close();
  });

  test("createSharedState without a Redis URL gives the memory implementation", async () => {
    const state = createSharedState({});
    assert.equal(state.kind, "memory");
    await state.close();
    assert.equal(createSharedState({ redisUrl: "" }).kind, "memory");
  });
});
