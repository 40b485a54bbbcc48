/**
 * Shared hot state: what several Clawfleet replicas must agree on quickly — rate-limit token buckets, budget
 * reservations, the response cache, events (pub/sub) and leases. One interface, two implementations: in
 * memory (one process, the default) and Redis (`CLAWFLEET_REDIS_URL`), checked by one conformance suite.
 * Money is in USD micro-units (integers); times are epoch ms or durations in ms.
 */

/** A token bucket's settings: holds up to `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface TokenBucketLimit {
  capacity: number;
  refillPerSecond: number;
}

/** Outcome of taking tokens from a bucket. */
export interface TokenBucketResult {
  allowed: boolean;
  /** Whole tokens left after this take (0 when refused). */
  remaining: number;
  /**
   * When refused: ms until `cost` tokens will be available; 0 when allowed. `Infinity` when they never will
   * (`cost` above capacity, or `refillPerSecond` 0): callers must not turn it into a `Retry-After` as is.
   */
  retryAfterMs: number;
  /** ms until the bucket is full again (`Infinity` when `refillPerSecond` is 0 and it is not full). */
  resetMs: number;
}

/** Spend and outstanding reservations of one budget key. */
export interface BudgetUsage {
  spentMicros: number;
  reservedMicros: number;
}

export interface BudgetReservation {
  ok: boolean;
  /** Id to commit or release; null when refused. */
  reservationId: string | null;
  /** Usage after the attempt (including this reservation when it succeeded). */
  usage: BudgetUsage;
}

export interface SharedState {
  /** Implementation name (`memory`, `redis`). */
  readonly kind: string;
  /**
   * Atomically takes `cost` tokens from bucket `key` if it holds that many (refilling first by elapsed time).
   * A refused take changes nothing. Buckets unused for a full refill period may be forgotten (they are full).
   */
  takeTokens(key: string, cost: number, limit: TokenBucketLimit): Promise<TokenBucketResult>;
  /**
   * Adds tokens back (e.g. when an estimate was higher than real usage), never above capacity. Also used to
   * consume tokens without a check (negative `amount`), e.g. real usage beyond the estimate; the level may then
   * go below zero (a debt that refill repays before the next take succeeds).
   */
  adjustTokens(key: string, amount: number, limit: TokenBucketLimit): Promise<void>;
  /**
   * Atomically reserves `amountMicros` on budget `key` when spent + reserved + amount ≤ `limitMicros`.
   * A reservation not committed or released within `ttlMs` expires (a crashed replica cannot hold money).
   * `periodTtlMs` is how long the budget key itself lives (its calendar period plus a margin).
   */
  reserveBudget(key: string, amountMicros: number, limitMicros: number, options: { ttlMs: number; periodTtlMs: number }): Promise<BudgetReservation>;
  /** Replaces a reservation by the real cost (which may exceed it); unknown or expired ids just add the cost. */
  commitBudget(key: string, reservationId: string, actualMicros: number, options: { periodTtlMs: number }): Promise<BudgetUsage>;
  /** Drops a reservation without spending. */
  releaseBudget(key: string, reservationId: string): Promise<void>;
  budgetUsage(key: string): Promise<BudgetUsage>;
  /** Response cache: bytes by key, with a time to live. */
  cacheGet(key: string): Promise<Buffer | null>;
  cacheSet(key: string, value: Buffer, ttlMs: number): Promise<void>;
  /** Publishes a message to every subscriber of `channel`, in every replica (including this one). */
  publish(channel: string, message: string): Promise<void>;
  /** Subscribes; resolves once the subscription is active; returns an unsubscribe function. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Takes or renews lease `name` for `owner` for `ttlMs`: true when `owner` holds it afterwards (it was free,
   * expired, or already held by `owner`).
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  /** Current holder, or null. */
  leaseOwner(name: string): Promise<string | null>;
  close(): Promise<void>;
}
