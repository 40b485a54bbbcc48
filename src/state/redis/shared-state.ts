/**
 * {@link SharedState} on Redis (ioredis), shared by every Clawfleet replica that points at the same Redis.
 *
 * - Every read-modify-write (token buckets, budgets, lease renew/release) is one Lua script (`scripts.ts`), run
 *   with `EVALSHA` and falling back to `EVAL`; Redis runs scripts one at a time, so N replicas enforce one limit.
 * - Clock: buckets and budget reservations use Redis's own clock (`TIME` inside the script), never the
 *   caller's; cache, lease and budget-key expiry use Redis key TTLs. Replica clock skew therefore changes nothing.
 * - Pub/sub uses a second, dedicated connection, opened on the first `subscribe`.
 * - Keys (all under `keyPrefix`, default `clawfleet:`): `bucket:<key>` HASH {tokens, updatedMs};
 *   `budget:{<key>}` HASH {spent, reserved, r:<reservationId>} and `budget:{<key>}:reservations` ZSET
 *   (reservation id → expiry, epoch ms; the braces keep both keys in one Redis Cluster slot); `cache:<key>`
 *   STRING (bytes); `lease:<name>` STRING (owner). Channels are `<keyPrefix>events:<channel>`.
 *
 * Errors: a connection problem (refused, reset, closed, Redis loading/busy/read-only) rejects with
 * `CF_STATE_UNAVAILABLE` (503, retryable); any other Redis error with `CF_INTERNAL`; bad arguments with
 * `CF_INTERNAL` before anything is sent. A command waits for at most one reconnection attempt.
 */
import { randomUUID } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { ClawfleetError, isClawfleetError } from "../../contracts/errors.js";
import type { BudgetReservation, BudgetUsage, SharedState, TokenBucketLimit, TokenBucketResult } from "../../contracts/shared-state.js";
import { checkDurationMs, checkFiniteNumber, checkMicros, checkName, checkTokenBucketLimit, closedError, type SharedStateLogger } from "../validation.js";
import { SCRIPTS, type LuaScript } from "./scripts.js";

export interface RedisSharedStateOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Prepended to every key and channel (default `clawfleet:`); lets tests and deployments share one Redis. */
  keyPrefix?: string;
  /** Receives connection errors (warn) and failing subscribers (error). */
  logger?: SharedStateLogger;
  /** ioredis options merged over Clawfleet's defaults (RESP2, one retry per command, 5 s connect timeout). */
  redisOptions?: RedisOptions;
}

/** Redis error replies that mean "not available right now" rather than "wrong command". */
const UNAVAILABLE_REPLIES = new Set(["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "OOM", "NOREPLICAS"]);

/** Maps an ioredis failure to a {@link ClawfleetError}; see the module docstring. */
function toStateError(error: unknown, operation: string): ClawfleetError {
  if (isClawfleetError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === "ReplyError";
  if (isReply && !UNAVAILABLE_REPLIES.has(message.split(" ", 1)[0] ?? "")) {
    return new ClawfleetError("CF_INTERNAL", `redis ${operation} failed: ${message}`, { cause: error, details: { operation } });
  }
  return new ClawfleetError("CF_STATE_UNAVAILABLE", `redis unavailable (${operation}): ${message}`, { cause: error, details: { operation } });
}

/** Checks that a script replied with an array of `length` integers. */
function integers(reply: unknown, length: number, operation: string): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((value): value is number => typeof value === "number")) {
    throw new ClawfleetError("CF_INTERNAL", `redis ${operation}: unexpected script reply`, { details: { operation, reply: JSON.stringify(reply) } });
  }
  return reply;
}

/** A script's -1 stands for "never". */
const duration = (value: number) => (value < 0 ? Number.POSITIVE_INFINITY : value);

interface Subscription {
  handler: (message: string) => void;
}

interface ChannelEntry {
  subscriptions: Set<Subscription>;
  /** Settles when Redis has confirmed the SUBSCRIBE. */
  ready: Promise<void>;
}

/** Redis-backed shared state. See the {@link SharedState} contract for each method; units are ms and micro-USD. */
export class RedisSharedState implements SharedState {
  readonly kind = "redis";
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly logger: SharedStateLogger | undefined;
  private subscriber: Redis | undefined;
  private readonly channels = new Map<string, ChannelEntry>();
  private closed = false;

  constructor(options: RedisSharedStateOptions) {
    this.prefix = options.keyPrefix ?? "clawfleet:";
    this.logger = options.logger;
    // RESP2: our replies are plain arrays and integers, and it works with every Redis (ioredis 6 defaults to RESP3).
    this.client = new Redis(options.url, { protocol: 2, maxRetriesPerRequest: 1, connectTimeout: 5_000, ...options.redisOptions });
    this.watch(this.client, "command");
  }

  /**
   * Takes `cost` tokens if the bucket holds them, atomically across replicas; time comes from Redis `TIME`.
   * `retryAfterMs`/`resetMs` are `Infinity` when never (cost above capacity, or no refill).
   */
  async takeTokens(key: string, cost: number, limit: TokenBucketLimit): Promise<TokenBucketResult> {
    this.assertOpen("takeTokens");
    checkName("takeTokens", "key", key);
    checkFiniteNumber("takeTokens", "cost", cost, true);
    checkTokenBucketLimit("takeTokens", limit);
    const reply = await this.run(SCRIPTS.takeTokens, [this.key("bucket:", key)], [String(cost), String(limit.capacity), String(limit.refillPerSecond)]);
    const [allowed, remaining, retryAfterMs, resetMs] = integers(reply, 4, "takeTokens") as [number, number, number, number];
    return { allowed: allowed === 1, remaining, retryAfterMs: duration(retryAfterMs), resetMs: duration(resetMs) };
  }

  /** Adds `amount` tokens (negative: consumes without a check, the level may go below zero), capped at capacity. */
  async adjustTokens(key: string, amount: number, limit: TokenBucketLimit): Promise<void> {
    this.assertOpen("adjustTokens");
    checkName("adjustTokens", "key", key);
    checkFiniteNumber("adjustTokens", "amount", amount, false);
    checkTokenBucketLimit("adjustTokens", limit);
    await this.run(SCRIPTS.adjustTokens, [this.key("bucket:", key)], [String(amount), String(limit.capacity), String(limit.refillPerSecond)]);
  }

  /** Reserves `amountMicros` when spent + reserved + amount ≤ `limitMicros`; the reservation expires by Redis time. */
  async reserveBudget(key: string, amountMicros: number, limitMicros: number, options: { ttlMs: number; periodTtlMs: number }): Promise<BudgetReservation> {
    this.assertOpen("reserveBudget");
    checkName("reserveBudget", "key", key);
    checkMicros("reserveBudget", "amountMicros", amountMicros);
    checkMicros("reserveBudget", "limitMicros", limitMicros);
    const ttlMs = checkDurationMs("reserveBudget", "ttlMs", options.ttlMs);
    const periodTtlMs = checkDurationMs("reserveBudget", "periodTtlMs", options.periodTtlMs);
    const reservationId = randomUUID();
    const reply = await this.run(SCRIPTS.reserveBudget, this.budgetKeys(key), [reservationId, String(amountMicros), String(limitMicros), String(ttlMs), String(periodTtlMs)]);
    const [ok, spentMicros, reservedMicros] = integers(reply, 3, "reserveBudget") as [number, number, number];
    return { ok: ok === 1, reservationId: ok === 1 ? reservationId : null, usage: { spentMicros, reservedMicros } };
  }

  /** Replaces reservation `reservationId` by `actualMicros` of spend (unknown or expired ids just add it). */
  async commitBudget(key: string, reservationId: string, actualMicros: number, options: { periodTtlMs: number }): Promise<BudgetUsage> {
    this.assertOpen("commitBudget");
    checkName("commitBudget", "key", key);
    checkName("commitBudget", "reservationId", reservationId);
    checkMicros("commitBudget", "actualMicros", actualMicros);
    const periodTtlMs = checkDurationMs("commitBudget", "periodTtlMs", options.periodTtlMs);
    const reply = await this.run(SCRIPTS.commitBudget, this.budgetKeys(key), [reservationId, String(actualMicros), String(periodTtlMs)]);
    const [spentMicros, reservedMicros] = integers(reply, 2, "commitBudget") as [number, number];
    return { spentMicros, reservedMicros };
  }

  /** Drops reservation `reservationId` without spending; unknown ids are ignored. */
  async releaseBudget(key: string, reservationId: string): Promise<void> {
    this.assertOpen("releaseBudget");
    checkName("releaseBudget", "key", key);
    checkName("releaseBudget", "reservationId", reservationId);
    await this.run(SCRIPTS.releaseBudget, this.budgetKeys(key), [reservationId]);
  }

  /** Spend and unexpired reservations of budget `key` (zeros when it does not exist). */
  async budgetUsage(key: string): Promise<BudgetUsage> {
    this.assertOpen("budgetUsage");
    checkName("budgetUsage", "key", key);
    const reply = await this.run(SCRIPTS.budgetUsage, this.budgetKeys(key), []);
    const [spentMicros, reservedMicros] = integers(reply, 2, "budgetUsage") as [number, number];
    return { spentMicros, reservedMicros };
  }

  /** The cached bytes (`GET`, binary-safe), or null. */
  async cacheGet(key: string): Promise<Buffer | null> {
    this.assertOpen("cacheGet");
    checkName("cacheGet", "key", key);
    return this.command("cacheGet", () => this.client.getBuffer(this.key("cache:", key)));
  }

  /** Stores `value` for `ttlMs` (`SET … PX`, rounded up to whole ms; must be > 0). */
  async cacheSet(key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.assertOpen("cacheSet");
    checkName("cacheSet", "key", key);
    const durationMs = checkDurationMs("cacheSet", "ttlMs", ttlMs);
    await this.command("cacheSet", () => this.client.set(this.key("cache:", key), value, "PX", durationMs));
  }

  /** `PUBLISH` to every replica's subscribers of `channel` (this one included); resolves before delivery. */
  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen("publish");
    checkName("publish", "channel", channel);
    await this.command("publish", () => this.client.publish(this.key("events:", channel), message));
  }

  /**
   * Subscribes `handler` (resolves once Redis confirmed the `SUBSCRIBE`); a handler that throws is logged and
   * does not affect the others. ioredis re-subscribes by itself after a reconnection (messages published while
   * disconnected are lost: Redis pub/sub is at-most-once).
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.assertOpen("subscribe");
    checkName("subscribe", "channel", channel);
    const redisChannel = this.key("events:", channel);
    const subscriber = this.subscriberConnection();
    let entry = this.channels.get(redisChannel);
    if (!entry) {
      entry = { subscriptions: new Set(), ready: subscriber.subscribe(redisChannel).then(() => undefined) };
      this.channels.set(redisChannel, entry);
    }
    const subscription: Subscription = { handler };
    entry.subscriptions.add(subscription);
    const current = entry;
    const unsubscribe = async (): Promise<void> => {
      if (!current.subscriptions.delete(subscription)) return;
      if (current.subscriptions.size > 0 || this.channels.get(redisChannel) !== current) return;
      this.channels.delete(redisChannel);
      if (this.closed) return;
      // Same connection, so Redis applies this UNSUBSCRIBE before any later SUBSCRIBE to the channel.
      await this.command("unsubscribe", () => subscriber.unsubscribe(redisChannel));
    };
    try {
      await this.command("subscribe", () => current.ready);
    } catch (error) {
      await unsubscribe().catch(() => undefined);
      throw error;
    }
    return unsubscribe;
  }

  /** Takes or renews lease `name` for `owner` for `ttlMs` (SET NX PX, else compare-and-renew, in one script). */
  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    this.assertOpen("acquireLease");
    checkName("acquireLease", "name", name);
    checkName("acquireLease", "owner", owner);
    const durationMs = checkDurationMs("acquireLease", "ttlMs", ttlMs);
    return (await this.run(SCRIPTS.acquireLease, [this.key("lease:", name)], [owner, String(durationMs)])) === 1;
  }

  /** Gives lease `name` up when `owner` holds it (compare-and-delete). */
  async releaseLease(name: string, owner: string): Promise<void> {
    this.assertOpen("releaseLease");
    checkName("releaseLease", "name", name);
    checkName("releaseLease", "owner", owner);
    await this.run(SCRIPTS.releaseLease, [this.key("lease:", name)], [owner]);
  }

  /** Holder of lease `name`, or null when free or expired. */
  async leaseOwner(name: string): Promise<string | null> {
    this.assertOpen("leaseOwner");
    checkName("leaseOwner", "name", name);
    return this.command("leaseOwner", () => this.client.get(this.key("lease:", name)));
  }

  /** Closes both connections (`QUIT`); later calls reject with `CF_STATE_UNAVAILABLE`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    const connections = this.subscriber ? [this.client, this.subscriber] : [this.client];
    await Promise.all(
      connections.map(async (connection) => {
        try {
          await connection.quit();
        } catch {
          connection.disconnect();
        }
      }),
    );
  }

  private key(kind: string, name: string): string {
    return `${this.prefix}${kind}${name}`;
  }

  private budgetKeys(key: string): string[] {
    const budget = this.key("budget:", `{${key}}`);
    return [budget, `${budget}:reservations`];
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw closedError(this.kind, operation);
  }

  private run(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.command(script.name, () => script.run(this.client, keys, args));
  }

  private async command<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toStateError(error, operation);
    }
  }

  /** The pub/sub connection, opened on first use. */
  private subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.client.duplicate();
    this.watch(subscriber, "subscriber");
    subscriber.on("message", (channel: string, message: string) => this.dispatch(channel, message));
    this.subscriber = subscriber;
    return subscriber;
  }

  private dispatch(redisChannel: string, message: string): void {
    const entry = this.channels.get(redisChannel);
    if (!entry) return;
    for (const subscription of [...entry.subscriptions]) {
      try {
        subscription.handler(message);
      } catch (error) {
        this.logger?.error({ channel: redisChannel, err: error }, "shared state subscriber threw");
      }
    }
  }

  /** Logs connection errors; without a listener ioredis would print them with console.error. */
  private watch(connection: Redis, role: string): void {
    connection.on("error", (error: Error) => this.logger?.warn({ role, err: error.message }, "redis connection error"));
  }
}
