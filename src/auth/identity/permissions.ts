/**
 * Who may do what on the admin API (`/admin/v1/…`). The admin token and users with the platform role `admin`
 * may do everything. The other platform roles get the reads (and, for approvers, the approval decisions) their
 * job needs; anything not listed is admin-only. Tenant roles grant nothing on the admin API.
 *
 * | resource (path under /admin/v1)                         | auditor | approver        |
 * |---------------------------------------------------------|---------|-----------------|
 * | `GET /tenants`, `/tenants/{id}`, `…/keys`, `…/runtime`  | read    | read            |
 * | `GET /tenants/{id}/requests`, `/usage`                  | read    | —               |
 * | `GET /users…`, `/channel-identities…`, `…/members`       | read    | —               |
 * | `/approvals…`                                           | read    | read + decide   |
 * | `/audit…`                                               | read    | read            |
 * | everything else (writes, runtime logs, settings)        | —       | —               |
 */
import { ClawfleetError } from "../../contracts/errors.js";
import type { PlatformRole } from "../../contracts/identity.js";
import type { Principal } from "./principal.js";

interface Rule {
  path: RegExp;
  read: readonly PlatformRole[];
  write: readonly PlatformRole[];
}

const RULES: readonly Rule[] = [
  { path: /^\/tenants(\/[^/]+)?$/, read: ["auditor", "approver"], write: [] },
  { path: /^\/tenants\/[^/]+\/(keys|runtime)$/, read: ["auditor", "approver"], write: [] },
  { path: /^\/tenants\/[^/]+\/requests$/, read: ["auditor"], write: [] },
  { path: /^\/tenants\/[^/]+\/members(\/[^/]+)?$/, read: ["auditor"], write: [] },
  { path: /^\/usage$/, read: ["auditor"], write: [] },
  { path: /^\/(users|channel-identities)(\/.*)?$/, read: ["auditor"], write: [] },
  { path: /^\/approvals(\/.*)?$/, read: ["auditor", "approver"], write: ["approver"] },
  { path: /^\/audit(\/.*)?$/, read: ["auditor", "approver"], write: [] },
];

const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * True when `roles` allow `method` on `path` (the path below `/admin/v1`, without query).
 * Pure; see the table in this module's docstring.
 */
export function platformRolesAllow(roles: ReadonlySet<PlatformRole>, method: string, path: string): boolean {
  if (roles.has("admin")) return true;
  const rule = RULES.find((candidate) => candidate.path.test(path));
  if (!rule) return false;
  const allowed = READ_METHODS.has(method.toUpperCase()) ? rule.read : rule.write;
  return allowed.some((role) => roles.has(role));
}

/**
 * Authorizes an admin API request.
 * @throws ClawfleetError CF_FORBIDDEN_ROLE when the principal may not do this (API keys never may).
 */
export function authorizeAdminRequest(principal: Principal, method: string, path: string): void {
  if (principal.kind === "admin-token") return;
  if (principal.kind === "user" && platformRolesAllow(principal.platformRoles, method, path)) return;
  throw new ClawfleetError("CF_FORBIDDEN_ROLE", "your role does not allow this admin API request", { details: { method, path } });
}
