/**
 * Forwarding a tenant's request to the replica that owns its runtime (see `src/runtime/ownership.ts`). The
 * caller's own credentials go along (the owner authenticates again); `x-clawfleet-forwarded-by` marks the hop
 * so a request is forwarded at most once.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Pool, errors as undiciErrors } from "undici";
import { ClawfleetError } from "../contracts/errors.js";
import { callerResponseHeaders } from "./headers.js";

/** Header naming the replica that forwarded a request. */
export const FORWARDED_BY_HEADER = "x-clawfleet-forwarded-by";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"]);

export class ReplicaForwarder {
  private readonly pools = new Map<string, Pool>();

  /** @param selfUrl this replica's URL (read per request: it is known once the server listens). */
  constructor(private readonly selfUrl: () => string) {}

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
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    headers[FORWARDED_BY_HEADER] = this.selfUrl();
    const abort = new AbortController();
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
      if (error instanceof undiciErrors.UndiciError) {
        throw new ClawfleetError("CF_RUNTIME_UNAVAILABLE", "the replica running this tenant's runtime is not reachable; retry shortly", { cause: error, retryAfterSeconds: 5 });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
