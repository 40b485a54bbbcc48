/**
 * Pure parts of the identity layer: claim → role mapping, the admin permission matrix, trusted ALB sources,
 * the identity headers of trusted-proxy runtimes, their rendered OpenClaw config, and the `auth` config schema.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { grantsFromClaims, SCOPES_BY_ROLE, type Principal } from "../../../src/auth/identity/principal.js";
import { authorizeAdminRequest, platformRolesAllow } from "../../../src/auth/identity/permissions.js";
import { createTrustedSources } from "../../../src/auth/identity/trusted-sources.js";
import { authSchema } from "../../../src/config/auth-schema.js";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import type { PlatformRole } from "../../../src/contracts/identity.js";
import { forwardedClientAddress, LOOPBACK_CALLER_ADDRESS, RUNTIME_USER_HEADER, trustedProxyHeaders } from "../../../src/ingress/trusted-proxy.js";
import { renderOpenClawConfig } from "../../../src/runtime/openclaw-config.js";

const mapping = {
  groupsClaim: "cognito:groups",
  platformRoles: { "platform-admins": "admin" as const, auditors: "auditor" as const },
  tenantGroupPattern: "^tenant-(?<tenant>[a-z0-9-]+)-(?<role>owner|member|viewer)$",
};

test("claims → roles: platform groups, tenant groups (strongest role wins), junk ignored", () => {
  const grants = grantsFromClaims(
    { "cognito:groups": ["auditors", "tenant-acme-viewer", "tenant-acme-owner", "tenant-globex-member", "tenant-Bad_Id-owner", "tenant-x-superuser", "__proto__", "constructor"] },
    mapping,
  );
  assert.deepEqual(grants.platformRoles, ["auditor"]);
  assert.deepEqual(grants.memberships, [{ tenantId: "acme", role: "owner" }, { tenantId: "globex", role: "member" }]);
  assert.deepEqual(grantsFromClaims({ "cognito:groups": "platform-admins tenant-acme-member" }, mapping), { platformRoles: ["admin"], memberships: [{ tenantId: "acme", role: "member" }] });
  assert.deepEqual(grantsFromClaims({ groups: ["platform-admins"] }, mapping), { platformRoles: [], memberships: [] }, "another claim name grants nothing");
  assert.deepEqual(grantsFromClaims({ "cognito:groups": 42 }, mapping), { platformRoles: [], memberships: [] });
});

test("admin permission matrix", () => {
  const allow = (roles: PlatformRole[], method: string, path: string) => platformRolesAllow(new Set(roles), method, path);
  assert.equal(allow(["admin"], "DELETE", "/tenants/acme"), true);
  assert.equal(allow(["auditor"], "GET", "/tenants"), true);
  assert.equal(allow(["auditor"], "GET", "/tenants/acme/requests"), true);
  assert.equal(allow(["auditor"], "GET", "/usage"), true);
  assert.equal(allow(["auditor"], "GET", "/users/u1"), true);
  assert.equal(allow(["auditor"], "POST", "/tenants"), false);
  assert.equal(allow(["auditor"], "GET", "/tenants/acme/runtime/logs"), false, "logs may hold prompts: admin only");
  assert.equal(allow(["auditor"], "POST", "/approvals/a1/decision"), false);
  assert.equal(allow(["approver"], "POST", "/approvals/a1/decision"), true);
  assert.equal(allow(["approver"], "GET", "/tenants/acme"), true);
  assert.equal(allow(["approver"], "GET", "/usage"), false);
  assert.equal(allow(["approver"], "PUT", "/tenants/acme/settings"), false);
  assert.equal(allow([], "GET", "/tenants"), false);
  const member: Principal = { kind: "user", user: { id: "u", issuer: "i", subject: "s", email: null, displayName: null, platformRoles: [], createdAtMs: 0, lastLoginAtMs: null }, method: "oidc", platformRoles: new Set(), memberships: new Map([["acme", "owner"]]) };
  assert.throws(() => authorizeAdminRequest(member, "GET", "/tenants"), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_FORBIDDEN_ROLE");
  assert.doesNotThrow(() => authorizeAdminRequest({ kind: "admin-token" }, "DELETE", "/users/u"));
});

test("trusted ALB sources: CIDRs, single addresses, IPv4-mapped IPv6; bad CIDRs are config errors", () => {
  const sources = createTrustedSources(["10.0.0.0/16", "192.0.2.7", "2001:db8::/32"]);
  assert.equal(sources.has("10.0.255.1"), true);
  assert.equal(sources.has("::ffff:10.0.3.4"), true);
  assert.equal(sources.has("10.1.0.1"), false);
  assert.equal(sources.has("192.0.2.7"), true);
  assert.equal(sources.has("192.0.2.8"), false);
  assert.equal(sources.has("2001:db8::1"), true);
  assert.equal(sources.has("127.0.0.1"), false);
  assert.equal(sources.has(undefined), false);
  for (const bad of ["10.0.0.0/33", "10.0.0/8", "example.com", "10.0.0.0/x", "::/129"]) {
    assert.throws(() => createTrustedSources([bad]), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_CONFIG_INVALID", bad);
  }
});

test("trusted-proxy headers: immutable identity, role scopes, overwritten X-Forwarded-For", () => {
  assert.equal(forwardedClientAddress("127.0.0.1"), LOOPBACK_CALLER_ADDRESS);
  assert.equal(forwardedClientAddress("::ffff:127.0.0.1"), LOOPBACK_CALLER_ADDRESS);
  assert.equal(forwardedClientAddress("::1"), LOOPBACK_CALLER_ADDRESS);
  assert.equal(forwardedClientAddress("::ffff:203.0.113.5"), "203.0.113.5");
  const key: Principal = { kind: "api-key", key: { id: "0123456789ab", tenantId: "acme", kind: "tenant", scopes: ["chat"], hash: "", createdAtMs: 0, expiresAtMs: null, revokedAtMs: null, lastUsedAtMs: null } };
  assert.equal(trustedProxyHeaders(key, "api-key", "203.0.113.5", undefined, "http")["x-openclaw-scopes"], "operator.read,operator.write,operator.approvals", "over HTTP a writer may register exec approvals");
  assert.equal(trustedProxyHeaders({ ...key }, "viewer", "203.0.113.5", undefined, "http")["x-openclaw-scopes"], "operator.read", "a viewer gains nothing over HTTP");
  assert.deepEqual(trustedProxyHeaders(key, "api-key", "203.0.113.5", "https://clawfleet.example.com", "websocket"), {
    [RUNTIME_USER_HEADER]: "apikey:0123456789ab",
    "x-openclaw-scopes": "operator.read,operator.write",
    "x-forwarded-for": "203.0.113.5",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "clawfleet.example.com",
  });
  for (const scopes of Object.values(SCOPES_BY_ROLE)) assert.ok(!scopes.includes("operator.admin"), "no role gets operator.admin on a runtime");
});

test("a trusted-proxy runtime config: no token, loopback proxy, identity scopes, allowed origins; tenant settings cannot widen it", () => {
  const config = renderOpenClawConfig({
    existing: {},
    tenantSettings: { gateway: { trustedProxies: ["0.0.0.0/0"], auth: { mode: "none" }, controlUi: { allowedOrigins: ["*"] } } },
    platform: {
      tenantId: "acme",
      gatewayPort: 19001,
      gatewayToken: "gateway-token-alpha",
      modelBaseUrl: "http://127.0.0.1:1/v1",
      virtualKey: "cfv_x",
      modelIds: ["default"],
      workspaceDir: "/w",
      logFile: "/l",
      overrides: {},
      trustedProxy: { userHeader: RUNTIME_USER_HEADER, allowedOrigins: ["https://clawfleet.example.com"], identityScopes: { "user:u1": ["operator.read"] } },
    },
  }) as { gateway: Record<string, unknown> };
  assert.deepEqual(config.gateway.auth, {
    mode: "trusted-proxy",
    trustedProxy: { userHeader: RUNTIME_USER_HEADER, allowLoopback: true, deviceAutoApprove: { enabled: true, scopes: ["operator.read", "operator.write", "operator.approvals"] } },
    identityScopes: { "user:u1": ["operator.read"] },
  });
  assert.equal(JSON.stringify(config).includes("gateway-token-alpha"), false, "no token next to trusted-proxy (OpenClaw refuses both)");
  assert.deepEqual(config.gateway.trustedProxies, ["127.0.0.1"]);
  assert.deepEqual((config.gateway.controlUi as { allowedOrigins: string[] }).allowedOrigins, ["https://clawfleet.example.com"]);
});

test("auth config: browser login needs a public origin; OIDC needs exactly one of issuer or cognito", () => {
  assert.equal(authSchema.safeParse({ browserLogin: { issuer: "https://idp", clientId: "c" } }).success, false);
  assert.equal(authSchema.safeParse({ publicOrigin: "https://cf.example", browserLogin: { issuer: "https://idp", clientId: "c" } }).success, true);
  assert.equal(authSchema.safeParse({ oidc: { issuer: "https://idp" } }).success, false, "audience required with issuer");
  assert.equal(authSchema.safeParse({ oidc: { issuer: "https://idp", audience: "a", cognito: { region: "eu-west-1", userPoolId: "eu-west-1_X", clientId: "c" } } }).success, false);
  assert.equal(authSchema.safeParse({ oidc: { cognito: { region: "eu-west-1", userPoolId: "eu-west-1_X", clientId: "c" } } }).success, true);
  assert.equal(authSchema.safeParse({ oidc: { issuer: "https://idp", audience: "a", allowedAlgorithms: ["HS256"] } }).success, false, "no symmetric algorithms");
  assert.equal(authSchema.parse({}).runtimeAuthMode, "auto");
});
