/**
 * Identity resolution for the ingress (`/t/{tenant}/…`) and the admin API (`/admin/v1/…`): one chain of
 * steps, each `factory(options) → named async function` (STYLE.md §6), and this file alone decides their order:
 *
 *   0. `x-clawfleet-principal` — a replica's signed assertion of a caller it already verified, on a request it
 *      forwarded to the replica that owns the tenant's runtime (`src/auth/replica-assertion.ts`). Ingress only;
 *      when present it must verify (signature, audience, request binding, expiry, sender, single use) or the
 *      request is refused; the caller's own credentials are then not consulted.
 *   1. `Authorization: Bearer …` — a Clawfleet API key (`cfk_…`, ingress), the admin token (admin API), or an
 *      OIDC JWT (when `auth.oidc` is configured). An explicit credential wins; a bad one is refused, never
 *      skipped in favour of another.
 *   2. AWS ALB `x-amzn-oidc-data` — only when `auth.alb` is configured AND the TCP peer is inside
 *      `auth.alb.trustedProxyCidrs`; from anywhere else the header is refused. `x-amzn-oidc-identity` is never
 *      read (unsigned).
 *   3. The browser session cookie (server-side session; logout revokes it). Ambient credential, so last, and
 *      state-changing requests must carry the session's CSRF token AND an `Origin` equal to `auth.publicOrigin`
 *      (WebSocket upgrades: the Origin check). Model: oauth2-proxy `buildPreAuthChain`.
 *
 * No credential at all → CF_AUTH_MISSING. Users are looked up (and provisioned on first sight) in the identity
 * store; their effective roles are the stored ones plus those granted by the claim mapping.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";
import { requestCookie } from "./request-cookies.js";
import { ClawfleetError, isClawfleetError } from "../contracts/errors.js";
import type { IdentityRepository, PlatformRole, TenantRole, UserRecord } from "../contracts/identity.js";
import type { SnapshotPublisher } from "../control/snapshot.js";
import type { AlbVerifier } from "./alb/verifier.js";
import { secretsEqual } from "./api-keys.js";
import { authenticateKey, credentialFromHeaders, type KeyUsageRecorder } from "./authenticate.js";
import { grantsFromClaims, strongerRole, type Principal, type RoleMappingOptions, type UserMethod } from "./identity/principal.js";
import type { TrustedSources } from "./identity/trusted-sources.js";
import type { OidcVerifier } from "./oidc/verifier.js";
import { REPLICA_ASSERTION_HEADER, type ReplicaAssertions } from "./replica-assertion.js";

/** Where a request is being authenticated: the ingress accepts tenant keys, the admin API the admin token. */
export type IdentityContext = "ingress" | "admin";

/** Browser session settings (from `auth.browserLogin` + `auth.publicOrigin`). */
export interface SessionOptions {
  cookieName: string;
  /** Exact origin browsers use, e.g. `https://clawfleet.example.com`. */
  publicOrigin: string;
}

/** Everything the chain needs. Absent optional parts switch their step off. */
export interface IdentityChainOptions {
  snapshots: SnapshotPublisher;
  keyUsage: KeyUsageRecorder;
  identity: IdentityRepository;
  now: () => number;
  adminToken: string;
  roleMapping: RoleMappingOptions;
  oidc?: OidcVerifier | undefined;
  alb?: { verifier: AlbVerifier; issuer: string; trustedSources: TrustedSources } | undefined;
  session?: SessionOptions | undefined;
  /** Verifies assertions from other replicas (step 0); absent: the step refuses any assertion. */
  replicaAssertions?: ReplicaAssertions | undefined;
}

/** One step: a principal, null when the request carries no credential of its kind, or a thrown refusal. */
type IdentityStep = (request: FastifyRequest, context: IdentityContext) => Promise<Principal | null>;

const principals = new WeakMap<IncomingMessage, Principal>();
const assertedClients = new WeakMap<IncomingMessage, string>();
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The principal the chain resolved for a request (set by {@link IdentityChain.resolve}). */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request.raw);
}

/** Hex SHA-256 of a session id or state (what the store keeps). */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Finds or creates the user an identity provider vouched for, then folds in the claims' roles. */
async function userPrincipal(
  options: IdentityChainOptions,
  input: { issuer: string; subject: string; claims: Readonly<Record<string, unknown>>; method: UserMethod },
): Promise<Principal> {
  const email = typeof input.claims.email === "string" ? input.claims.email : null;
  const displayName = typeof input.claims.name === "string" ? input.claims.name : null;
  let user = await options.identity.findUserBySubject(input.issuer, input.subject);
  if (!user) {
    try {
      user = await options.identity.createUser({ issuer: input.issuer, subject: input.subject, email, displayName });
    } catch (error) {
      // Two first requests of one new user at once: the other one created it.
      if (!isClawfleetError(error) || error.code !== "CF_USER_EXISTS") throw error;
      user = await options.identity.findUserBySubject(input.issuer, input.subject);
      if (!user) throw error;
    }
  }
  const grants = grantsFromClaims(input.claims, options.roleMapping);
  return assemble(options, user, input.method, grants.platformRoles, grants.memberships);
}

async function assemble(
  options: IdentityChainOptions,
  user: UserRecord,
  method: UserMethod,
  claimRoles: readonly PlatformRole[],
  claimMemberships: ReadonlyArray<{ tenantId: string; role: TenantRole }>,
  sessionIdHash?: string,
): Promise<Principal> {
  const memberships = new Map<string, TenantRole>();
  for (const membership of await options.identity.listMemberships({ userId: user.id })) memberships.set(membership.tenantId, membership.role);
  for (const membership of claimMemberships) memberships.set(membership.tenantId, strongerRole(memberships.get(membership.tenantId), membership.role));
  const principal: Principal = { kind: "user", user, method, platformRoles: new Set([...user.platformRoles, ...claimRoles]), memberships };
  if (sessionIdHash !== undefined) principal.sessionIdHash = sessionIdHash;
  return principal;
}

/**
 * Step 0: a forwarding replica's assertion. The asserted API key must still be an active chat key of the tenant in
 * this replica's snapshot; an asserted user must still exist (their role on the tenant is the forwarder's decision,
 * claim-granted roles included, which the owner cannot recompute without the caller's token).
 */
export function createReplicaAssertionStep(options: IdentityChainOptions): IdentityStep {
  return async function replicaAssertionStep(request, context) {
    const header = request.headers[REPLICA_ASSERTION_HEADER];
    if (header === undefined) return null;
    const tenant = (request.params as { tenant?: unknown } | undefined)?.tenant;
    if (context !== "ingress" || typeof header !== "string" || typeof tenant !== "string" || !options.replicaAssertions) {
      throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "replica assertion refused: not accepted here", { details: { reason: "replica_assertion_invalid" } });
    }
    const assertion = await options.replicaAssertions.verify(header, { tenant, method: request.method, path: request.raw.url ?? "/" }, request.socket.remoteAddress);
    if (assertion.client !== "") assertedClients.set(request.raw, assertion.client);
    const asserted = assertion.principal;
    if (asserted.kind === "api-key") {
      const key = options.snapshots.current().keys.get(asserted.keyId);
      const nowMs = options.now();
      if (!key || key.kind !== "tenant" || key.tenantId !== tenant || !key.scopes.includes("chat") || (key.expiresAtMs !== null && key.expiresAtMs <= nowMs)) {
        throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "the asserted API key is no longer valid");
      }
      return { kind: "api-key", key };
    }
    const user = await options.identity.getUser(asserted.userId);
    if (!user) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "the asserted user no longer exists");
    const principal: Principal = { kind: "user", user, method: asserted.method, platformRoles: new Set(asserted.platformRoles), memberships: new Map([[tenant, asserted.tenantRole]]) };
    if (asserted.sessionIdHash !== undefined) principal.sessionIdHash = asserted.sessionIdHash;
    return principal;
  };
}

/** The caller's address a forwarding replica asserted (the TCP peer here is that replica). */
export function assertedClientOf(request: FastifyRequest): string | undefined {
  return assertedClients.get(request.raw);
}

/** Step 1: `Authorization: Bearer` — API key, admin token or OIDC JWT. */
export function createBearerStep(options: IdentityChainOptions): IdentityStep {
  return async function bearerStep(request, context) {
    if (request.headers.authorization === undefined) return null;
    const presented = credentialFromHeaders(request.headers, { allowApiKeyHeader: false });
    if (presented === null) throw new ClawfleetError("CF_AUTH_MISSING", "missing credentials: send Authorization: Bearer <key>");
    if (context === "admin" && secretsEqual(presented, options.adminToken)) return { kind: "admin-token" };
    if (options.oidc && JWT_SHAPE.test(presented)) {
      const identity = await options.oidc.verify(presented);
      return userPrincipal(options, { issuer: options.oidc.issuer, subject: identity.subject, claims: identity.claims, method: "oidc" });
    }
    if (context === "admin") throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid admin token");
    const nowMs = options.now();
    const key = authenticateKey(options.snapshots.current(), presented, "chat", nowMs);
    if (key.kind !== "tenant") throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid API key");
    options.keyUsage.record(key.id, nowMs);
    return { kind: "api-key", key };
  };
}

/** Step 2: AWS ALB `x-amzn-oidc-data`, from trusted source addresses only. */
export function createAlbStep(options: IdentityChainOptions): IdentityStep {
  return async function albStep(request) {
    const header = request.headers["x-amzn-oidc-data"];
    if (header === undefined || !options.alb) return null;
    if (!options.alb.trustedSources.has(request.socket.remoteAddress)) {
      throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "x-amzn-oidc-data is accepted only from the configured load balancer addresses", { details: { reason: "untrusted_source" } });
    }
    if (typeof header !== "string") throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid ALB identity: repeated header", { details: { reason: "malformed" } });
    const identity = await options.alb.verifier.verify(header);
    return userPrincipal(options, { issuer: options.alb.issuer, subject: identity.subject, claims: identity.claims, method: "alb" });
  };
}

/** True when two strings are equal, compared in constant time over their SHA-256 digests. */
function constantTimeEqual(left: string, right: string): boolean {
  return timingSafeEqual(createHash("sha256").update(left).digest(), createHash("sha256").update(right).digest());
}

/**
 * Step 3: the session cookie. Refuses an unknown, expired or revoked session; enforces CSRF (synchronizer
 * token in `x-csrf-token`) and `Origin` on state-changing requests, `Origin` on WebSocket upgrades.
 */
export function createSessionStep(options: IdentityChainOptions): IdentityStep {
  const session = options.session;
  return async function sessionStep(request) {
    if (!session) return null;
    const cookie = requestCookie(request, session.cookieName);
    if (cookie === undefined || cookie === "") return null;
    const resolved = await resolveSession(options, cookie);
    const isUpgrade = (request.headers.upgrade ?? "").toLowerCase() === "websocket";
    if (isUpgrade || !SAFE_METHODS.has(request.method)) {
      if (request.headers.origin !== session.publicOrigin) {
        throw new ClawfleetError("CF_CSRF_REJECTED", "cross-origin request refused: Origin must be the platform's own origin", { details: { reason: "origin_mismatch" } });
      }
      const token = request.headers["x-csrf-token"];
      if (!isUpgrade && (typeof token !== "string" || !constantTimeEqual(token, resolved.csrfToken))) {
        throw new ClawfleetError("CF_CSRF_REJECTED", "missing or wrong CSRF token (send the x-csrf-token from GET /auth/session)", { details: { reason: "csrf_token" } });
      }
    }
    return resolved.principal;
  };
}

/**
 * Looks up a session cookie value.
 * @throws ClawfleetError CF_AUTH_INVALID_TOKEN (`details.reason: "session_invalid"`) when it is unknown,
 *   expired or revoked, or its user is gone.
 */
export async function resolveSession(options: IdentityChainOptions, cookie: string): Promise<{ principal: Principal; csrfToken: string }> {
  const idHash = sha256Hex(cookie);
  const record = await options.identity.findActiveSession(idHash, options.now());
  const user = record ? await options.identity.getUser(record.userId) : null;
  if (!record || !user) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "session expired or signed out; log in again at /auth/login", { details: { reason: "session_invalid" } });
  return { principal: await assemble(options, user, "session", record.claimPlatformRoles, [], idHash), csrfToken: record.csrfToken };
}

/** The chain: {@link IdentityChain.resolve} runs the steps in order and remembers the principal on the request. */
export interface IdentityChain {
  /**
   * @throws ClawfleetError CF_AUTH_MISSING, CF_AUTH_INVALID_TOKEN, CF_AUTH_KEY_EXPIRED, CF_FORBIDDEN_SCOPE,
   *   CF_CSRF_REJECTED, CF_AUTH_PROVIDER_UNAVAILABLE.
   */
  resolve(request: FastifyRequest, context: IdentityContext): Promise<Principal>;
  readonly options: IdentityChainOptions;
}

/** Builds the chain. The order of `steps` below IS the precedence of credentials. */
export function createIdentityChain(options: IdentityChainOptions): IdentityChain {
  const steps: IdentityStep[] = [createReplicaAssertionStep(options), createBearerStep(options), createAlbStep(options), createSessionStep(options)];
  return {
    options,
    async resolve(request, context) {
      for (const step of steps) {
        const principal = await step(request, context);
        if (principal) {
          principals.set(request.raw, principal);
          return principal;
        }
      }
      throw new ClawfleetError("CF_AUTH_MISSING", context === "admin" ? "missing credentials: send Authorization: Bearer <admin token>" : "missing credentials: send Authorization: Bearer <key>, or log in at /auth/login");
    },
  };
}
