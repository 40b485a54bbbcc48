/**
 * Builds the one HTTP server (Fastify) that carries all three planes on one port: the admin API
 * (`/admin/v1`), the model gateway (`/v1/…`), the ingress (`/t/{tenant}/…`) and health (`/healthz`,
 * `/readyz`). Fastify was chosen for its encapsulated plugin scopes (each plane has its own body parsing
 * and hooks), schema-driven routes with an OpenAPI generator, and low per-request overhead.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import http, { STATUS_CODES, type Server } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RouteOptions } from "fastify";
import fastifyWebsocket from "@fastify/websocket";
import { deferredChildLoggerFactory, type Logger } from "../observability/logger.js";
import { ClawfleetError, type ErrorCode } from "../contracts/errors.js";
import { errorBody, errorDialectForPath, toClawfleetError } from "./error-mapping.js";
import { securityHeaders } from "./security-headers.js";
import { requestHygiene } from "./request-hygiene.js";
import type { AuthLockout } from "./auth-lockout.js";
import { isRouteProbe, PUBLIC_ROUTE, RouteTable } from "./route-auth-check.js";
import type { TlsMaterial } from "./tls.js";

export interface ServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** Answers `/readyz`: true when the platform can serve (database reachable, not shutting down). */
  isReady: () => Promise<boolean>;
  /** Bearer token `/metrics` requires; undefined = `/metrics` is open (only allowed on loopback, see bind-safety). */
  metricsToken?: string | undefined;
  /**
   * TLS: the certificate and key to serve HTTPS with (HSTS is then sent); `true` only marks the server as
   * TLS-terminating (HSTS) without serving TLS itself (tests of the header).
   */
  tls?: boolean | TlsMaterial;
  /** Body limit of routes outside the model gateway (`/v1/…`) and the ingress (`/t/…`), in bytes (default `bodyLimitBytes`). */
  adminBodyLimitBytes?: number;
  /** Largest request header block, in bytes (Node's `maxHeaderSize`; larger → 431). Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Time a client has to send its headers, in ms (Node's `headersTimeout`; slowloris). Default 20 s. */
  headersTimeoutMs?: number;
  /** Idle keep-alive connections close after this long, in ms. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Proxies whose `X-Forwarded-For` is believed for `request.ip` (addresses or CIDRs, proxy-addr syntax). */
  trustedProxies?: string[];
  /** Failed-authentication lockout; none = no lockout. */
  authLockout?: AuthLockout;
}

/** The plain-HTTP server of a TLS-terminating instance, for connections handed over internally (model channels). */
const internalServers = new WeakMap<FastifyInstance, Server>();
/** The route table of each server built here. */
const routeTables = new WeakMap<FastifyInstance, RouteTable>();

/**
 * The server to hand internal connections to (`server.emit("connection", socket)`): the app's own server
 * without TLS, a plain-HTTP twin with the same handler when the app serves HTTPS (runtimes on Unix sockets
 * speak plain HTTP).
 */
export function internalServerOf(app: FastifyInstance): Server {
  return internalServers.get(app) ?? (app.server as Server);
}

/** Every route registered on `app` (see `route-auth-check.ts`). */
export function routeTableOf(app: FastifyInstance): RouteTable {
  const table = routeTables.get(app);
  if (!table) throw new Error("not a server built by buildServer");
  return table;
}

/** Node's client errors (before a request exists) as Clawfleet JSON answers; the connection is then closed. */
function clientErrorAnswer(error: NodeJS.ErrnoException): { status: number; code: ErrorCode; message: string } {
  if (error.code === "HPE_HEADER_OVERFLOW") return { status: 431, code: "CF_HEADERS_TOO_LARGE", message: "request headers are larger than the configured limit (server.maxHeaderBytes)" };
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return { status: 408, code: "CF_BAD_REQUEST", message: "the request was not received in time (server.headersTimeoutMs / server.requestTimeoutMs)" };
  return { status: 400, code: "CF_BAD_REQUEST", message: "malformed HTTP request" };
}

function handleClientError(logger: Logger) {
  return function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const answer = clientErrorAnswer(error);
    logger.debug({ code: error.code, status: answer.status }, "client error");
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
    socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
}

/** Routes that carry model prompts or proxied runtime traffic keep the large body limit. */
function isLargeBodyRoute(url: string): boolean {
  return url.startsWith("/v1/") || url === "/v1" || url.startsWith("/t/");
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Checks `Authorization: Bearer <metricsToken>` on `/metrics`; compares equal-length digests in constant time. */
function metricsAuthentication(metricsToken: string) {
  const expected = sha256(metricsToken);
  return async function authenticateMetrics(request: FastifyRequest): Promise<void> {
    // The matched route, not the raw URL: an absolute-form request line (`GET http://host/metrics`) has a raw URL
    // other than "/metrics" but is routed to it.
    if (request.routeOptions.url !== "/metrics") return;
    const header = request.headers.authorization;
    if (header === undefined) throw new ClawfleetError("CF_AUTH_MISSING", "missing credentials: send Authorization: Bearer <metrics token>");
    const presented = /^Bearer (\S+)$/.exec(header)?.[1];
    if (presented === undefined || !timingSafeEqual(sha256(presented), expected)) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid metrics token");
  };
}

/** Request ids we accept from callers (`x-request-id`): short, printable, no spaces. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the server. Limits (issue 5): body size per route class (`bodyLimitBytes` for `/v1/…` and `/t/…`,
 * `adminBodyLimitBytes` elsewhere; larger → 413), header block size (431), headers and whole-request timeouts
 * against slow clients (408, then the connection is closed), keep-alive idle timeout. Hooks in order: request
 * id → request hygiene (duplicate credential headers, secrets in the query string) → lockout → `/metrics` token.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const tlsMaterial = typeof options.tls === "object" ? options.tls : null;
  const requestTimeoutMs = options.requestTimeoutMs;
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? 20_000, requestTimeoutMs > 0 ? requestTimeoutMs : Number.POSITIVE_INFINITY);
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    // Node checks both timeouts on this period (default 30 s): check often enough to honour short timeouts.
    connectionsCheckingInterval: Math.max(250, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
  };
  let internal: Server | null = null;
  const clientErrors = handleClientError(options.logger);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Request loggers are built on their first line, not per request (see DeferredChildLogger).
    childLoggerFactory: deferredChildLoggerFactory,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    ...(options.trustedProxies !== undefined && options.trustedProxies.length > 0 ? { trustProxy: options.trustedProxies } : {}),
    serverFactory: (handler) => {
      const server = tlsMaterial ? https.createServer({ ...serverOptions, cert: tlsMaterial.cert, key: tlsMaterial.key, minVersion: "TLSv1.2" }, handler) : http.createServer(serverOptions, handler);
      internal = tlsMaterial ? http.createServer(serverOptions, handler) : null;
      for (const target of internal ? [server, internal] : [server]) {
        target.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;
        target.on("clientError", clientErrors);
      }
      return server;
    },
    clientErrorHandler: clientErrors,
    requestIdHeader: false,
    genReqId: (request) => {
      const offered = request.headers["x-request-id"];
      return typeof offered === "string" && REQUEST_ID_PATTERN.test(offered) ? offered : randomUUID();
    },
    return503OnClosing: true,
  });

  const internalServer = internal as Server | null;
  if (internalServer) {
    internalServers.set(app, internalServer);
    app.addHook("onClose", async function closeInternalConnections() {
      internalServer.closeAllConnections();
    });
  }
  const routeTable = new RouteTable();
  routeTable.attach(app);
  routeTables.set(app, routeTable);
  const adminBodyLimit = options.adminBodyLimitBytes ?? options.bodyLimitBytes;
  app.addHook("onRoute", function limitBodies(route: RouteOptions) {
    if (route.bodyLimit === undefined && !isLargeBodyRoute(route.url ?? "")) route.bodyLimit = adminBodyLimit;
  });

  // Hooks on every request take `done` rather than returning a promise: one promise and microtask less each.
  app.addHook("onRequest", function echoRequestId(request, reply, done) {
    reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onRequest", requestHygiene());
  if (options.authLockout) app.addHook("onRequest", options.authLockout.hook());
  app.addHook("onSend", securityHeaders({ tls: options.tls !== undefined && options.tls !== false }));
  if (options.metricsToken !== undefined) app.addHook("onRequest", metricsAuthentication(options.metricsToken));

  app.setErrorHandler(async function handleError(error, request, reply) {
    const clawfleetError = toClawfleetError(error);
    if (clawfleetError.code === "CF_INTERNAL") request.log.error({ err: error }, "unhandled error");
    else request.log.info({ code: clawfleetError.code, status: clawfleetError.status }, clawfleetError.message);
    if (clawfleetError.retryAfterSeconds !== undefined) reply.header("retry-after", String(clawfleetError.retryAfterSeconds));
    // A credential was presented and refused (not merely missing): one more failure for this source address.
    if (options.authLockout && clawfleetError.status === 401 && clawfleetError.code !== "CF_AUTH_MISSING" && !isRouteProbe(request.headers)) {
      // Awaited: the answer to the failure that locks an address out leaves only once the lock is published to every replica.
      await options.authLockout.recordFailure(request.ip);
    }
    return reply.code(clawfleetError.status).type("application/json").send(errorBody(clawfleetError, errorDialectForPath(request.url), request.id));
  });

  app.setNotFoundHandler(function handleNotFound(request, reply) {
    const error = new ClawfleetError("CF_NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0]}`);
    return reply.code(404).type("application/json").send(errorBody(error, errorDialectForPath(request.url), request.id));
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: 16 * 1024 * 1024, perMessageDeflate: false } });

  app.get("/healthz", { config: PUBLIC_ROUTE }, async () => ({ ok: true, status: "live" }));
  app.get("/readyz", { config: PUBLIC_ROUTE }, async (_request, reply) => {
    const ready = await options.isReady();
    return reply.code(ready ? 200 : 503).send({ ok: ready, status: ready ? "ready" : "not-ready" });
  });
  return app;
}
