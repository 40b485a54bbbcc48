/**
 * Builds the {@link SharedState} of this process: Redis when a URL is configured (`CLAWFLEET_REDIS_URL`), so that
 * several replicas share limits, budgets, cache, events and leases; otherwise in memory (one replica only).
 */
import type { SharedState } from "../contracts/shared-state.js";
import { MemorySharedState } from "./memory/shared-state.js";
import { RedisSharedState } from "./redis/shared-state.js";
import type { SharedStateLogger } from "./validation.js";

export { MemorySharedState, type MemorySharedStateOptions } from "./memory/shared-state.js";
export { RedisSharedState, type RedisSharedStateOptions } from "./redis/shared-state.js";
export type { SharedStateLogger } from "./validation.js";

export interface SharedStateOptions {
  /** `redis://…` / `rediss://…`; absent or empty → in memory. */
  redisUrl?: string;
  /** Redis key and channel prefix (default `clawfleet:`); ignored in memory. */
  keyPrefix?: string;
  logger?: SharedStateLogger;
}

/**
 * Returns the Redis implementation when `redisUrl` is set, else the memory one. Does not wait for Redis: the
 * connection is opened in the background and a call made while Redis is unreachable rejects with
 * `CF_STATE_UNAVAILABLE`.
 */
export function createSharedState(options: SharedStateOptions = {}): SharedState {
  if (options.redisUrl) return new RedisSharedState({ url: options.redisUrl, keyPrefix: options.keyPrefix, logger: options.logger });
  return new MemorySharedState({ logger: options.logger });
}
