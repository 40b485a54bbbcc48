/**
 * Identity headers the ingress sends to a runtime in OpenClaw's trusted-proxy mode
 * (docs/gateway/trusted-proxy-auth.md). The caller's own `x-forwarded-*`, `x-openclaw-*`, `x-clawfleet-*` and
 * credentials were already stripped (`headers.ts`); these are set by the ingress alone, on every request:
 *
 * - {@link RUNTIME_USER_HEADER}: `apikey:<keyId>` or `user:<userId>` (immutable ids, never an email);
 * - `x-openclaw-scopes`: the operator scopes of the caller's role (exact on HTTP, a cap on WebSocket);
 * - `x-forwarded-for`: overwritten with the caller's address. OpenClaw refuses a loopback client address behind
 *   a proxy (`proxy_attribution_required`, verified on 2026.9.6), so a caller on loopback is reported as
 *   `100::1` (RFC 6666 discard-only prefix: an address that names no host);
 * - `x-forwarded-proto` / `x-forwarded-host`: from `auth.publicOrigin` when configured.
 */
import type { Principal } from "../auth/identity/principal.js";
import { runtimeIdentity, SCOPES_BY_ROLE } from "../auth/identity/principal.js";
import type { TenantRole } from "../contracts/identity.js";

/** Header carrying the caller's identity to a trusted-proxy runtime. */
export const RUNTIME_USER_HEADER = "x-clawfleet-user";

/**
 * The identity Clawfleet's own exec-approval client uses on trusted-proxy runtimes. Unforgeable by callers: the
 * ingress always overwrites {@link RUNTIME_USER_HEADER}, and caller identities are `apikey:…` / `user:…` only.
 */
export const APPROVAL_CLIENT_IDENTITY = "clawfleet:approvals";
/** Scopes OpenClaw requires of an exec approver (FACTS.md: `operator.approvals` AND `operator.admin`). */
export const APPROVAL_CLIENT_SCOPES: readonly string[] = Object.freeze(["operator.read", "operator.approvals", "operator.admin"]);

/** Upgrade headers of the platform's approval client on a trusted-proxy runtime. */
export function approvalClientHeaders(): Record<string, string> {
  return { [RUNTIME_USER_HEADER]: APPROVAL_CLIENT_IDENTITY, "x-openclaw-scopes": APPROVAL_CLIENT_SCOPES.join(","), "x-forwarded-for": LOOPBACK_CALLER_ADDRESS };
}

/** Stands for a loopback caller in `X-Forwarded-For` (RFC 6666). */
export const LOOPBACK_CALLER_ADDRESS = "100::1";

function isLoopback(address: string): boolean {
  return address === "::1" || /^(::ffff:)?127\./i.test(address);
}

/** The caller's address for `X-Forwarded-For` (IPv4-mapped IPv6 unwrapped; loopback → {@link LOOPBACK_CALLER_ADDRESS}). */
export function forwardedClientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined || isLoopback(remoteAddress)) return LOOPBACK_CALLER_ADDRESS;
  return remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/**
 * Operator scopes sent with one proxied request. Over HTTP a caller who may write also gets `operator.approvals`:
 * OpenClaw registers a run's exec approval request with the caller's scopes and fails the tool call without it
 * ("Exec approval registration failed: missing scope: operator.approvals", seen on 2026.9.6), while no HTTP route
 * the ingress forwards can resolve an approval (those are WebSocket methods; `/tools/invoke` is refused). On
 * WebSocket the role's scopes stay as they are, so only Clawfleet's approval client can answer approvals.
 */
export function proxiedScopes(role: TenantRole | "api-key", transport: "http" | "websocket"): string[] {
  const scopes = [...SCOPES_BY_ROLE[role]];
  if (transport === "http" && scopes.includes("operator.write") && !scopes.includes("operator.approvals")) scopes.push("operator.approvals");
  return scopes;
}

/** The headers above for one caller; `role` is its access class on the tenant. */
export function trustedProxyHeaders(principal: Principal, role: TenantRole | "api-key", remoteAddress: string | undefined, publicOrigin: string | undefined, transport: "http" | "websocket"): Record<string, string> {
  const headers: Record<string, string> = {
    [RUNTIME_USER_HEADER]: runtimeIdentity(principal),
    "x-openclaw-scopes": proxiedScopes(role, transport).join(","),
    "x-forwarded-for": forwardedClientAddress(remoteAddress),
  };
  if (publicOrigin !== undefined) {
    const origin = new URL(publicOrigin);
    headers["x-forwarded-proto"] = origin.protocol.replace(":", "");
    headers["x-forwarded-host"] = origin.host;
  }
  return headers;
}
