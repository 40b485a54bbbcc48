/**
 * Failed-authentication lockout per source address (issue 5, "Hardening"), shared by every replica.
 *
 * Each failed authentication (a 401 other than "no credentials at all") takes one token from a token bucket
 * per source address in the shared state (`auth-failures:<address>`), holding `maxFailures` and refilling
 * `maxFailures` per `windowMs`. When the bucket is empty the address is locked out for `lockoutMs`: the lock is
 * announced on the shared state's pub/sub (`auth-lockout`), every replica keeps it in memory, and every request
 * from that address (except `/healthz` and `/readyz`) is refused with 429 `CF_AUTH_LOCKED_OUT` and
 * `Retry-After`, whatever credentials it carries: a correct credential does not lift an active lockout.
 * Checking a request costs one map lookup; only failures touch the shared state.
 *
 * The source address is Fastify's `request.ip`: the socket's peer, or the client named in `X-Forwarded-For`
 * only when the peer is one of `server.trustedProxies` (proxy-addr rules). Loopback is exempt by default.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { ClawfleetError } from "../contracts/errors.js";
import type { SharedState } from "../contracts/shared-state.js";
import type { Logger } from "../observability/logger.js";
import { isLoopbackHost } from "./bind-safety.js";

/** `server.authLockout` (see the config schema). Durations in ms. */
export interface AuthLockoutOptions {
  enabled: boolean;
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  exemptLoopback: boolean;
}

/** Pub/sub channel announcing a lockout: message `<untilEpochMs> <address>`. */
export const LOCKOUT_CHANNEL = "auth-lockout";

/** Paths never refused by a lockout (load balancers' health checks must keep working). */
const EXEMPT_PATHS = new Set(["/healthz", "/readyz"]);

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client is one key whichever socket family it used. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address.toLowerCase();
}

export class AuthLockout {
  private readonly locked = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly state: SharedState,
    private readonly options: AuthLockoutOptions,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Subscribes to lockout announcements (call once before serving). */
  async start(): Promise<void> {
    if (!this.options.enabled) return;
    this.unsubscribe = await this.state.subscribe(LOCKOUT_CHANNEL, (message) => {
      const space = message.indexOf(" ");
      const until = Number(message.slice(0, space));
      const address = message.slice(space + 1);
      if (space > 0 && Number.isFinite(until) && until > (this.locked.get(address) ?? 0)) this.locked.set(address, until);
    });
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private exempt(address: string): boolean {
    return !this.options.enabled || (this.options.exemptLoopback && isLoopbackHost(address));
  }

  /** Epoch ms until which `address` is locked out, or null. */
  lockedUntil(address: string): number | null {
    const key = normalizeAddress(address);
    const until = this.locked.get(key);
    if (until === undefined) return null;
    if (until <= this.now()) {
      this.locked.delete(key);
      return null;
    }
    return until;
  }

  /**
   * Counts one failed authentication from `address`; locks it out (and tells every replica) when its bucket
   * is empty. Resolves when the shared state has answered; never throws (a shared-state outage is logged).
   */
  async recordFailure(address: string): Promise<void> {
    if (this.exempt(address)) return;
    const key = normalizeAddress(address);
    const { maxFailures, windowMs, lockoutMs } = this.options;
    try {
      const result = await this.state.takeTokens(`auth-failures:${key}`, 1, { capacity: maxFailures, refillPerSecond: maxFailures / (windowMs / 1000) });
      if (result.allowed && result.remaining > 0) return;
      const until = this.now() + lockoutMs;
      this.locked.set(key, until);
      this.logger.warn({ address: key, lockoutMs, maxFailures, windowMs }, "source address locked out after repeated failed authentication");
      await this.state.publish(LOCKOUT_CHANNEL, `${until} ${key}`);
    } catch (error) {
      this.logger.error({ err: error, address: key }, "recording a failed authentication failed");
    }
  }

  /**
   * The `onRequest` hook refusing locked-out addresses (callback style: no promise per request).
   * Fails the request with ClawfleetError CF_AUTH_LOCKED_OUT (429, `retryAfterSeconds` until the lockout ends).
   */
  hook() {
    return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      if (this.locked.size === 0 || this.exempt(request.ip)) return done();
      const until = this.lockedUntil(request.ip);
      if (until === null || EXEMPT_PATHS.has(request.routeOptions.url ?? "")) return done();
      const retryAfterSeconds = Math.max(1, Math.ceil((until - this.now()) / 1000));
      done(new ClawfleetError("CF_AUTH_LOCKED_OUT", `too many failed authentications from this address; locked out for ${retryAfterSeconds} more seconds`, { retryAfterSeconds }));
    };
  }
}
