/**
 * Token-bucket arithmetic, pure: the memory implementation calls it and the Redis Lua script
 * (`redis/scripts.ts`, `TAKE_TOKENS`) repeats it line for line, so both answer the same numbers.
 *
 * A bucket holds up to `capacity` tokens and gains `refillPerSecond` tokens per second, continuously (a
 * fraction of a token after a fraction of its period). Tokens are fractional internally; results report whole
 * tokens. The level may go below zero through `adjustTokens` with a negative amount (debt, repaid by refill).
 */
import type { TokenBucketLimit, TokenBucketResult } from "../contracts/shared-state.js";

/** Slack for floating-point error, in tokens: a level within this of `cost` counts as enough. */
export const TOKEN_EPSILON = 1e-6;

/** Stored state of one bucket: its level (tokens, may be fractional or negative) at `updatedMs` (epoch ms). */
export interface BucketLevel {
  tokens: number;
  updatedMs: number;
}

/** The level at `nowMs`: `level` refilled by the elapsed time, never above capacity; a missing bucket is full. */
export function levelAt(level: BucketLevel | undefined, limit: TokenBucketLimit, nowMs: number): number {
  if (!level) return limit.capacity;
  const elapsedMs = Math.max(0, nowMs - level.updatedMs);
  return Math.min(limit.capacity, level.tokens + (elapsedMs * limit.refillPerSecond) / 1000);
}

/** ms until `tokens` reach `target`: 0 when already there, `Infinity` when they never will. */
export function msUntil(tokens: number, target: number, limit: TokenBucketLimit): number {
  if (tokens + TOKEN_EPSILON >= target) return 0;
  if (target > limit.capacity || limit.refillPerSecond <= 0) return Number.POSITIVE_INFINITY;
  const ms = Math.ceil(((target - tokens) * 1000) / limit.refillPerSecond);
  return ms > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : ms;
}

/**
 * Takes `cost` tokens from a bucket whose current level is `tokens` (already refilled).
 * Returns the result and the level afterwards (unchanged when refused).
 */
export function takeFromLevel(tokens: number, cost: number, limit: TokenBucketLimit): { result: TokenBucketResult; tokensAfter: number } {
  if (tokens + TOKEN_EPSILON >= cost) {
    const tokensAfter = Math.max(0, tokens - cost);
    return {
      tokensAfter,
      result: { allowed: true, remaining: Math.max(0, Math.floor(tokensAfter + TOKEN_EPSILON)), retryAfterMs: 0, resetMs: msUntil(tokensAfter, limit.capacity, limit) },
    };
  }
  return { tokensAfter: tokens, result: { allowed: false, remaining: 0, retryAfterMs: msUntil(tokens, cost, limit), resetMs: msUntil(tokens, limit.capacity, limit) } };
}
