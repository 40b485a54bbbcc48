/**
 * The ingress: `/t/{tenant}/…` over HTTP and WebSocket to the tenant's own runtime. Order for every request:
 * request id → authenticate the caller (before the body is read; a browser page load without any credential is sent
 * to `/auth/login`) → map the path (`runtime-paths.ts`: the runtime's APIs lose `/t/{tenant}`, its Control UI keeps
 * it; OpenClaw's direct tool endpoint is refused) → body checks → ensure the runtime is ready (starting it on
 * demand; the caller waits, bounded) → proxy with the runtime token or the trusted-proxy identity headers injected.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type {} from "@fastify/websocket";
import type { KeyUsageRecorder } from "../auth/authenticate.js";
import type { AuditLog } from "../contracts/governance.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { SnapshotPublisher } from "../control/snapshot.js";
import { CallAbortController } from "../http/call-abort.js";
import type { RuntimeManager } from "../runtime/manager.js";
import type { RuntimeOwnership } from "../runtime/ownership.js";
import { FORWARDED_BY_HEADER, type ReplicaForwarder } from "./replica-forward.js";
import { callerResponseHeaders, runtimeRequestHeaders } from "./headers.js";
import { assertedClientOf, type IdentityChain } from "../auth/identity-chain.js";
import { authorizeIngressCaller, type IngressCaller } from "./tenant-access.js";
import { trustedProxyHeaders } from "./trusted-proxy.js";
import { isUnreachable, type RuntimeClientPool } from "./upstream-pool.js";
import { proxyWebSocket } from "./websocket-proxy.js";
import { isDirectToolPath } from "./direct-tool-invocation.js";
import { runtimeTarget, type RuntimeTarget } from "./runtime-paths.js";

export interface IngressDependencies {
  snapshots: SnapshotPublisher;
  runtimes: RuntimeManager;
  ownership: RuntimeOwnership;
  forwarder: ReplicaForwarder;
  clients: RuntimeClientPool;
  keyUsage: KeyUsageRecorder;
  now: () => number;
  /** Resolves callers (API keys, OIDC, ALB, browser sessions); see `src/auth/identity-chain.ts`. */
  identity: IdentityChain;
  /** How runtimes authenticate the ingress (decides what the proxy injects). */
  runtimeAuthMode: "token" | "trusted-proxy";
  /** `auth.publicOrigin`, for `x-forwarded-proto/host` in trusted-proxy mode. */
  publicOrigin?: string | undefined;
  /** Receives one `agent_invocation` per request or WebSocket connection proxied to a runtime here. */
  audit?: AuditLog;
  /**
   * `/auth/login` when browser login is configured: a browser that navigates to `/t/{tenant}/…` without any
   * credential is redirected there (`?returnTo=` the page) instead of getting a 401 JSON body.
   */
  loginPath?: string | undefined;
}

/**
 * A top-level browser page load: GET without credentials of an API client (no `Authorization`, no `x-api-key`),
 * not a WebSocket upgrade, asking for HTML (`Accept: text/html`, which browsers send on navigation and `fetch`,
 * SDKs and curl do not by default).
 */
function isBrowserNavigation(request: FastifyRequest): boolean {
  const headers = request.headers;
  if (request.method !== "GET" || headers.authorization !== undefined || headers["x-api-key"] !== undefined || headers.upgrade !== undefined) return false;
  return typeof headers.accept === "string" && headers.accept.toLowerCase().includes("text/html");
}

/** The audit actor of an ingress caller: `key:<keyId>`, `user:<userId>`, else the principal's kind. */
function actorOf(request: FastifyRequest): string {
  const principal = callers.get(request.raw)?.principal;
  if (!principal) return "unknown";
  if (principal.kind === "api-key") return `key:${principal.key.id}`;
  if (principal.kind === "user") return `user:${principal.user.id}`;
  return principal.kind;
}

function recordInvocation(dependencies: IngressDependencies, request: FastifyRequest, tenantId: string, transport: "http" | "websocket", tenantPath: string): void {
  dependencies.audit?.record({ type: "agent_invocation", tenantId, actor: actorOf(request), requestId: request.id, details: { transport, method: request.method, path: tenantPath } });
}

/** The authorized caller of each ingress request (set by the onRequest hook). */
const callers = new WeakMap<FastifyRequest["raw"], IngressCaller>();

interface TenantParams {
  tenant: string;
}

const TENANT_PREFIX = /^\/t\/[^/?]+/;

const DIRECT_TOOL_REFUSAL = "POST /tools/invoke is not available through Clawfleet: tools run only when a model calls them through the model gateway, where the tenant's permission profile is enforced";

/** The request URL after `/t/{tenant}` as the caller sent it (not normalized), for the direct-tool check. */
function pathAfterTenant(url: string): string {
  const rest = url.replace(TENANT_PREFIX, "");
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/**
 * Where a request goes on its tenant's runtime ({@link runtimeTarget}: Control UI paths keep `/t/{tenant}`, the
 * runtime's root APIs lose it).
 * @throws ClawfleetError CF_ROUTE_FORBIDDEN for OpenClaw's direct tool endpoint in any spelling; CF_BAD_REQUEST
 *   when the normalized path leaves `/t/{tenant}` (`/t/acme/../x`).
 */
function resolveRuntimeTarget(url: string, tenantId: string): RuntimeTarget {
  if (isDirectToolPath(pathAfterTenant(url))) throw new ClawfleetError("CF_ROUTE_FORBIDDEN", DIRECT_TOOL_REFUSAL);
  const target = runtimeTarget(url, tenantId);
  if (target === null) throw new ClawfleetError("CF_BAD_REQUEST", `the request path leaves /t/${tenantId}/ once dot segments are resolved; send a normalized path`);
  // Also on the path as sent, should the runtime's root paths ever include more than its APIs.
  if (isDirectToolPath(target.path)) throw new ClawfleetError("CF_ROUTE_FORBIDDEN", DIRECT_TOOL_REFUSAL);
  return target;
}

/** On OpenAI paths the body must be JSON: refuse malformed bodies here, in OpenAI's error shape. */
function checkJsonBody(request: FastifyRequest, path: string): boolean {
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0 || !path.startsWith("/v1/")) return false;
  try {
    JSON.parse(body.toString("utf8"));
  } catch {
    throw new ClawfleetError("CF_INVALID_JSON", "request body is not valid JSON");
  }
  return true;
}

function createHttpProxyHandler(dependencies: IngressDependencies) {
  return async function proxyToRuntime(request: FastifyRequest<{ Params: TenantParams }>, reply: FastifyReply): Promise<FastifyReply> {
    const tenantId = request.params.tenant;
    const target = resolveRuntimeTarget(request.raw.url ?? "/", tenantId);
    const isJson = checkJsonBody(request, target.tenantPath);
    const decision = await dependencies.ownership.decide(tenantId);
    if (decision.kind === "remote") return dependencies.forwarder.forward(request, reply, decision.ownerUrl);
    const connection = await dependencies.runtimes.ensureReady(tenantId);
    recordInvocation(dependencies, request, tenantId, "http", target.tenantPath);
    const endRequest = dependencies.runtimes.beginRequest(tenantId);
    const abort = new CallAbortController();
    reply.raw.on("close", () => {
      endRequest();
      if (!reply.raw.writableFinished) abort.abort();
    });
    const headers = runtimeRequestHeaders(request.headers, connection.gatewayToken, request.id);
    const caller = callers.get(request.raw);
    if (connection.trustedProxy && caller) {
      delete headers.authorization;
      Object.assign(headers, trustedProxyHeaders(caller.principal, caller.role, assertedClientOf(request) ?? request.socket.remoteAddress, dependencies.publicOrigin, "http"));
    }
    // `curl -d` sends a form content type; the body was checked to be JSON, so say so to the runtime.
    if (isJson) headers["content-type"] = "application/json";
    const body = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : null;
    try {
      const upstream = await dependencies.clients.clientFor(tenantId, connection.endpoint).request({
        method: request.method as "GET",
        path: target.path,
        headers,
        body,
        signal: abort.signal,
      });
      reply.code(upstream.statusCode).headers(callerResponseHeaders(upstream.headers));
      return reply.send(upstream.body);
    } catch (error) {
      if (abort.signal.aborted) return reply;
      if (isUnreachable(error)) {
        throw new ClawfleetError("CF_RUNTIME_UNAVAILABLE", `runtime of tenant "${tenantId}" is not reachable; retry shortly`, { cause: error, retryAfterSeconds: 2 });
      }
      throw error;
    }
  };
}

/** Registers `/t/{tenant}/*` (HTTP, any method; WebSocket on GET) in its own scope. */
export async function registerIngress(app: FastifyInstance, dependencies: IngressDependencies): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    scope.addHook<{ Params: TenantParams }>("onRequest", async function authenticateIngress(request, reply) {
      let caller: IngressCaller;
      try {
        caller = await authorizeIngressCaller(request, request.params.tenant, dependencies);
      } catch (error) {
        // Only when no credential came at all: a refused one (an expired session…) goes to the error handler, which
        // counts it for the failed-authentication lockout, and says "log in again at /auth/login".
        if (dependencies.loginPath !== undefined && error instanceof ClawfleetError && error.code === "CF_AUTH_MISSING" && isBrowserNavigation(request)) {
          return reply.code(302).header("cache-control", "no-store").redirect(`${dependencies.loginPath}?returnTo=${encodeURIComponent(request.raw.url ?? "/")}`);
        }
        throw error;
      }
      callers.set(request.raw, caller);
      const principal = caller.principal;
      request.log = request.log.child({ tenantId: request.params.tenant, ...(principal.kind === "api-key" ? { keyId: principal.key.id } : principal.kind === "user" ? { userId: principal.user.id } : {}) });
    });
    const handler = createHttpProxyHandler(dependencies);
    const wsHandler = (socket: import("ws").WebSocket, request: FastifyRequest<{ Params: TenantParams }>) => {
      const tenantId = request.params.tenant;
      const target = runtimeTarget(request.raw.url ?? "/", tenantId);
      if (target === null) {
        // 1008 Policy Violation (RFC 6455 §7.4.1): the normalized path leaves /t/{tenant}.
        socket.close(1008, "path outside the tenant");
        return;
      }
      const endRequest = dependencies.runtimes.beginRequest(tenantId);
      const caller = callers.get(request.raw);
      proxyWebSocket({
        caller: socket,
        identityHeaders: caller ? trustedProxyHeaders(caller.principal, caller.role, assertedClientOf(request) ?? request.socket.remoteAddress, dependencies.publicOrigin, "websocket") : {},
        ...(typeof request.headers.origin === "string" ? { origin: request.headers.origin } : {}),
        path: target.path,
        connect: async () => {
          const decision = await dependencies.ownership.decide(tenantId);
          if (decision.kind === "local") {
            const connection = await dependencies.runtimes.ensureReady(tenantId);
            recordInvocation(dependencies, request, tenantId, "websocket", target.tenantPath);
            return { kind: "runtime", connection };
          }
          if (request.headers[FORWARDED_BY_HEADER] !== undefined) throw new Error("the tenant's runtime is moving between replicas");
          // The owner replica gets a signed assertion of this caller (not its credentials) and injects its runtime's token.
          return { kind: "replica", url: `${decision.ownerUrl.replace(/^http/, "ws")}${request.raw.url ?? "/"}`, headers: dependencies.forwarder.upgradeHeaders(request, decision.ownerUrl) };
        },
        logger: request.log,
        done: endRequest,
      });
    };
    for (const url of ["/t/:tenant", "/t/:tenant/*"]) {
      scope.route<{ Params: TenantParams }>({ method: "GET", url, handler, wsHandler });
      scope.route<{ Params: TenantParams }>({ method: ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"], url, handler });
    }
  });
}
