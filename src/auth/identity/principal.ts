/**
 * Who a request comes from (a {@link Principal}) and the pure rules around it: claims → roles, roles → OpenClaw
 * operator scopes, and the identity string a runtime sees in trusted-proxy mode. No I/O.
 */
import type { ApiKeyRecord } from "../../contracts/store.js";
import { PLATFORM_ROLES, TENANT_ROLES, type PlatformRole, type TenantRole, type UserRecord } from "../../contracts/identity.js";

/** How a user proved who they are. */
export type UserMethod = "session" | "oidc" | "alb";

/** The authenticated caller of one request. */
export type Principal =
  | { kind: "admin-token" }
  | { kind: "api-key"; key: ApiKeyRecord }
  | {
      kind: "user";
      user: UserRecord;
      method: UserMethod;
      /** Stored roles ∪ roles granted by the identity provider's claims. */
      platformRoles: ReadonlySet<PlatformRole>;
      /** tenant id → role (stored memberships ∪ claim-derived ones, the stronger role winning). */
      memberships: ReadonlyMap<string, TenantRole>;
      /** Set when the request was authenticated by the session cookie (CSRF rules apply). */
      sessionIdHash?: string;
    };

/** Role mapping options (the validated `auth.roleMapping` config). */
export interface RoleMappingOptions {
  groupsClaim: string;
  platformRoles: Readonly<Record<string, PlatformRole>>;
  tenantGroupPattern?: string | undefined;
}

/** What the claims of one token grant. */
export interface ClaimGrants {
  platformRoles: PlatformRole[];
  memberships: Array<{ tenantId: string; role: TenantRole }>;
}

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The groups in `claims[groupsClaim]`: an array of strings, or one space/comma separated string. */
export function groupsOf(claims: Readonly<Record<string, unknown>>, groupsClaim: string): string[] {
  const value = claims[groupsClaim];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  if (typeof value === "string") return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/**
 * Roles granted by claims: each group named in `platformRoles` grants that platform role; each group matching
 * `tenantGroupPattern` (named captures `tenant` and `role`) grants that tenant role. The strongest role per
 * tenant wins. Invalid tenant ids and unknown roles are ignored.
 * @throws SyntaxError when `tenantGroupPattern` is not a valid regular expression (validated at start).
 */
export function grantsFromClaims(claims: Readonly<Record<string, unknown>>, mapping: RoleMappingOptions): ClaimGrants {
  const groups = groupsOf(claims, mapping.groupsClaim);
  const platformRoles = new Set<PlatformRole>();
  const memberships = new Map<string, TenantRole>();
  const pattern = mapping.tenantGroupPattern ? new RegExp(mapping.tenantGroupPattern) : null;
  for (const group of groups) {
    const platformRole = Object.hasOwn(mapping.platformRoles, group) ? mapping.platformRoles[group] : undefined;
    if (platformRole !== undefined && PLATFORM_ROLES.includes(platformRole)) platformRoles.add(platformRole);
    const match = pattern?.exec(group);
    const tenantId = match?.groups?.tenant;
    const role = match?.groups?.role as TenantRole | undefined;
    if (tenantId === undefined || role === undefined || !TENANT_ID.test(tenantId) || !TENANT_ROLES.includes(role)) continue;
    memberships.set(tenantId, strongerRole(memberships.get(tenantId), role));
  }
  return { platformRoles: [...platformRoles].sort(), memberships: [...memberships].map(([tenantId, role]) => ({ tenantId, role })) };
}

/** The stronger of two tenant roles (owner > member > viewer). */
export function strongerRole(left: TenantRole | undefined, right: TenantRole): TenantRole {
  if (left === undefined) return right;
  return TENANT_ROLES.indexOf(left) <= TENANT_ROLES.indexOf(right) ? left : right;
}

/**
 * OpenClaw operator scopes (docs/gateway/operator-scopes.md) a caller gets on its tenant's runtime, sent as
 * `x-openclaw-scopes` (a cap on WebSocket sessions, the exact set on HTTP). Never `operator.admin`: a tenant's
 * runtime config is managed by the platform. Chat completions need `operator.write` (verified on 2026.9.6).
 */
export const SCOPES_BY_ROLE: Readonly<Record<TenantRole | "api-key", readonly string[]>> = {
  owner: ["operator.read", "operator.write", "operator.approvals"],
  member: ["operator.read", "operator.write"],
  viewer: ["operator.read"],
  "api-key": ["operator.read", "operator.write"],
};

/** The identity a runtime sees in trusted-proxy mode: `apikey:<keyId>` or `user:<userId>`. */
export function runtimeIdentity(principal: Principal): string {
  if (principal.kind === "api-key") return `apikey:${principal.key.id}`;
  if (principal.kind === "user") return `user:${principal.user.id}`;
  return "admin";
}

/** The caller's role class on a tenant (for {@link SCOPES_BY_ROLE}); undefined when it has no access. */
export function tenantAccess(principal: Principal, tenantId: string): TenantRole | "api-key" | undefined {
  if (principal.kind === "api-key") return principal.key.tenantId === tenantId ? "api-key" : undefined;
  if (principal.kind === "user") return principal.memberships.get(tenantId);
  return undefined;
}
