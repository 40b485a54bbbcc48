/**
 * {@link SharedState} for one process: plain maps, exact arithmetic, no I/O. Every read-modify-write runs
 * synchronously between two awaits, so concurrent calls in the process are atomic by construction.
 * It mirrors the Redis implementation's behaviour (checked by the same conformance suite): pub/sub messages are
 * delivered asynchronously, expired entries vanish as Redis keys with a TTL would.
 */
import { EventEmitter } from "node:events";
import type { BudgetReservation, BudgetUsage, SharedState, TokenBucketLimit, TokenBucketResult } from "../../contracts/shared-state.js";
import { levelAt, takeFromLevel, type BucketLevel } from "../token-bucket.js";
import { checkDurationMs, checkFiniteNumber, checkMicros, checkName, checkTokenBucketLimit, closedError, emptyUsage, type SharedStateLogger } from "../validation.js";

export interface MemorySharedStateOptions {
  /**
   * Clock in epoch ms (fractions allowed). Default: a monotonic clock (`performance.timeOrigin +
   * performance.now()`), so a wall-clock step does not refill or drain buckets. Tests inject their own.
   */
  now?: () => number;
  /** Where failing subscribers are reported. */
  logger?: SharedStateLogger;
  /** How often expired entries (cache, leases, budgets, full buckets) are swept, ms of `now()` (default 10_000). */
  sweepIntervalMs?: number;
}

interface Reservation {
  amountMicros: number;
  expiresAtMs: number;
}

interface Budget {
  spentMicros: number;
  reservedMicros: number;
  reservations: Map<string, Reservation>;
  /** The budget key's own expiry (`periodTtlMs` after the last reserve or commit). */
  expiresAtMs: number;
}

interface Expiring<T> {
  value: T;
  expiresAtMs: number;
}

/** EventEmitter event names are prefixed so a channel called `error` is not EventEmitter's special event. */
const eventName = (channel: string) => `channel:${channel}`;

/** In-process shared state. See the {@link SharedState} contract for each method; units are ms and micro-USD. */
export class MemorySharedState implements SharedState {
  readonly kind = "memory";
  private readonly now: () => number;
  private readonly logger: SharedStateLogger | undefined;
  private readonly sweepIntervalMs: number;
  /** Bucket state by key; an entry is updated in place (no new objects per take on the hot path). */
  private readonly buckets = new Map<string, { level: BucketLevel; limit: TokenBucketLimit }>();
  /** Source of reservation ids: unique within this process, which is all a process-local budget needs. */
  private reservationSequence = 0;
  private readonly budgets = new Map<string, Budget>();
  private readonly cache = new Map<string, Expiring<Buffer>>();
  private readonly leases = new Map<string, Expiring<string>>();
  private readonly events = new EventEmitter();
  private lastSweepMs: number;
  private closed = false;

  constructor(options: MemorySharedStateOptions = {}) {
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.logger = options.logger;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    this.lastSweepMs = this.now();
    this.events.setMaxListeners(0);
  }

  /** Takes `cost` tokens if the bucket holds them; see the contract. `retryAfterMs`/`resetMs` may be `Infinity`. */
  async takeTokens(key: string, cost: number, limit: TokenBucketLimit): Promise<TokenBucketResult> {
    const nowMs = this.begin("takeTokens");
    checkName("takeTokens", "key", key);
    checkFiniteNumber("takeTokens", "cost", cost, true);
    checkTokenBucketLimit("takeTokens", limit);
    const bucket = this.buckets.get(key);
    const tokens = levelAt(bucket?.level, limit, nowMs);
    const { result, tokensAfter } = takeFromLevel(tokens, cost, limit);
    if (result.allowed) this.setLevel(bucket, key, tokensAfter, nowMs, limit);
    return result;
  }

  /** Adds `amount` tokens (negative: consumes without a check, the level may go below zero), capped at capacity. */
  async adjustTokens(key: string, amount: number, limit: TokenBucketLimit): Promise<void> {
    const nowMs = this.begin("adjustTokens");
    checkName("adjustTokens", "key", key);
    checkFiniteNumber("adjustTokens", "amount", amount, false);
    checkTokenBucketLimit("adjustTokens", limit);
    const bucket = this.buckets.get(key);
    const tokens = Math.min(limit.capacity, levelAt(bucket?.level, limit, nowMs) + amount);
    this.setLevel(bucket, key, tokens, nowMs, limit);
  }

  /** Stores a bucket's level: in place when `bucket` (the map's entry for `key`) exists, else as a new entry. */
  private setLevel(bucket: { level: BucketLevel; limit: TokenBucketLimit } | undefined, key: string, tokens: number, nowMs: number, limit: TokenBucketLimit): void {
    if (bucket === undefined) {
      this.buckets.set(key, { level: { tokens, updatedMs: nowMs }, limit });
      return;
    }
    bucket.level.tokens = tokens;
    bucket.level.updatedMs = nowMs;
    bucket.limit = limit;
  }

  /** Reserves `amountMicros` when spent + reserved + amount ≤ `limitMicros`; see the contract. */
  async reserveBudget(key: string, amountMicros: number, limitMicros: number, options: { ttlMs: number; periodTtlMs: number }): Promise<BudgetReservation> {
    const nowMs = this.begin("reserveBudget");
    checkName("reserveBudget", "key", key);
    checkMicros("reserveBudget", "amountMicros", amountMicros);
    checkMicros("reserveBudget", "limitMicros", limitMicros);
    const ttlMs = checkDurationMs("reserveBudget", "ttlMs", options.ttlMs);
    const periodTtlMs = checkDurationMs("reserveBudget", "periodTtlMs", options.periodTtlMs);
    const budget = this.liveBudget(key, nowMs);
    const usage = budget ? usageOf(budget) : emptyUsage();
    if (usage.spentMicros + usage.reservedMicros + amountMicros > limitMicros) return { ok: false, reservationId: null, usage };
    const target = budget ?? { spentMicros: 0, reservedMicros: 0, reservations: new Map<string, Reservation>(), expiresAtMs: 0 };
    const reservationId = `r${(this.reservationSequence += 1).toString(36)}`;
    target.reservations.set(reservationId, { amountMicros, expiresAtMs: nowMs + ttlMs });
    target.reservedMicros += amountMicros;
    target.expiresAtMs = nowMs + periodTtlMs;
    this.budgets.set(key, target);
    return { ok: true, reservationId, usage: usageOf(target) };
  }

  /** Replaces reservation `reservationId` by `actualMicros` of spend (unknown or expired ids just add it). */
  async commitBudget(key: string, reservationId: string, actualMicros: number, options: { periodTtlMs: number }): Promise<BudgetUsage> {
    const nowMs = this.begin("commitBudget");
    checkName("commitBudget", "key", key);
    checkName("commitBudget", "reservationId", reservationId);
    checkMicros("commitBudget", "actualMicros", actualMicros);
    const periodTtlMs = checkDurationMs("commitBudget", "periodTtlMs", options.periodTtlMs);
    const budget = this.liveBudget(key, nowMs) ?? { spentMicros: 0, reservedMicros: 0, reservations: new Map<string, Reservation>(), expiresAtMs: 0 };
    dropReservation(budget, reservationId);
    budget.spentMicros += actualMicros;
    budget.expiresAtMs = nowMs + periodTtlMs;
    this.budgets.set(key, budget);
    return usageOf(budget);
  }

  /** Drops reservation `reservationId` without spending; unknown ids are ignored. */
  async releaseBudget(key: string, reservationId: string): Promise<void> {
    const nowMs = this.begin("releaseBudget");
    checkName("releaseBudget", "key", key);
    checkName("releaseBudget", "reservationId", reservationId);
    const budget = this.liveBudget(key, nowMs);
    if (budget) dropReservation(budget, reservationId);
  }

  /** Spend and unexpired reservations of budget `key` (zeros when it does not exist). */
  async budgetUsage(key: string): Promise<BudgetUsage> {
    const nowMs = this.begin("budgetUsage");
    checkName("budgetUsage", "key", key);
    const budget = this.liveBudget(key, nowMs);
    return budget ? usageOf(budget) : emptyUsage();
  }

  /** A copy of the cached bytes, or null when missing or expired. */
  async cacheGet(key: string): Promise<Buffer | null> {
    const nowMs = this.begin("cacheGet");
    checkName("cacheGet", "key", key);
    const entry = liveEntry(this.cache, key, nowMs);
    return entry ? Buffer.from(entry.value) : null;
  }

  /** Stores a copy of `value` for `ttlMs` (rounded up to whole ms; must be > 0). */
  async cacheSet(key: string, value: Buffer, ttlMs: number): Promise<void> {
    const nowMs = this.begin("cacheSet");
    checkName("cacheSet", "key", key);
    const durationMs = checkDurationMs("cacheSet", "ttlMs", ttlMs);
    this.cache.set(key, { value: Buffer.from(value), expiresAtMs: nowMs + durationMs });
  }

  /** Queues delivery to this process's subscribers; handlers run after the returned promise resolves. */
  async publish(channel: string, message: string): Promise<void> {
    this.begin("publish");
    checkName("publish", "channel", channel);
    setImmediate(() => this.events.emit(eventName(channel), message));
  }

  /** Subscribes `handler`; a handler that throws is logged and does not affect the others. */
  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.begin("subscribe");
    checkName("subscribe", "channel", channel);
    const listener = (message: string) => {
      try {
        handler(message);
      } catch (error) {
        this.logger?.error({ channel, err: error }, "shared state subscriber threw");
      }
    };
    this.events.on(eventName(channel), listener);
    return async () => {
      this.events.off(eventName(channel), listener);
    };
  }

  /** Takes or renews lease `name` for `owner` for `ttlMs`; see the contract. */
  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const nowMs = this.begin("acquireLease");
    checkName("acquireLease", "name", name);
    checkName("acquireLease", "owner", owner);
    const durationMs = checkDurationMs("acquireLease", "ttlMs", ttlMs);
    const current = liveEntry(this.leases, name, nowMs);
    if (current && current.value !== owner) return false;
    this.leases.set(name, { value: owner, expiresAtMs: nowMs + durationMs });
    return true;
  }

  /** Gives lease `name` up when `owner` holds it. */
  async releaseLease(name: string, owner: string): Promise<void> {
    const nowMs = this.begin("releaseLease");
    checkName("releaseLease", "name", name);
    checkName("releaseLease", "owner", owner);
    if (liveEntry(this.leases, name, nowMs)?.value === owner) this.leases.delete(name);
  }

  /** Holder of lease `name`, or null when free or expired. */
  async leaseOwner(name: string): Promise<string | null> {
    const nowMs = this.begin("leaseOwner");
    checkName("leaseOwner", "name", name);
    return liveEntry(this.leases, name, nowMs)?.value ?? null;
  }

  /** Drops everything and every subscription; later calls reject with `CF_STATE_UNAVAILABLE`. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.events.removeAllListeners();
    this.buckets.clear();
    this.budgets.clear();
    this.cache.clear();
    this.leases.clear();
  }

  /** Common entry of every operation: refuses after close, sweeps now and then, returns `now()`. */
  private begin(operation: string): number {
    if (this.closed) throw closedError(this.kind, operation);
    const nowMs = this.now();
    if (nowMs - this.lastSweepMs >= this.sweepIntervalMs) this.sweep(nowMs);
    return nowMs;
  }

  /** Budget `key` with its expired reservations dropped, or undefined when it does not exist or has expired. */
  private liveBudget(key: string, nowMs: number): Budget | undefined {
    const budget = this.budgets.get(key);
    if (!budget) return undefined;
    if (budget.expiresAtMs <= nowMs) {
      this.budgets.delete(key);
      return undefined;
    }
    for (const [id, reservation] of budget.reservations) if (reservation.expiresAtMs <= nowMs) dropReservation(budget, id);
    return budget;
  }

  /** Forgets expired entries and full buckets, as Redis TTLs would. O(entries), at most once per interval. */
  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    for (const [key, bucket] of this.buckets) if (levelAt(bucket.level, bucket.limit, nowMs) >= bucket.limit.capacity) this.buckets.delete(key);
    for (const key of this.budgets.keys()) this.liveBudget(key, nowMs);
    for (const key of this.cache.keys()) liveEntry(this.cache, key, nowMs);
    for (const name of this.leases.keys()) liveEntry(this.leases, name, nowMs);
  }
}

function usageOf(budget: Budget): BudgetUsage {
  return { spentMicros: budget.spentMicros, reservedMicros: budget.reservedMicros };
}

function dropReservation(budget: Budget, reservationId: string): void {
  const reservation = budget.reservations.get(reservationId);
  if (!reservation) return;
  budget.reservations.delete(reservationId);
  budget.reservedMicros -= reservation.amountMicros;
}

/** Entry `key` of `map`, deleting it when expired. */
function liveEntry<T>(map: Map<string, Expiring<T>>, key: string, nowMs: number): Expiring<T> | undefined {
  const entry = map.get(key);
  if (!entry) return undefined;
  if (entry.expiresAtMs > nowMs) return entry;
  map.delete(key);
  return undefined;
}
