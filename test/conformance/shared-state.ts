/**
 * The one conformance suite of {@link SharedState} (STYLE.md §7), run against every implementation:
 * `test/unit/shared-state-memory.test.ts` (memory) and `test/e2e/shared-state-redis.test.ts` (real Redis).
 * Real time, small windows, every wait bounded (≤ 2 s). Each test uses fresh random keys, so implementations
 * backed by a shared server need no cleanup between tests (only at the end of the file).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { isClawfleetError } from "../../src/contracts/errors.js";
import type { SharedState, TokenBucketLimit } from "../../src/contracts/shared-state.js";

/** A fresh key name, unique across runs and tests. */
export const uniqueKey = (label: string) => `${label}-${randomUUID()}`;

/** Polls `predicate` every 5 ms until it holds; fails after `timeoutMs` (default 2000). */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Slack for timer granularity and the implementation's clock (Redis `TIME`) versus ours, ms. */
const TIMER_SLACK_MS = 5;
/** "About zero" refill: one token per 1000 s. */
const NO_REFILL = 0.001;
const LONG = { ttlMs: 60_000, periodTtlMs: 3_600_000 };

async function assertStateError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => isClawfleetError(error) && error.code === code);
}

/**
 * Registers the suite under `describe("SharedState conformance: <name>")`. `create` returns a fresh, open
 * instance; the suite closes every instance it creates.
 */
export function runSharedStateConformance(name: string, create: () => Promise<SharedState>): void {
  async function withState(body: (state: SharedState) => Promise<void>): Promise<void> {
    const state = await create();
    try {
      await body(state);
    } finally {
      await state.close();
    }
  }

  describe(`SharedState conformance: ${name}`, () => {
    describe("token buckets", () => {
      test("allows up to capacity, then refuses with a retryAfterMs that is enough and not too long", () =>
        withState(async (state) => {
          const key = uniqueKey("bucket");
          const limit: TokenBucketLimit = { capacity: 3, refillPerSecond: 10 }; // one token per 100 ms
          const first = await state.takeTokens(key, 1, limit);
          assert.equal(first.allowed, true);
          assert.equal(first.remaining, 2);
          assert.equal(first.retryAfterMs, 0);
          assert.ok(first.resetMs > 0 && first.resetMs <= 100, `resetMs ${first.resetMs}`);
          assert.deepEqual([(await state.takeTokens(key, 1, limit)).remaining, (await state.takeTokens(key, 1, limit)).remaining], [1, 0]);

          const refusedOne = await state.takeTokens(key, 1, limit);
          assert.equal(refusedOne.allowed, false);
          assert.equal(refusedOne.remaining, 0);
          assert.ok(refusedOne.retryAfterMs >= 1 && refusedOne.retryAfterMs <= 100, `retryAfterMs ${refusedOne.retryAfterMs}`);
          assert.ok(refusedOne.resetMs > 200 && refusedOne.resetMs <= 300, `resetMs ${refusedOne.resetMs}`);
          const refusedTwo = await state.takeTokens(key, 2, limit);
          assert.equal(refusedTwo.allowed, false);
          assert.ok(refusedTwo.retryAfterMs > 100 && refusedTwo.retryAfterMs <= 200, `retryAfterMs ${refusedTwo.retryAfterMs}`);

          await sleep(refusedOne.retryAfterMs + TIMER_SLACK_MS);
          assert.equal((await state.takeTokens(key, 1, limit)).allowed, true, "waiting retryAfterMs is enough");
          assert.equal((await state.takeTokens(uniqueKey("other-bucket"), 3, limit)).allowed, true, "keys are independent");
        }));

      test("refills continuously over time, up to capacity", () =>
        withState(async (state) => {
          const key = uniqueKey("bucket");
          const limit: TokenBucketLimit = { capacity: 4, refillPerSecond: 10 }; // one token per 100 ms
          assert.equal((await state.takeTokens(key, 4, limit)).allowed, true);
          assert.equal((await state.takeTokens(key, 1, limit)).allowed, false);
          await sleep(250); // 2.5 tokens (timers may overshoot by < 50 ms)
          const two = await state.takeTokens(key, 2, limit);
          assert.equal(two.allowed, true);
          assert.equal(two.remaining, 0);
          const refused = await state.takeTokens(key, 1, limit);
          assert.equal(refused.allowed, false);
          assert.ok(refused.retryAfterMs >= 1 && refused.retryAfterMs < 100, `the fraction of a token was kept: retryAfterMs ${refused.retryAfterMs}`);
          await sleep(500); // more than 4 tokens' worth: the level stops at capacity
          const full = await state.takeTokens(key, 4, limit);
          assert.equal(full.allowed, true);
          assert.equal((await state.takeTokens(key, 1, limit)).allowed, false);
        }));

      test("refusals do not consume", () =>
        withState(async (state) => {
          const key = uniqueKey("bucket");
          const limit: TokenBucketLimit = { capacity: 5, refillPerSecond: NO_REFILL };
          assert.equal((await state.takeTokens(key, 3, limit)).remaining, 2);
          for (let attempt = 0; attempt < 5; attempt += 1) assert.equal((await state.takeTokens(key, 3, limit)).allowed, false);
          const last = await state.takeTokens(key, 2, limit);
          assert.equal(last.allowed, true);
          assert.equal(last.remaining, 0);
        }));

      test("retryAfterMs is Infinity when the tokens will never be there", () =>
        withState(async (state) => {
          const tooBig = await state.takeTokens(uniqueKey("bucket"), 6, { capacity: 5, refillPerSecond: 10 });
          assert.equal(tooBig.allowed, false);
          assert.equal(tooBig.retryAfterMs, Number.POSITIVE_INFINITY);
          const key = uniqueKey("bucket");
          const noRefill: TokenBucketLimit = { capacity: 1, refillPerSecond: 0 };
          assert.equal((await state.takeTokens(key, 1, noRefill)).resetMs, Number.POSITIVE_INFINITY);
          const refused = await state.takeTokens(key, 1, noRefill);
          assert.equal(refused.allowed, false);
          assert.equal(refused.retryAfterMs, Number.POSITIVE_INFINITY);
          assert.equal((await state.takeTokens(uniqueKey("bucket"), 0, noRefill)).allowed, true, "a zero cost is always allowed on a non-empty bucket");
        }));

      test("adjustTokens gives back up to capacity and consumes without a check", () =>
        withState(async (state) => {
          const limit: TokenBucketLimit = { capacity: 5, refillPerSecond: NO_REFILL };
          const key = uniqueKey("bucket");
          assert.equal((await state.takeTokens(key, 5, limit)).allowed, true);
          await state.adjustTokens(key, 2, limit);
          assert.equal((await state.takeTokens(key, 2, limit)).allowed, true);
          assert.equal((await state.takeTokens(key, 1, limit)).allowed, false);
          await state.adjustTokens(key, 100, limit);
          assert.equal((await state.takeTokens(key, 5, limit)).allowed, true);
          assert.equal((await state.takeTokens(key, 1, limit)).allowed, false, "capped at capacity");

          const consumed = uniqueKey("bucket");
          await state.adjustTokens(consumed, -3, limit);
          assert.equal((await state.takeTokens(consumed, 3, limit)).allowed, false);
          assert.equal((await state.takeTokens(consumed, 2, limit)).allowed, true);

          const debt = uniqueKey("bucket");
          const refilling: TokenBucketLimit = { capacity: 2, refillPerSecond: 10 };
          await state.adjustTokens(debt, -4, refilling); // 2 - 4 = -2 tokens
          const refused = await state.takeTokens(debt, 1, refilling);
          assert.equal(refused.allowed, false);
          assert.ok(refused.retryAfterMs > 200 && refused.retryAfterMs <= 300, `debt is repaid by refill first: retryAfterMs ${refused.retryAfterMs}`);
        }));

      test("500 concurrent takes on a bucket of 50 with no refill: exactly 50 allowed", () =>
        withState(async (state) => {
          const key = uniqueKey("bucket");
          const limit: TokenBucketLimit = { capacity: 50, refillPerSecond: NO_REFILL };
          const results = await Promise.all(Array.from({ length: 500 }, () => state.takeTokens(key, 1, limit)));
          assert.equal(results.filter((result) => result.allowed).length, 50);
          assert.ok(results.filter((result) => !result.allowed).every((result) => result.remaining === 0 && result.retryAfterMs > 0));
        }));
    });

    describe("budgets", () => {
      test("reserves up to the limit, refuses beyond, commits actual cost, releases, reports usage", () =>
        withState(async (state) => {
          const key = uniqueKey("budget");
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 0, reservedMicros: 0 });
          const first = await state.reserveBudget(key, 400, 1_000, LONG);
          assert.equal(first.ok, true);
          assert.equal(typeof first.reservationId, "string");
          assert.deepEqual(first.usage, { spentMicros: 0, reservedMicros: 400 });
          const second = await state.reserveBudget(key, 400, 1_000, LONG);
          assert.deepEqual(second.usage, { spentMicros: 0, reservedMicros: 800 });
          assert.notEqual(second.reservationId, first.reservationId);
          assert.deepEqual(await state.reserveBudget(key, 300, 1_000, LONG), { ok: false, reservationId: null, usage: { spentMicros: 0, reservedMicros: 800 } });

          assert.deepEqual(await state.commitBudget(key, first.reservationId ?? "", 550, LONG), { spentMicros: 550, reservedMicros: 400 }, "actual above the reservation");
          assert.equal((await state.reserveBudget(key, 100, 1_000, LONG)).ok, false);
          const exact = await state.reserveBudget(key, 50, 1_000, LONG);
          assert.equal(exact.ok, true, "spent + reserved + amount == limit is allowed");
          assert.deepEqual(exact.usage, { spentMicros: 550, reservedMicros: 450 });

          await state.releaseBudget(key, second.reservationId ?? "");
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 550, reservedMicros: 50 });
          await state.releaseBudget(key, second.reservationId ?? "");
          await state.releaseBudget(key, "unknown-reservation");
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 550, reservedMicros: 50 }, "releasing twice or an unknown id changes nothing");
          assert.deepEqual(await state.commitBudget(key, "unknown-reservation", 10, LONG), { spentMicros: 560, reservedMicros: 50 }, "an unknown id just adds the cost");
          assert.deepEqual(await state.commitBudget(key, exact.reservationId ?? "", 20, LONG), { spentMicros: 580, reservedMicros: 0 }, "actual below the reservation");
          assert.deepEqual(await state.budgetUsage(uniqueKey("budget")), { spentMicros: 0, reservedMicros: 0 }, "budgets are independent");
        }));

      test("an uncommitted reservation expires after its ttl", () =>
        withState(async (state) => {
          const key = uniqueKey("budget");
          const short = { ttlMs: 200, periodTtlMs: 60_000 };
          const held = await state.reserveBudget(key, 100, 100, short);
          assert.equal(held.ok, true);
          assert.equal((await state.reserveBudget(key, 1, 100, short)).ok, false);
          await sleep(350);
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 0, reservedMicros: 0 });
          const again = await state.reserveBudget(key, 100, 100, LONG);
          assert.equal(again.ok, true);
          assert.deepEqual(await state.commitBudget(key, held.reservationId ?? "", 30, LONG), { spentMicros: 30, reservedMicros: 100 }, "committing an expired id just adds the cost");
        }));

      test("the budget itself is forgotten after periodTtlMs", () =>
        withState(async (state) => {
          const key = uniqueKey("budget");
          await state.commitBudget(key, "none", 70, { periodTtlMs: 150 });
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 70, reservedMicros: 0 });
          await sleep(300);
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 0, reservedMicros: 0 });
        }));

      test("200 concurrent reservations against room for exactly 10: exactly 10 succeed", () =>
        withState(async (state) => {
          const key = uniqueKey("budget");
          await state.commitBudget(key, "warm-up", 500, LONG); // room left: 1_500 - 500 = 1_000 = 10 × 100
          const results = await Promise.all(Array.from({ length: 200 }, () => state.reserveBudget(key, 100, 1_500, LONG)));
          const accepted = results.filter((result) => result.ok);
          assert.equal(accepted.length, 10);
          assert.equal(new Set(accepted.map((result) => result.reservationId)).size, 10);
          assert.ok(results.every((result) => result.usage.spentMicros + result.usage.reservedMicros <= 1_500));
          assert.deepEqual(await state.budgetUsage(key), { spentMicros: 500, reservedMicros: 1_000 });
        }));
    });

    describe("cache", () => {
      test("get, set, overwrite and expiry", () =>
        withState(async (state) => {
          const key = uniqueKey("cache");
          assert.equal(await state.cacheGet(key), null);
          await state.cacheSet(key, Buffer.from("first"), 60_000);
          assert.equal((await state.cacheGet(key))?.toString(), "first");
          await state.cacheSet(key, Buffer.from("second"), 60_000);
          assert.equal((await state.cacheGet(key))?.toString(), "second");
          const short = uniqueKey("cache");
          await state.cacheSet(short, Buffer.from("brief"), 100);
          assert.equal((await state.cacheGet(short))?.toString(), "brief");
          await sleep(250);
          assert.equal(await state.cacheGet(short), null);
        }));

      test("values are binary-safe and stored by value", () =>
        withState(async (state) => {
          const key = uniqueKey("cache");
          const bytes = Buffer.from(Array.from({ length: 512 }, (_, index) => (index * 7) % 256)); // every byte, invalid UTF-8 included
          await state.cacheSet(key, bytes, 60_000);
          bytes[0] = 255;
          const stored = await state.cacheGet(key);
          assert.ok(Buffer.isBuffer(stored));
          assert.equal(stored.length, 512);
          assert.equal(stored[0], 0, "changing the caller's buffer afterwards does not change the cache");
          assert.ok(stored.subarray(1).equals(bytes.subarray(1)));
          await state.cacheSet(uniqueKey("cache"), Buffer.alloc(0), 60_000);
        }));
    });

    describe("pub/sub", () => {
      test("delivers to every subscriber in order, only on its channel; unsubscribe stops delivery", () =>
        withState(async (state) => {
          const channel = uniqueKey("channel");
          const first: string[] = [];
          const second: string[] = [];
          const elsewhere: string[] = [];
          const unsubscribeFirst = await state.subscribe(channel, (message) => first.push(message));
          const unsubscribeSecond = await state.subscribe(channel, (message) => second.push(message));
          const unsubscribeElsewhere = await state.subscribe(uniqueKey("channel"), (message) => elsewhere.push(message));
          for (const message of ["one", "two", "three"]) await state.publish(channel, message);
          await waitFor(() => first.length === 3 && second.length === 3, "both subscribers");
          assert.deepEqual(first, ["one", "two", "three"]);
          assert.deepEqual(second, ["one", "two", "three"]);

          await unsubscribeFirst();
          await unsubscribeFirst(); // idempotent
          await state.publish(channel, "four");
          await waitFor(() => second.length === 4, "the remaining subscriber");
          await sleep(50);
          assert.deepEqual(first, ["one", "two", "three"]);
          assert.deepEqual(elsewhere, []);

          await unsubscribeSecond();
          const again: string[] = [];
          const unsubscribeAgain = await state.subscribe(channel, (message) => again.push(message));
          await state.publish(channel, "five");
          await waitFor(() => again.length === 1, "a subscriber added after the channel was left");
          assert.deepEqual(second, ["one", "two", "three", "four"]);
          await unsubscribeAgain();
          await unsubscribeElsewhere();
          await state.publish(channel, "nobody listens");
        }));

      test("a subscriber that throws does not stop the others", () =>
        withState(async (state) => {
          const channel = uniqueKey("channel");
          const received: string[] = [];
          await state.subscribe(channel, () => {
            throw new Error("subscriber failure (expected by the test)");
          });
          await state.subscribe(channel, (message) => received.push(message));
          await state.publish(channel, "still delivered");
          await waitFor(() => received.length === 1, "the healthy subscriber");
        }));
    });

    describe("leases", () => {
      test("acquire, renew by the owner, refuse others, release only by the owner", () =>
        withState(async (state) => {
          const lease = uniqueKey("lease");
          assert.equal(await state.leaseOwner(lease), null);
          assert.equal(await state.acquireLease(lease, "replica-a", 10_000), true);
          assert.equal(await state.leaseOwner(lease), "replica-a");
          assert.equal(await state.acquireLease(lease, "replica-b", 10_000), false);
          assert.equal(await state.acquireLease(lease, "replica-a", 10_000), true, "renewal by the owner");
          await state.releaseLease(lease, "replica-b");
          assert.equal(await state.leaseOwner(lease), "replica-a", "only the owner releases");
          await state.releaseLease(lease, "replica-a");
          assert.equal(await state.leaseOwner(lease), null);
          assert.equal(await state.acquireLease(lease, "replica-b", 10_000), true);
          assert.equal(await state.leaseOwner(lease), "replica-b");
        }));

      test("a lease expires unless renewed", () =>
        withState(async (state) => {
          const lease = uniqueKey("lease");
          assert.equal(await state.acquireLease(lease, "replica-a", 300), true);
          await sleep(150);
          assert.equal(await state.acquireLease(lease, "replica-a", 300), true, "renewed before expiry");
          await sleep(150);
          assert.equal(await state.leaseOwner(lease), "replica-a", "the renewal extended it");
          assert.equal(await state.acquireLease(lease, "replica-b", 300), false);
          await sleep(300);
          assert.equal(await state.leaseOwner(lease), null);
          assert.equal(await state.acquireLease(lease, "replica-b", 300), true);
        }));

      test("200 concurrent acquisitions by different owners: exactly one wins", () =>
        withState(async (state) => {
          const lease = uniqueKey("lease");
          const results = await Promise.all(Array.from({ length: 200 }, (_, index) => state.acquireLease(lease, `replica-${index}`, 10_000)));
          assert.equal(results.filter(Boolean).length, 1);
          assert.equal(await state.leaseOwner(lease), `replica-${results.indexOf(true)}`);
        }));
    });

    describe("errors", () => {
      test("invalid arguments are refused with CF_INTERNAL before anything changes", () =>
        withState(async (state) => {
          await assertStateError(state.takeTokens(uniqueKey("bucket"), 1, { capacity: 0, refillPerSecond: 1 }), "CF_INTERNAL");
          await assertStateError(state.takeTokens(uniqueKey("bucket"), -1, { capacity: 1, refillPerSecond: 1 }), "CF_INTERNAL");
          await assertStateError(state.takeTokens(uniqueKey("bucket"), 1, { capacity: 1, refillPerSecond: Number.NaN }), "CF_INTERNAL");
          await assertStateError(state.reserveBudget(uniqueKey("budget"), 1.5, 10, LONG), "CF_INTERNAL");
          await assertStateError(state.reserveBudget(uniqueKey("budget"), 1, 10, { ttlMs: 0, periodTtlMs: 1_000 }), "CF_INTERNAL");
          await assertStateError(state.cacheSet(uniqueKey("cache"), Buffer.from("x"), 0), "CF_INTERNAL");
          await assertStateError(state.acquireLease(uniqueKey("lease"), "", 1_000), "CF_INTERNAL");
        }));

      test("after close every call rejects with CF_STATE_UNAVAILABLE; close is idempotent", async () => {
        const state = await create();
        await state.close();
        await state.close();
        await assertStateError(state.takeTokens(uniqueKey("bucket"), 1, { capacity: 1, refillPerSecond: 1 }), "CF_STATE_UNAVAILABLE");
        await assertStateError(state.budgetUsage(uniqueKey("budget")), "CF_STATE_UNAVAILABLE");
        await assertStateError(state.cacheGet(uniqueKey("cache")), "CF_STATE_UNAVAILABLE");
        await assertStateError(state.publish(uniqueKey("channel"), "late"), "CF_STATE_UNAVAILABLE");
        await assertStateError(state.leaseOwner(uniqueKey("lease")), "CF_STATE_UNAVAILABLE");
      });
    });
  });
}
