/**
 * Who may use `/t/{tenant}/…`: a tenant API key (`chat` scope) of exactly that tenant, or a user who is a member
 * of it (any login method). Everyone else gets 403 whether or not the tenant exists, and nothing of the tenant
 * is touched (not even its runtime's start). Platform roles grant no tenant access. When runtimes use token
 * auth (every caller is a full operator there), viewers may only read: GET/HEAD, and no WebSocket.
 */
import type { FastifyRequest } from "fastify";
import type { IdentityChain } from "../auth/identity-chain.js";
import { tenantAccess, type Principal } from "../auth/identity/principal.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { TenantRole } from "../contracts/identity.js";
import type { SnapshotPublisher } from "../control/snapshot.js";

/** An authorized ingress caller: who, and its access class on the tenant. */
export interface IngressCaller {
  principal: Principal;
  role: TenantRole | "api-key";
}

/**
 * @throws ClawfleetError from the identity chain (401s, CSRF), CF_FORBIDDEN_TENANT, CF_FORBIDDEN_ROLE.
 */
export async function authorizeIngressCaller(
  request: FastifyRequest,
  tenantId: string,
  dependencies: { identity: IdentityChain; snapshots: SnapshotPublisher; runtimeAuthMode: "token" | "trusted-proxy" },
): Promise<IngressCaller> {
  const principal = await dependencies.identity.resolve(request, "ingress");
  const role = tenantAccess(principal, tenantId);
  if (role === undefined || !dependencies.snapshots.current().tenants.has(tenantId)) {
    throw new ClawfleetError("CF_FORBIDDEN_TENANT", principal.kind === "api-key" ? "this API key is not valid for this tenant" : "you are not a member of this tenant");
  }
  const isUpgrade = (request.headers.upgrade ?? "").toLowerCase() === "websocket";
  if (role === "viewer" && dependencies.runtimeAuthMode === "token" && (isUpgrade || !["GET", "HEAD"].includes(request.method))) {
    throw new ClawfleetError("CF_FORBIDDEN_ROLE", "viewers may only read this tenant");
  }
  return { principal, role };
}
