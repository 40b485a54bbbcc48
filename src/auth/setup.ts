/**
 * Builds Clawfleet's identity layer from the validated `auth` config: the OIDC and ALB verifiers, the identity
 * chain, the cookie parser and the browser login routes, the admin API's authorization, the assertions replicas
 * exchange about callers they verified, and how runtimes authenticate the ingress (token or trusted-proxy) with
 * their identity scopes.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import type { AuthConfig } from "../config/auth-schema.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { IdentityRepository } from "../contracts/identity.js";
import type { RuntimeTrustedProxy } from "../contracts/runtime-driver.js";
import type { TenantService } from "../control/tenants.js";
import type { SnapshotPublisher } from "../control/snapshot.js";
import type { Logger } from "../observability/logger.js";
import { createAlbVerifier } from "./alb/verifier.js";
import type { KeyUsageRecorder } from "./authenticate.js";
import { registerBrowserLogin, sessionCookieName } from "./browser-login.js";
import { createIdentityChain, type IdentityChain } from "./identity-chain.js";
import { authorizeAdminRequest } from "./identity/permissions.js";
import { SCOPES_BY_ROLE } from "./identity/principal.js";
import { createTrustedSources } from "./identity/trusted-sources.js";
import { createOidcVerifier } from "./oidc/verifier.js";
import { ReplicaAssertions, replicaAssertionKey } from "./replica-assertion.js";
import { APPROVAL_CLIENT_IDENTITY, APPROVAL_CLIENT_SCOPES, RUNTIME_USER_HEADER } from "../ingress/trusted-proxy.js";

/** What {@link setUpIdentity} hands to the ingress, the admin API and the runtime manager. */
export interface IdentitySetup {
  chain: IdentityChain;
  /** Signs (when forwarding to the owner replica) and verifies (as the owner) assertions of verified callers. */
  replicaAssertions: ReplicaAssertions;
  /** The admin API's onRequest authorization (admin token, or a user whose platform roles allow the request). */
  authorizeAdmin: (request: FastifyRequest) => Promise<void>;
  runtimeAuthMode: "token" | "trusted-proxy";
  /**
   * Trusted-proxy settings of a tenant's runtime as of now (stored members by role, live chat keys, the approval
   * client), rendered at each start and again whenever members or keys change (`src/runtime/identity-sync.ts`);
   * undefined in token mode.
   */
  trustedProxyFor: ((tenantId: string) => Promise<RuntimeTrustedProxy | undefined>) | undefined;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Registers `@fastify/cookie` and (with `auth.browserLogin`) the `/auth/*` routes on `app`, and builds the rest.
 * @throws ClawfleetError CF_CONFIG_INVALID for unusable settings (bad CIDR, bad regex, cleartext public origin
 *   off loopback without `allowInsecureCookies`, missing client secret variable).
 */
export async function setUpIdentity(
  app: FastifyInstance,
  auth: AuthConfig,
  dependencies: {
    snapshots: SnapshotPublisher;
    keyUsage: KeyUsageRecorder;
    identity: IdentityRepository;
    tenants: TenantService;
    now: () => number;
    adminToken: string;
    /** `server.replicaSecret`; without it the replica-assertion key is derived from the admin token. */
    replicaSecret?: string | undefined;
    /** This replica's URL as the others reach it (known once the server listens). */
    selfUrl: () => string;
    sandboxed: boolean;
    env: NodeJS.ProcessEnv;
    logger: Logger;
  },
): Promise<IdentitySetup> {
  if (auth.roleMapping.tenantGroupPattern !== undefined) {
    try {
      new RegExp(auth.roleMapping.tenantGroupPattern);
    } catch {
      throw new ClawfleetError("CF_CONFIG_INVALID", "auth.roleMapping.tenantGroupPattern is not a valid regular expression");
    }
  }
  const oidc = auth.oidc
    ? createOidcVerifier({
        ...(auth.oidc.cognito ? { cognito: auth.oidc.cognito } : { issuer: auth.oidc.issuer as string, audience: auth.oidc.audience as string | string[] }),
        allowedAlgorithms: auth.oidc.allowedAlgorithms,
        clockSkewSeconds: auth.oidc.clockSkewSeconds,
        ...(auth.oidc.discoveryUrl ? { discoveryUrl: auth.oidc.discoveryUrl } : {}),
      })
    : undefined;
  const alb = auth.alb
    ? {
        verifier: createAlbVerifier({
          region: auth.alb.region,
          albArn: auth.alb.albArn,
          clientId: auth.alb.clientId,
          issuer: auth.alb.issuer,
          clockSkewSeconds: auth.alb.clockSkewSeconds,
          ...(auth.alb.keyBaseUrl ? { keyBaseUrl: auth.alb.keyBaseUrl } : {}),
        }),
        issuer: auth.alb.issuer,
        trustedSources: createTrustedSources(auth.alb.trustedProxyCidrs),
      }
    : undefined;

  const browserLogin = auth.browserLogin;
  const publicOrigin = auth.publicOrigin === undefined ? undefined : new URL(auth.publicOrigin).origin;
  if (browserLogin && publicOrigin) {
    const origin = new URL(publicOrigin);
    if (origin.protocol !== "https:" && !LOOPBACK_HOSTS.has(origin.hostname) && !auth.allowInsecureCookies) {
      throw new ClawfleetError("CF_CONFIG_INVALID", "auth.publicOrigin must be https (session cookies are Secure); set auth.allowInsecureCookies for a cleartext test setup");
    }
  }
  const clientSecret = browserLogin?.clientSecretEnv ? dependencies.env[browserLogin.clientSecretEnv] : undefined;
  if (browserLogin?.clientSecretEnv && !clientSecret) throw new ClawfleetError("CF_CONFIG_INVALID", `auth.browserLogin.clientSecretEnv: ${browserLogin.clientSecretEnv} is not set`);

  // hook: false — cookies are parsed only where read (request-cookies.ts), not on every request.
  await app.register(fastifyCookie, { hook: false });
  const replicaAssertions = new ReplicaAssertions(replicaAssertionKey({ replicaSecret: dependencies.replicaSecret, adminToken: dependencies.adminToken }), dependencies.selfUrl, dependencies.now);
  const chain = createIdentityChain({
    replicaAssertions,
    snapshots: dependencies.snapshots,
    keyUsage: dependencies.keyUsage,
    identity: dependencies.identity,
    now: dependencies.now,
    adminToken: dependencies.adminToken,
    roleMapping: auth.roleMapping,
    oidc,
    alb,
    session: browserLogin && publicOrigin ? { cookieName: sessionCookieName({ cookieName: browserLogin.cookieName, publicOrigin }), publicOrigin } : undefined,
  });
  if (browserLogin && publicOrigin) {
    await registerBrowserLogin(
      app,
      { issuer: browserLogin.issuer, clientId: browserLogin.clientId, clientSecret, scopes: browserLogin.scopes, sessionTtlMs: browserLogin.sessionTtlMs, cookieName: browserLogin.cookieName, publicOrigin },
      chain,
    );
  }

  const runtimeAuthMode = auth.runtimeAuthMode === "auto" ? (dependencies.sandboxed ? "trusted-proxy" : "token") : auth.runtimeAuthMode;
  if (runtimeAuthMode === "trusted-proxy" && !dependencies.sandboxed) {
    dependencies.logger.warn("auth.runtimeAuthMode is trusted-proxy but runtimes are NOT sandboxed: every local process that reaches a runtime's loopback port can claim every identity");
  }
  const trustedProxyFor =
    runtimeAuthMode === "trusted-proxy"
      ? async (tenantId: string): Promise<RuntimeTrustedProxy> => {
          const identityScopes: Record<string, string[]> = { [APPROVAL_CLIENT_IDENTITY]: [...APPROVAL_CLIENT_SCOPES] };
          for (const membership of await dependencies.identity.listMemberships({ tenantId })) identityScopes[`user:${membership.userId}`] = [...SCOPES_BY_ROLE[membership.role]];
          const nowMs = dependencies.now();
          for (const key of await dependencies.tenants.listKeys(tenantId)) {
            const live = key.revokedAt === null && (key.expiresAt === null || Date.parse(key.expiresAt) > nowMs);
            if (key.kind === "tenant" && key.scopes.includes("chat") && live) identityScopes[`apikey:${key.id}`] = [...SCOPES_BY_ROLE["api-key"]];
          }
          return { userHeader: RUNTIME_USER_HEADER, allowedOrigins: publicOrigin ? [publicOrigin] : [], identityScopes };
        }
      : undefined;

  return {
    chain,
    replicaAssertions,
    runtimeAuthMode,
    trustedProxyFor,
    async authorizeAdmin(request) {
      const principal = await chain.resolve(request, "admin");
      const path = (request.url.split("?", 1)[0] ?? request.url).replace(/^\/admin\/v1/, "");
      authorizeAdminRequest(principal, request.method, path);
    },
  };
}
