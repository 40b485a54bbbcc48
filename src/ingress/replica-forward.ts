/**
 * Forwarding a tenant's request to the replica that owns its runtime (see `src/runtime/ownership.ts`). This
 * replica has already authenticated and authorized the caller; instead of the caller's credentials (stripped:
 * an ALB identity, for one, would be refused there because this replica is not the ALB) the owner gets a signed,
 * short-lived, request-bound assertion of that principal (`src/auth/replica-assertion.ts`).
 * `x-clawfleet-forwarded-by` marks the hop so a request is forwarded at most once.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Pool } from "undici";
import { principalOf } from "../auth/identity-chain.js";
import { REPLICA_ASSERTION_HEADER, type AssertedPrincipal, type ReplicaAssertions } from "../auth/replica-assertion.js";
import { ClawfleetError } from "../contracts/errors.js";
import { CallAbortController } from "../http/call-abort.js";
import { callerResponseHeaders } from "./headers.js";
import { isUnreachable } from "./upstream-pool.js";

/** Header naming the replica that forwarded a request. */
export const FORWARDED_BY_HEADER = "x-clawfleet-forwarded-by";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"]);

/** Caller credentials never sent to the owner (the assertion stands for them), nor a client's own assertion. */
function isCredentialHeader(name: string): boolean {
  return name === "authorization" || name === "proxy-authorization" || name === "cookie" || name === "x-api-key" || name === "x-csrf-token" || name.startsWith("x-amzn-oidc-") || name === REPLICA_ASSERTION_HEADER;
}

export class ReplicaForwarder {
  private readonly pools = new Map<string, Pool>();

  /**
   * @param selfUrl this replica's URL (read per request: it is known once the server listens)
   * @param assertions signs the assertion of each forwarded caller
   */
  constructor(
    private readonly selfUrl: () => string,
    private readonly assertions: ReplicaAssertions,
  ) {}

  /**
   * The signed assertion of the request's (already authorized) caller for the owner at `ownerUrl`.
   * @throws ClawfleetError CF_INTERNAL when the request has no resolved principal (never forwarded unauthenticated)
   */
  assertionFor(request: FastifyRequest, ownerUrl: string): string {
    const principal = principalOf(request);
    const tenant = (request.params as { tenant?: unknown } | undefined)?.tenant;
    let asserted: AssertedPrincipal | undefined;
    if (principal?.kind === "api-key") asserted = { kind: "api-key", keyId: principal.key.id };
    else if (principal?.kind === "user" && typeof tenant === "string") {
      const tenantRole = principal.memberships.get(tenant);
      if (tenantRole !== undefined) {
        asserted = { kind: "user", userId: principal.user.id, method: principal.method, tenantRole, platformRoles: [...principal.platformRoles].sort() };
        if (principal.sessionIdHash !== undefined) asserted.sessionIdHash = principal.sessionIdHash;
      }
    }
    if (asserted === undefined || typeof tenant !== "string") throw new ClawfleetError("CF_INTERNAL", "refusing to forward a request without an authorized caller");
    return this.assertions.sign(asserted, { tenant, method: request.method, path: request.raw.url ?? "/" }, ownerUrl, request.socket.remoteAddress ?? "");
  }

  /** Headers of a WebSocket upgrade forwarded to the owner: the hop marker, the assertion and the caller's `Origin`. */
  upgradeHeaders(request: FastifyRequest, ownerUrl: string): Record<string, string> {
    return {
      ...(typeof request.headers.origin === "string" ? { origin: request.headers.origin } : {}),
      [FORWARDED_BY_HEADER]: this.selfUrl(),
      [REPLICA_ASSERTION_HEADER]: this.assertionFor(request, ownerUrl),
    };
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 64, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: 10_000 } });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Sends the request to `ownerUrl` and streams the answer back.
   * @throws ClawfleetError CF_RUNTIME_UNAVAILABLE when the request was already forwarded once (ownership is
   *   moving) or the owner cannot be reached.
   */
  async forward(request: FastifyRequest, reply: FastifyReply, ownerUrl: string): Promise<FastifyReply> {
    if (request.headers[FORWARDED_BY_HEADER] !== undefined) {
      throw new ClawfleetError("CF_RUNTIME_UNAVAILABLE", "the tenant's runtime is moving between replicas; retry shortly", { retryAfterSeconds: 2 });
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP_BY_HOP.has(name) && !isCredentialHeader(name)) headers[name] = value;
    headers[FORWARDED_BY_HEADER] = this.selfUrl();
    headers[REPLICA_ASSERTION_HEADER] = this.assertionFor(request, ownerUrl);
    const abort = new CallAbortController();
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    try {
      const upstream = await this.poolFor(new URL(ownerUrl).origin).request({
        method: request.method as "GET",
        path: request.raw.url ?? "/",
        headers,
        body: Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : null,
        signal: abort.signal,
      });
      reply.code(upstream.statusCode).headers(callerResponseHeaders(upstream.headers));
      return reply.send(upstream.body);
    } catch (error) {
      if (isUnreachable(error)) {
        throw new ClawfleetError("CF_RUNTIME_UNAVAILABLE", "the replica running this tenant's runtime is not reachable; retry shortly", { cause: error, retryAfterSeconds: 5 });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
