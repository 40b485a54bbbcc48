/**
 * Builds the one HTTP server (Fastify) that carries all three planes on one port: the admin API
 * (`/admin/v1`), the model gateway (`/v1/…`), the ingress (`/t/{tenant}/…`) and health (`/healthz`,
 * `/readyz`). Fastify was chosen for its encapsulated plugin scopes (each plane has its own body parsing
 * and hooks), schema-driven routes with an OpenAPI generator, and low per-request overhead.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import fastifyWebsocket from "@fastify/websocket";
import type { Logger } from "../observability/logger.js";
import { ClawfleetError } from "../contracts/errors.js";
import { errorBody, errorDialectForPath, toClawfleetError } from "./error-mapping.js";
import { securityHeaders } from "./security-headers.js";

export interface ServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** Answers `/readyz`: true when the platform can serve (database reachable, not shutting down). */
  isReady: () => Promise<boolean>;
  /** Bearer token `/metrics` requires; undefined = `/metrics` is open (only allowed on loopback, see bind-safety). */
  metricsToken?: string | undefined;
  /** True when this server terminates TLS (adds HSTS). */
  tls?: boolean;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Checks `Authorization: Bearer <metricsToken>` on `/metrics`; compares equal-length digests in constant time. */
function metricsAuthentication(metricsToken: string) {
  const expected = sha256(metricsToken);
  return async function authenticateMetrics(request: FastifyRequest): Promise<void> {
    if ((request.url.split("?", 1)[0] ?? request.url) !== "/metrics") return;
    const header = request.headers.authorization;
    if (header === undefined) throw new ClawfleetError("CF_AUTH_MISSING", "missing credentials: send Authorization: Bearer <metrics token>");
    const presented = /^Bearer (\S+)$/.exec(header)?.[1];
    if (presented === undefined || !timingSafeEqual(sha256(presented), expected)) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid metrics token");
  };
}

/** Request ids we accept from callers (`x-request-id`): short, printable, no spaces. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    requestIdHeader: false,
    genReqId: (request) => {
      const offered = request.headers["x-request-id"];
      return typeof offered === "string" && REQUEST_ID_PATTERN.test(offered) ? offered : randomUUID();
    },
    return503OnClosing: true,
  });

  app.addHook("onRequest", async function echoRequestId(request, reply) {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onSend", securityHeaders({ tls: options.tls === true }));
  if (options.metricsToken !== undefined) app.addHook("onRequest", metricsAuthentication(options.metricsToken));

  app.setErrorHandler(function handleError(error, request, reply) {
    const clawfleetError = toClawfleetError(error);
    if (clawfleetError.code === "CF_INTERNAL") request.log.error({ err: error }, "unhandled error");
    else request.log.info({ code: clawfleetError.code, status: clawfleetError.status }, clawfleetError.message);
    if (clawfleetError.retryAfterSeconds !== undefined) reply.header("retry-after", String(clawfleetError.retryAfterSeconds));
    return reply.code(clawfleetError.status).type("application/json").send(errorBody(clawfleetError, errorDialectForPath(request.url), request.id));
  });

  app.setNotFoundHandler(function handleNotFound(request, reply) {
    const error = new ClawfleetError("CF_NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0]}`);
    return reply.code(404).type("application/json").send(errorBody(error, errorDialectForPath(request.url), request.id));
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: 16 * 1024 * 1024, perMessageDeflate: false } });

  app.get("/healthz", async () => ({ ok: true, status: "live" }));
  app.get("/readyz", async (_request, reply) => {
    const ready = await options.isReady();
    return reply.code(ready ? 200 : 503).send({ ok: ready, status: ready ? "ready" : "not-ready" });
  });
  return app;
}
