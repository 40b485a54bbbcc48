/**
 * The Lua scripts behind every read-modify-write of the Redis {@link SharedState}. A script runs atomically on
 * the Redis server, so any number of replicas sharing one Redis enforce exactly one limit.
 *
 * Clock: scripts that need the time read it from Redis (`TIME`, µs precision), never from the caller, so
 * replicas with skewed clocks agree. Since Redis 5 scripts are replicated by their effects, which makes `TIME`
 * before a write legal; `redis.replicate_commands()` switches that on for Redis 3.2–4 (a no-op since 7.0).
 * Source: https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ ("Script replication").
 *
 * Numbers cross the Lua boundary as decimal strings; Lua numbers are doubles, exact for integers below 2^53
 * (USD micro-units up to ~9 billion dollars). An infinite duration is returned as -1.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** Helpers prepended to every script. */
const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local EPSILON = 1e-6
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
local function integer(value)
  return string.format('%d', value)
end
`;

/** Token-bucket helpers; the same arithmetic as src/state/token-bucket.ts. */
const BUCKET = `
local function level_at(key, capacity, rate, now)
  local stored = redis.call('HMGET', key, 'tokens', 'updatedMs')
  local tokens = tonumber(stored[1])
  local updated = tonumber(stored[2])
  if tokens == nil or updated == nil then return capacity end
  local elapsed = math.max(0, now - updated)
  return math.min(capacity, tokens + elapsed * rate / 1000)
end
local function ms_until(tokens, target, capacity, rate)
  if tokens + EPSILON >= target then return 0 end
  if target > capacity or rate <= 0 then return -1 end
  local ms = math.ceil((target - tokens) * 1000 / rate)
  if ms > 9007199254740991 then return -1 end
  return ms
end
-- Writes the level; the key lives until the bucket would be full again (a missing bucket is a full one).
local function store(key, tokens, now, capacity, rate)
  local reset = ms_until(tokens, capacity, capacity, rate)
  if reset == 0 then
    redis.call('DEL', key)
    return reset
  end
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'updatedMs', string.format('%.17g', now))
  if reset < 0 then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, integer(reset)) end
  return reset
end
`;

/**
 * KEYS[1] bucket HASH {tokens, updatedMs}. ARGV: cost, capacity, refillPerSecond.
 * Returns {allowed 0|1, remaining, retryAfterMs, resetMs}; a refused take writes nothing.
 */
const TAKE_TOKENS = `${PRELUDE}${BUCKET}
local cost = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local now = now_ms()
local tokens = level_at(KEYS[1], capacity, rate, now)
if tokens + EPSILON >= cost then
  local after = math.max(0, tokens - cost)
  local reset = store(KEYS[1], after, now, capacity, rate)
  return {1, math.floor(after + EPSILON), 0, reset}
end
return {0, 0, ms_until(tokens, cost, capacity, rate), ms_until(tokens, capacity, capacity, rate)}
`;

/** KEYS[1] bucket HASH. ARGV: amount (may be negative), capacity, refillPerSecond. Returns 1. */
const ADJUST_TOKENS = `${PRELUDE}${BUCKET}
local amount = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local now = now_ms()
store(KEYS[1], math.min(capacity, level_at(KEYS[1], capacity, rate, now) + amount), now, capacity, rate)
return 1
`;

/**
 * Budget helpers. KEYS[1] is a HASH {spent, reserved, r:<id> = amount}, KEYS[2] a ZSET of reservation ids
 * scored by their expiry (epoch ms, Redis clock). \`purge\` drops reservations whose expiry is ≤ now.
 */
const BUDGET = `
local function purge(budget, expiries, now)
  local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', integer(now))
  if #expired == 0 then return end
  local total = 0
  for _, id in ipairs(expired) do
    total = total + tonumber(redis.call('HGET', budget, 'r:' .. id) or '0')
    redis.call('HDEL', budget, 'r:' .. id)
  end
  redis.call('ZREMRANGEBYSCORE', expiries, '-inf', integer(now))
  if total ~= 0 then redis.call('HINCRBY', budget, 'reserved', integer(-total)) end
end
local function drop(budget, expiries, id)
  local amount = tonumber(redis.call('HGET', budget, 'r:' .. id) or '')
  if amount == nil then return end
  redis.call('HDEL', budget, 'r:' .. id)
  redis.call('ZREM', expiries, id)
  if amount ~= 0 then redis.call('HINCRBY', budget, 'reserved', integer(-amount)) end
end
local function usage(budget)
  local stored = redis.call('HMGET', budget, 'spent', 'reserved')
  return tonumber(stored[1] or '0'), tonumber(stored[2] or '0')
end
local function keep(budget, expiries, period_ttl_ms)
  redis.call('PEXPIRE', budget, period_ttl_ms)
  redis.call('PEXPIRE', expiries, period_ttl_ms)
end
`;

/**
 * ARGV: reservationId, amountMicros, limitMicros, ttlMs, periodTtlMs.
 * Returns {ok 0|1, spentMicros, reservedMicros}.
 */
const RESERVE_BUDGET = `${PRELUDE}${BUDGET}
local now = math.floor(now_ms())
purge(KEYS[1], KEYS[2], now)
local amount = tonumber(ARGV[2])
local spent, reserved = usage(KEYS[1])
if spent + reserved + amount > tonumber(ARGV[3]) then return {0, spent, reserved} end
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('ZADD', KEYS[2], integer(now + tonumber(ARGV[4])), ARGV[1])
keep(KEYS[1], KEYS[2], ARGV[5])
return {1, spent, reserved + amount}
`;

/** ARGV: reservationId, actualMicros, periodTtlMs. Returns {spentMicros, reservedMicros}. */
const COMMIT_BUDGET = `${PRELUDE}${BUDGET}
local now = math.floor(now_ms())
purge(KEYS[1], KEYS[2], now)
drop(KEYS[1], KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
keep(KEYS[1], KEYS[2], ARGV[3])
local spent, reserved = usage(KEYS[1])
return {spent, reserved}
`;

/** ARGV: reservationId. Returns 1. The key's TTL is left as it is. */
const RELEASE_BUDGET = `${PRELUDE}${BUDGET}
purge(KEYS[1], KEYS[2], math.floor(now_ms()))
drop(KEYS[1], KEYS[2], ARGV[1])
return 1
`;

/** No ARGV. Returns {spentMicros, reservedMicros} after purging expired reservations. */
const BUDGET_USAGE = `${PRELUDE}${BUDGET}
purge(KEYS[1], KEYS[2], math.floor(now_ms()))
local spent, reserved = usage(KEYS[1])
return {spent, reserved}
`;

/** KEYS[1] lease STRING (the owner). ARGV: owner, ttlMs. SET NX PX, else compare-and-renew. Returns 1 when held. */
const ACQUIRE_LEASE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS[1] lease STRING. ARGV: owner. Compare-and-delete. Returns 1 when deleted. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** True when Redis answered that it does not know the script's SHA1 (after a restart or `SCRIPT FLUSH`). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/** A Lua script run by SHA1 (`EVALSHA`), falling back to `EVAL` (which also caches it) when Redis lacks it. */
export class LuaScript {
  readonly sha1: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha1 = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script; rejects with ioredis's error (connection or `ReplyError`). */
  async run(client: Redis, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Every script, by operation. */
export const SCRIPTS = {
  takeTokens: new LuaScript("takeTokens", TAKE_TOKENS),
  adjustTokens: new LuaScript("adjustTokens", ADJUST_TOKENS),
  reserveBudget: new LuaScript("reserveBudget", RESERVE_BUDGET),
  commitBudget: new LuaScript("commitBudget", COMMIT_BUDGET),
  releaseBudget: new LuaScript("releaseBudget", RELEASE_BUDGET),
  budgetUsage: new LuaScript("budgetUsage", BUDGET_USAGE),
  acquireLease: new LuaScript("acquireLease", ACQUIRE_LEASE),
  releaseLease: new LuaScript("releaseLease", RELEASE_LEASE),
} as const;
