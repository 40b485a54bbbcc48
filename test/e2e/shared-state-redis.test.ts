/**
 * The Redis SharedState against the real Redis of this machine (`CLAWFLEET_TEST_REDIS_URL`, default
 * redis://127.0.0.1:6379): the conformance suite, then several instances (one connection each, as separate
 * replicas would have) sharing one limit. Every key lives under a prefix unique to this run and is deleted at
 * the end.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { isClawfleetError } from "../../src/contracts/errors.js";
import type { SharedState } from "../../src/contracts/shared-state.js";
import { createSharedState } from "../../src/state/index.js";
import { RedisSharedState } from "../../src/state/redis/shared-state.js";
import { LuaScript } from "../../src/state/redis/scripts.js";
import { runSharedStateConformance, uniqueKey, waitFor } from "../conformance/shared-state.js";

const REDIS_URL = process.env.CLAWFLEET_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `clawfleet-test:${randomUUID()}:`;
const admin = new Redis(REDIS_URL, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 });

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found;
}

before(async () => {
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    throw new Error(`these tests need a Redis at ${REDIS_URL} (set CLAWFLEET_TEST_REDIS_URL): ${String(error)}`);
  }
});

after(async () => {
  const keys = await keysUnder(PREFIX);
  if (keys.length > 0) await admin.del(...keys);
  assert.deepEqual(await keysUnder(PREFIX), []);
  await admin.quit();
});

const open = (keyPrefix = PREFIX) => new RedisSharedState({ url: REDIS_URL, keyPrefix });

runSharedStateConformance("redis", async () => open());

/** Runs `body` with `count` instances (separate connections) and closes them all. */
async function withReplicas(count: number, body: (replicas: SharedState[]) => Promise<void>): Promise<void> {
  const replicas = Array.from({ length: count }, () => open());
  try {
    await body(replicas);
  } finally {
    await Promise.all(replicas.map((replica) => replica.close()));
  }
}

describe("redis SharedState across replicas", () => {
  test("3 replicas hammering one token bucket: total allowed equals capacity exactly", () =>
    withReplicas(3, async (replicas) => {
      const key = uniqueKey("bucket");
      const limit = { capacity: 100, refillPerSecond: 0.001 };
      const perReplica = await Promise.all(
        replicas.map(async (replica) => {
          const results = await Promise.all(Array.from({ length: 250 }, () => replica.takeTokens(key, 1, limit)));
          return results.filter((result) => result.allowed).length;
        }),
      );
      assert.equal(
        perReplica.reduce((sum, allowed) => sum + allowed, 0),
        100,
        `allowed per replica: ${perReplica.join(", ")}`,
      );
    }));

  test("3 replicas × 100 concurrent reservations against room for 10: exactly 10 succeed", () =>
    withReplicas(3, async (replicas) => {
      const key = uniqueKey("budget");
      const options = { ttlMs: 60_000, periodTtlMs: 600_000 };
      const accepted = (await Promise.all(replicas.flatMap((replica) => Array.from({ length: 100 }, () => replica.reserveBudget(key, 250, 2_500, options))))).filter((result) => result.ok);
      assert.equal(accepted.length, 10);
      const [first] = replicas as [SharedState];
      assert.deepEqual(await first.budgetUsage(key), { spentMicros: 0, reservedMicros: 2_500 });
    }));

  test("pub/sub reaches every replica, the publisher included", () =>
    withReplicas(3, async (replicas) => {
      const channel = uniqueKey("channel");
      const received = replicas.map(() => [] as string[]);
      await Promise.all(replicas.map((replica, index) => replica.subscribe(channel, (message) => received[index]?.push(message))));
      await replicas[0]?.publish(channel, "from-0");
      await replicas[2]?.publish(channel, "from-2");
      await waitFor(() => received.every((messages) => messages.length === 2), "every replica");
      for (const messages of received) assert.deepEqual(messages, ["from-0", "from-2"]);
    }));

  test("one lease, three replicas: exactly one owner, seen by all", () =>
    withReplicas(3, async (replicas) => {
      const lease = uniqueKey("lease");
      const won = await Promise.all(replicas.map((replica, index) => replica.acquireLease(lease, `replica-${index}`, 10_000)));
      assert.equal(won.filter(Boolean).length, 1);
      const owners = await Promise.all(replicas.map((replica) => replica.leaseOwner(lease)));
      assert.ok(owners.every((owner) => owner === `replica-${won.indexOf(true)}`));
    }));
});

describe("redis SharedState storage", () => {
  test("key prefixes isolate deployments", async () => {
    const otherPrefix = `${PREFIX}other:`;
    const [mine, theirs] = [open(), open(otherPrefix)];
    try {
      const key = uniqueKey("bucket");
      assert.equal((await mine.takeTokens(key, 1, { capacity: 1, refillPerSecond: 0.001 })).allowed, true);
      assert.equal((await theirs.takeTokens(key, 1, { capacity: 1, refillPerSecond: 0.001 })).allowed, true);
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
    }
  });

  test("every key carries a TTL: buckets until full, budgets for their period", async () => {
    const state = open();
    try {
      const bucket = uniqueKey("bucket");
      await state.takeTokens(bucket, 3, { capacity: 10, refillPerSecond: 10 });
      const bucketKey = `${PREFIX}bucket:${bucket}`;
      assert.deepEqual(Object.keys(await admin.hgetall(bucketKey)).sort(), ["tokens", "updatedMs"]);
      const bucketTtl = await admin.pttl(bucketKey);
      assert.ok(bucketTtl > 200 && bucketTtl <= 300, `bucket PTTL ${bucketTtl}`);
      await state.adjustTokens(bucket, 3, { capacity: 10, refillPerSecond: 10 });
      assert.equal(await admin.exists(bucketKey), 0, "a full bucket is not stored");

      const budget = uniqueKey("budget");
      await state.reserveBudget(budget, 5, 100, { ttlMs: 1_000, periodTtlMs: 90_000 });
      for (const key of [`${PREFIX}budget:{${budget}}`, `${PREFIX}budget:{${budget}}:reservations`]) {
        const ttl = await admin.pttl(key);
        assert.ok(ttl > 80_000 && ttl <= 90_000, `${key} PTTL ${ttl}`);
      }
      const [cache, lease] = [uniqueKey("cache"), uniqueKey("lease")];
      await state.cacheSet(cache, Buffer.from("x"), 5_000);
      await state.acquireLease(lease, "owner", 5_000);
      for (const key of [`${PREFIX}cache:${cache}`, `${PREFIX}lease:${lease}`]) {
        const ttl = await admin.pttl(key);
        assert.ok(ttl > 4_000 && ttl <= 5_000, `${key} PTTL ${ttl}`);
      }
    } finally {
      await state.close();
    }
  });

  test("a script Redis does not know yet runs through the EVAL fallback, then by SHA1", async () => {
    const script = new LuaScript("probe", `return {KEYS[1], ARGV[1], '${randomUUID()}'}`);
    assert.deepEqual(await admin.script("EXISTS", script.sha1), [0]);
    const first = await script.run(admin, [`${PREFIX}probe`], ["argument"]);
    assert.deepEqual((first as string[]).slice(0, 2), [`${PREFIX}probe`, "argument"]);
    assert.deepEqual(await admin.script("EXISTS", script.sha1), [1]);
    assert.deepEqual(await script.run(admin, [`${PREFIX}probe`], ["argument"]), first);
  });

  test("an unreachable Redis rejects calls with CF_STATE_UNAVAILABLE, quickly", async () => {
    const state = new RedisSharedState({ url: "redis://127.0.0.1:1", keyPrefix: PREFIX, redisOptions: { connectTimeout: 500 } });
    const started = Date.now();
    try {
      await assert.rejects(state.takeTokens("k", 1, { capacity: 1, refillPerSecond: 1 }), (error: unknown) => isClawfleetError(error) && error.code === "CF_STATE_UNAVAILABLE" && error.retryable && error.status === 503);
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    } finally {
      await state.close();
    }
  });

  test("createSharedState with a Redis URL gives the Redis implementation", async () => {
    const state = createSharedState({ redisUrl: REDIS_URL, keyPrefix: PREFIX });
    try {
      assert.equal(state.kind, "redis");
      assert.equal(await state.acquireLease(uniqueKey("lease"), "factory", 1_000), true);
    } finally {
      await state.close();
    }
  });
});
