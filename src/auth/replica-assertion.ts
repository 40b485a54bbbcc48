/**
 * Principal assertions between replicas. When a replica forwards a tenant's request to the replica that owns the
 * tenant's runtime (`src/ingress/replica-forward.ts`), it has already authenticated and authorized the caller. The
 * owner cannot always do that again: an AWS ALB identity (`x-amzn-oidc-data`) is accepted only from the ALB's
 * addresses, and the forwarding replica is not the ALB. So the forwarder sends, in {@link REPLICA_ASSERTION_HEADER},
 * a short-lived statement of WHO it verified, signed with a key only replicas hold, and bound to this one request:
 *
 *   `v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "v1." + payload))>`
 *
 * payload `{v: 1, iss, aud, tenant, method, path, iat, exp, jti, client, principal}`: `iss` the forwarder's URL,
 * `aud` the owner's URL (`server.advertiseUrl`), `tenant`/`method`/`path` the request (path with query, as
 * received), `iat`/`exp` epoch ms (lifetime {@link ASSERTION_LIFETIME_MS}), `jti` 128 random bits, `client` the
 * caller's IP address for `X-Forwarded-For` (empty when unknown), `principal` the verified caller: `{kind: "api-key", keyId}` or
 * `{kind: "user", userId, method, tenantRole, platformRoles, sessionIdHash?}` (`tenantRole`: the caller's role on
 * `tenant` as the forwarder decided it, claim-granted roles included).
 *
 * The owner accepts one only when: the MAC matches (compared in constant time), the payload is well formed,
 * `aud` is itself, tenant/method/path are the request's, it is not expired (skew {@link CLOCK_SKEW_MS}) and not
 * older than its lifetime, the TCP peer is an address of the `iss` host (a client that got hold of an assertion
 * cannot present it itself), and its `jti` was never seen (kept until expiry, so a replay within the window is
 * refused). Key: `server.replicaSecret` (`CLAWFLEET_REPLICA_SECRET`), else derived from the admin token, which
 * replicas already share (`CLAWFLEET_ADMIN_TOKEN`); HKDF-SHA256 with a label of its own either way (RFC 5869).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { z } from "zod";
import { ClawfleetError } from "../contracts/errors.js";
import { PLATFORM_ROLES, TENANT_ROLES, type PlatformRole, type TenantRole } from "../contracts/identity.js";
import type { SharedState } from "../contracts/shared-state.js";
import type { Logger } from "../observability/logger.js";

/** Header carrying the assertion from the forwarding replica to the owner. Clients' copies are never trusted. */
export const REPLICA_ASSERTION_HEADER = "x-clawfleet-principal";
/** How long an assertion is valid after it was made (ms). */
export const ASSERTION_LIFETIME_MS = 15_000;
/** Tolerated clock difference between replicas (ms). */
export const CLOCK_SKEW_MS = 5_000;
/** Longest header value accepted (bytes). */
const MAX_ASSERTION_BYTES = 4_096;
/** Most `jti`s remembered at once; beyond this, new assertions are refused (retryable) until old ones expire. */
const MAX_REMEMBERED = 200_000;
/** How long a resolved `iss` host's addresses are reused (ms). */
const ADDRESS_CACHE_MS = 60_000;

const tenantRole = z.enum(TENANT_ROLES as [TenantRole, ...TenantRole[]]);
const platformRole = z.enum(PLATFORM_ROLES as [PlatformRole, ...PlatformRole[]]);
const assertedPrincipal = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("api-key"), keyId: z.string().min(1).max(64) }).strict(),
  z
    .object({
      kind: z.literal("user"),
      userId: z.string().min(1).max(64),
      method: z.enum(["session", "oidc", "alb"]),
      tenantRole,
      platformRoles: z.array(platformRole).max(PLATFORM_ROLES.length),
      sessionIdHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    })
    .strict(),
]);
const payloadSchema = z
  .object({
    v: z.literal(1),
    iss: z.string().min(1).max(512),
    aud: z.string().min(1).max(512),
    tenant: z.string().min(1).max(63),
    method: z.string().min(1).max(16),
    path: z.string().min(1).max(2_048),
    iat: z.number().int(),
    exp: z.number().int(),
    jti: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
    client: z.string().max(64).refine((address) => address === "" || isIP(address) !== 0, "an IP address or empty"),
    principal: assertedPrincipal,
  })
  .strict();

/** A verified caller as one replica states it to another. */
export type AssertedPrincipal = z.infer<typeof assertedPrincipal>;
/** A verified assertion's content. */
export type ReplicaAssertion = z.infer<typeof payloadSchema>;

/** The request an assertion is made for / checked against. */
export interface AssertedRequest {
  tenant: string;
  method: string;
  /** Request target as received (path and query), e.g. `/t/acme/v1/models?x=1`. */
  path: string;
}

const FORMAT = /^v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

function refused(reason: string, message: string): ClawfleetError {
  return new ClawfleetError("CF_AUTH_INVALID_TOKEN", `replica assertion refused: ${message}`, { details: { reason } });
}

function withoutMappedPrefix(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/**
 * The 32-byte signing key: HKDF-SHA256 over `server.replicaSecret` when set, else over the admin token.
 * @throws ClawfleetError CF_CONFIG_INVALID when the chosen secret is shorter than 24 characters
 */
export function replicaAssertionKey(secrets: { replicaSecret?: string | undefined; adminToken: string }): Buffer {
  const material = secrets.replicaSecret ?? secrets.adminToken;
  if (material.length < 24) throw new ClawfleetError("CF_CONFIG_INVALID", "server.replicaSecret must be at least 24 characters");
  const label = secrets.replicaSecret === undefined ? "admin-token" : "replica-secret";
  return Buffer.from(hkdfSync("sha256", material, "clawfleet", `clawfleet replica principal assertion v1 (${label})`, 32));
}

/** Signs assertions (forwarding side) and verifies them (owner side); one instance per replica. */
export class ReplicaAssertions {
  private readonly seen = new Map<string, number>();
  private readonly addressCache = new Map<string, { addresses: Set<string>; untilMs: number }>();

  /**
   * @param key from {@link replicaAssertionKey}
   * @param selfUrl this replica's URL as the others reach it (read per call: known once the server listens)
   * @param now clock (epoch ms)
   */
  constructor(
    private readonly key: Buffer,
    private readonly selfUrl: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  /** An assertion of `principal` for `request`, addressed to the replica at `ownerUrl`. */
  sign(principal: AssertedPrincipal, request: AssertedRequest, ownerUrl: string, clientAddress: string): string {
    const iat = this.now();
    const payload: ReplicaAssertion = {
      v: 1,
      iss: this.selfUrl(),
      aud: ownerUrl,
      tenant: request.tenant,
      method: request.method,
      path: request.path,
      iat,
      exp: iat + ASSERTION_LIFETIME_MS,
      jti: randomBytes(16).toString("base64url"),
      client: isIP(clientAddress) !== 0 ? clientAddress : "",
      principal,
    };
    const encoded = `v1.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    return `${encoded}.${this.mac(encoded).toString("base64url")}`;
  }

  /**
   * Verifies an assertion presented to this replica for `request` by the TCP peer `peerAddress`, and spends its
   * `jti`.
   * @throws ClawfleetError CF_AUTH_INVALID_TOKEN with `details.reason` `replica_assertion_invalid` (format, MAC,
   *   payload), `replica_assertion_mismatch` (other audience, tenant, method or path), `replica_assertion_expired`,
   *   `replica_assertion_untrusted_source` (peer is not the issuing replica), `replica_assertion_replayed`;
   *   CF_RUNTIME_UNAVAILABLE (retryable) when too many assertions are outstanding.
   */
  async verify(header: string, request: AssertedRequest, peerAddress: string | undefined): Promise<ReplicaAssertion> {
    const match = header.length <= MAX_ASSERTION_BYTES ? FORMAT.exec(header) : null;
    if (!match) throw refused("replica_assertion_invalid", "malformed");
    const encoded = `v1.${match[1] as string}`;
    const presented = Buffer.from(match[2] as string, "base64url");
    const expected = this.mac(encoded);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw refused("replica_assertion_invalid", "bad signature (do all replicas share server.replicaSecret, or the admin token?)");
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(match[1] as string, "base64url").toString("utf8"));
    } catch {
      throw refused("replica_assertion_invalid", "unreadable payload");
    }
    const result = payloadSchema.safeParse(parsed);
    if (!result.success) throw refused("replica_assertion_invalid", "malformed payload");
    const assertion = result.data;
    if (assertion.aud !== this.selfUrl() || assertion.iss === this.selfUrl()) throw refused("replica_assertion_mismatch", "made for another replica");
    if (assertion.tenant !== request.tenant || assertion.method !== request.method || assertion.path !== request.path) throw refused("replica_assertion_mismatch", "made for another request");
    const nowMs = this.now();
    if (assertion.exp <= nowMs - CLOCK_SKEW_MS || assertion.iat > nowMs + CLOCK_SKEW_MS || assertion.exp - assertion.iat > ASSERTION_LIFETIME_MS) throw refused("replica_assertion_expired", "expired");
    if (!(await this.isAddressOf(assertion.iss, peerAddress))) throw refused("replica_assertion_untrusted_source", "not sent by the replica that made it");
    this.spend(assertion.jti, assertion.exp + CLOCK_SKEW_MS, nowMs);
    return assertion;
  }

  /** A public fingerprint of the key (HMAC of a fixed label, 128 bits): equal on replicas sharing the key, reveals nothing. */
  keyFingerprint(): string {
    return createHmac("sha256", this.key).update("clawfleet replica key fingerprint").digest("base64url").slice(0, 22);
  }

  private mac(encoded: string): Buffer {
    return createHmac("sha256", this.key).update(encoded).digest();
  }

  /** Remembers `jti` until `untilMs`; refuses one already remembered. */
  private spend(jti: string, untilMs: number, nowMs: number): void {
    if (this.seen.has(jti)) throw refused("replica_assertion_replayed", "already used");
    if (this.seen.size >= MAX_REMEMBERED) {
      for (const [id, expiry] of this.seen) if (expiry <= nowMs) this.seen.delete(id);
      if (this.seen.size >= MAX_REMEMBERED) throw new ClawfleetError("CF_RUNTIME_UNAVAILABLE", "too many forwarded requests in flight; retry shortly", { retryAfterSeconds: 1 });
    }
    this.seen.set(jti, untilMs);
    // Map order is insertion order and lifetimes are equal: expired entries sit at the front.
    for (const [id, expiry] of this.seen) {
      if (expiry > nowMs) break;
      this.seen.delete(id);
    }
  }

  /** True when `peerAddress` is one of the addresses of `issuerUrl`'s host (IP literal, or resolved by DNS). */
  private async isAddressOf(issuerUrl: string, peerAddress: string | undefined): Promise<boolean> {
    if (peerAddress === undefined) return false;
    let host: string;
    try {
      host = new URL(issuerUrl).hostname.replace(/^\[(.*)\]$/, "$1");
    } catch {
      return false;
    }
    const peer = withoutMappedPrefix(peerAddress);
    if (isIP(host) !== 0) return withoutMappedPrefix(host) === peer;
    const nowMs = this.now();
    let cached = this.addressCache.get(host);
    if (!cached || cached.untilMs <= nowMs) {
      const addresses = await lookup(host, { all: true }).catch(() => []);
      cached = { addresses: new Set(addresses.map((entry) => withoutMappedPrefix(entry.address))), untilMs: nowMs + ADDRESS_CACHE_MS };
      this.addressCache.set(host, cached);
    }
    return cached.addresses.has(peer);
  }
}

/** Shared-state lease holding the key fingerprint of the running replicas (see {@link watchSharedKey}). */
const KEY_CHECK_LEASE = "replica-assertion-key";
const KEY_CHECK_TTL_MS = 10 * 60_000;

/**
 * Detects replicas that do not share the assertion key (they would refuse each other's forwarded requests): each
 * replica holds the lease {@link KEY_CHECK_LEASE} with its key's fingerprint as owner, renewed every 5 min; a replica
 * that finds another fingerprint there logs an error naming the fix. With in-memory shared state (one process) this
 * never fires. Never throws.
 * @returns a function that stops the renewals
 */
export function watchSharedKey(sharedState: SharedState, assertions: ReplicaAssertions, logger: Logger): () => void {
  const fingerprint = assertions.keyFingerprint();
  let warned = false;
  const check = async () => {
    if (await sharedState.acquireLease(KEY_CHECK_LEASE, fingerprint, KEY_CHECK_TTL_MS)) return;
    const other = await sharedState.leaseOwner(KEY_CHECK_LEASE);
    if (other !== null && other !== fingerprint && !warned) {
      warned = true;
      logger.error("replicas do not share the replica assertion key: requests forwarded between them to the replica owning a runtime will be refused (401 replica_assertion_invalid); set the same CLAWFLEET_REPLICA_SECRET (server.replicaSecret) or CLAWFLEET_ADMIN_TOKEN on every replica");
    }
  };
  const run = () => void check().catch((error: unknown) => logger.warn({ err: error }, "replica assertion key check failed"));
  run();
  const timer = setInterval(run, KEY_CHECK_TTL_MS / 2);
  timer.unref();
  return () => clearInterval(timer);
}
