/**
 * The ingress: `/t/{tenant}/…` over HTTP and WebSocket to the tenant's own runtime. Order for every request:
 * request id → authenticate tenant key (before the body is read) → body checks → ensure the runtime is ready
 * (starting it on demand; the caller waits, bounded) → proxy with the runtime token injected.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type {} from "@fastify/websocket";
import { errors as undiciErrors } from "undici";
import type { KeyUsageRecorder } from "../auth/authenticate.js";
import type { AuditLog } from "../contracts/governance.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { SnapshotPublisher } from "../control/snapshot.js";
import type { RuntimeManager } from "../runtime/manager.js";
import type { RuntimeOwnership } from "../runtime/ownership.js";
import { FORWARDED_BY_HEADER, type ReplicaForwarder } from "./replica-forward.js";
import { callerResponseHeaders, runtimeRequestHeaders } from "./headers.js";
import { assertedClientOf, type IdentityChain } from "../auth/identity-chain.js";
import { authorizeIngressCaller, type IngressCaller } from "./tenant-access.js";
import { trustedProxyHeaders } from "./trusted-proxy.js";
import type { RuntimeClientPool } from "./upstream-pool.js";
import { proxyWebSocket } from "./websocket-proxy.js";
import { isDirectToolPath } from "./direct-tool-invocation.js";

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
}

/** The audit actor of an ingress caller: `key:<keyId>`, `user:<userId>`, else the principal's kind. */
function actorOf(request: FastifyRequest): string {
  const principal = callers.get(request.raw)?.principal;
  if (!principal) return "unknown";
  if (principal.kind === "api-key") return `key:${principal.key.id}`;
  if (principal.kind === "user") return `user:${principal.user.id}`;
  return principal.kind;
}

function recordInvocation(dependencies: IngressDependencies, request: FastifyRequest, tenantId: string, transport: "http" | "websocket"): void {
  dependencies.audit?.record({ type: "agent_invocation", tenantId, actor: actorOf(request), requestId: request.id, details: { transport, method: request.method, path: runtimePath(request.raw.url ?? "/").split("?")[0] ?? "/" } });
}

/** The authorized caller of each ingress request (set by the onRequest hook). */
const callers = new WeakMap<FastifyRequest["raw"], IngressCaller>();

interface TenantParams {
  tenant: string;
}

const TENANT_PREFIX = /^\/t\/[^/?]+/;

/** The path (and query) to send to the runtime: the request URL without `/t/{tenant}`. */
export function runtimePath(url: string): string {
  const rest = url.replace(TENANT_PREFIX, "");
  return rest.startsWith("/") ? rest : `/${rest}`;
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
    const path = runtimePath(request.raw.url ?? "/");
    if (isDirectToolPath(path)) throw new ClawfleetError("CF_ROUTE_FORBIDDEN", "POST /tools/invoke is not available through Clawfleet: tools run only when a model calls them through the model gateway, where the tenant's permission profile is enforced");
    const isJson = checkJsonBody(request, path);
    const decision = await dependencies.ownership.decide(tenantId);
    if (decision.kind === "remote") return dependencies.forwarder.forward(request, reply, decision.ownerUrl);
    const connection = await dependencies.runtimes.ensureReady(tenantId);
    recordInvocation(dependencies, request, tenantId, "http");
    const endRequest = dependencies.runtimes.beginRequest(tenantId);
    const abort = new AbortController();
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
        path,
        headers,
        body,
        signal: abort.signal,
      });
      reply.code(upstream.statusCode).headers(callerResponseHeaders(upstream.headers));
      return reply.send(upstream.body);
    } catch (error) {
      if (abort.signal.aborted) return reply;
      if (error instanceof undiciErrors.UndiciError) {
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
    scope.addHook<{ Params: TenantParams }>("onRequest", async function authenticateIngress(request) {
      const caller = await authorizeIngressCaller(request, request.params.tenant, dependencies);
      callers.set(request.raw, caller);
      const principal = caller.principal;
      request.log = request.log.child({ tenantId: request.params.tenant, ...(principal.kind === "api-key" ? { keyId: principal.key.id } : principal.kind === "user" ? { userId: principal.user.id } : {}) });
    });
    const handler = createHttpProxyHandler(dependencies);
    const wsHandler = (socket: import("ws").WebSocket, request: FastifyRequest<{ Params: TenantParams }>) => {
      const tenantId = request.params.tenant;
      const endRequest = dependencies.runtimes.beginRequest(tenantId);
      const caller = callers.get(request.raw);
      proxyWebSocket({
        caller: socket,
        identityHeaders: caller ? trustedProxyHeaders(caller.principal, caller.role, assertedClientOf(request) ?? request.socket.remoteAddress, dependencies.publicOrigin, "websocket") : {},
        ...(typeof request.headers.origin === "string" ? { origin: request.headers.origin } : {}),
        path: runtimePath(request.raw.url ?? "/"),
        connect: async () => {
          const decision = await dependencies.ownership.decide(tenantId);
          if (decision.kind === "local") {
            const connection = await dependencies.runtimes.ensureReady(tenantId);
            recordInvocation(dependencies, request, tenantId, "websocket");
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
