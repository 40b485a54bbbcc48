/**
 * Browser login: OpenID Connect authorization code flow with PKCE (RFC 7636, S256) through `openid-client`,
 * then a server-side session in an HttpOnly, SameSite=Lax cookie (Secure, with the `__Host-` prefix, when the
 * public origin is https). Routes:
 *
 * - `GET /auth/login?returnTo=/path` → 302 to the identity provider. The state, nonce and PKCE verifier are kept
 *   server-side (single use, 10 min); a short-lived cookie binds the state to this browser (login CSRF).
 * - `GET /auth/callback?code&state` → checks state against that cookie, exchanges the code with the verifier,
 *   verifies the ID token (signature, issuer, audience, nonce), provisions the user, applies the claim role
 *   mapping, then issues a NEW session id (any session cookie the browser brought is revoked, never adopted:
 *   no session fixation) and 303s to `returnTo` (same-origin paths only).
 * - `GET /auth/session` → the signed-in user, roles and the CSRF token state-changing requests must send as
 *   `x-csrf-token`.
 * - `POST /auth/logout` (CSRF token + Origin) → revokes the session server-side and clears the cookie.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CookieSerializeOptions } from "@fastify/cookie";
import * as openid from "openid-client";
import { ClawfleetError } from "../contracts/errors.js";
import type { PlatformRole } from "../contracts/identity.js";
import { resolveSession, sha256Hex, type IdentityChain } from "./identity-chain.js";
import { grantsFromClaims } from "./identity/principal.js";
import { PUBLIC_ROUTE } from "../http/route-auth-check.js";
import { requestCookie } from "./request-cookies.js";

/** Options of {@link registerBrowserLogin} (from `auth.browserLogin` + `auth.publicOrigin`). */
export interface BrowserLoginOptions {
  issuer: string;
  clientId: string;
  /** Client secret (confidential client); absent = public client with PKCE only. */
  clientSecret?: string | undefined;
  scopes: readonly string[];
  /** Absolute session lifetime, ms. */
  sessionTtlMs: number;
  /** Cookie name without prefix; `__Host-` is prepended when the origin is https. */
  cookieName: string;
  publicOrigin: string;
}

const LOGIN_TTL_MS = 10 * 60_000;
const LOGIN_COOKIE = "cf_login";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** A same-origin absolute path: `/…`, not `//host` nor `/\host` (which browsers treat as another host). */
const SAFE_RETURN_TO = /^\/(?![/\\])[\x21-\x7e]*$/;

/** The session cookie's full name: `__Host-<name>` under https (RFC 6265bis §4.1.3.2), else `<name>`. */
export function sessionCookieName(options: Pick<BrowserLoginOptions, "cookieName" | "publicOrigin">): string {
  return new URL(options.publicOrigin).protocol === "https:" ? `__Host-${options.cookieName}` : options.cookieName;
}

function random(): string {
  return randomBytes(32).toString("base64url");
}

/** Registers the `/auth/*` routes. The identity provider is discovered on the first login (and after a failure). */
export async function registerBrowserLogin(app: FastifyInstance, options: BrowserLoginOptions, chain: IdentityChain): Promise<void> {
  const secure = new URL(options.publicOrigin).protocol === "https:";
  const cookieName = sessionCookieName(options);
  const redirectUri = `${options.publicOrigin}/auth/callback`;
  const baseCookie: CookieSerializeOptions = { httpOnly: true, sameSite: "lax", secure, path: "/" };
  const identity = chain.options.identity;
  const now = chain.options.now;
  let configuration: Promise<openid.Configuration> | undefined;

  function discover(): Promise<openid.Configuration> {
    if (!configuration) {
      const issuerUrl = new URL(options.issuer);
      const insecure = issuerUrl.protocol === "http:" && LOOPBACK.has(issuerUrl.hostname);
      const pending = openid.discovery(
        issuerUrl,
        options.clientId,
        options.clientSecret,
        options.clientSecret === undefined ? openid.None() : undefined,
        { ...(insecure ? { execute: [openid.allowInsecureRequests] } : {}), timeout: 5 },
      );
      configuration = pending;
      pending.catch(() => {
        if (configuration === pending) configuration = undefined;
      });
    }
    return configuration.catch((error: unknown) => {
      throw new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", "identity provider unavailable: discovery failed", { cause: error });
    });
  }

  app.get<{ Querystring: { returnTo?: string } }, typeof PUBLIC_ROUTE>("/auth/login", { config: PUBLIC_ROUTE }, async function startLogin(request: FastifyRequest<{ Querystring: { returnTo?: string } }>, reply: FastifyReply) {
    const returnTo = typeof request.query.returnTo === "string" && SAFE_RETURN_TO.test(request.query.returnTo) ? request.query.returnTo : "/";
    const config = await discover();
    const state = random();
    const nonce = random();
    const codeVerifier = openid.randomPKCECodeVerifier();
    await identity.createLoginAttempt({ stateHash: sha256Hex(state), codeVerifier, nonce, returnTo, expiresAtMs: now() + LOGIN_TTL_MS });
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: options.scopes.join(" "),
      response_type: "code",
      code_challenge: await openid.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    reply.setCookie(LOGIN_COOKIE, state, { ...baseCookie, path: "/auth/callback", maxAge: LOGIN_TTL_MS / 1000 });
    return reply.code(302).header("cache-control", "no-store").redirect(url.href);
  });

  app.get<{ Querystring: Record<string, string | undefined> }, typeof PUBLIC_ROUTE>("/auth/callback", { config: PUBLIC_ROUTE }, async function finishLogin(request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply: FastifyReply) {
    const state = request.query.state;
    const boundState = requestCookie(request, LOGIN_COOKIE);
    if (typeof state !== "string" || boundState === undefined || !timingSafeEqual(Buffer.from(sha256Hex(state), "hex"), Buffer.from(sha256Hex(boundState), "hex"))) {
      throw new ClawfleetError("CF_LOGIN_FAILED", "login state does not match this browser; start again at /auth/login", { details: { reason: "state_mismatch" } });
    }
    const attempt = await identity.takeLoginAttempt(sha256Hex(state), now());
    if (!attempt) throw new ClawfleetError("CF_LOGIN_FAILED", "login expired or already used; start again at /auth/login", { details: { reason: "state_unknown" } });
    const config = await discover();
    const callbackUrl = new URL(`${redirectUri}${request.url.slice(request.url.indexOf("?"))}`);
    let claims: Record<string, unknown>;
    try {
      const tokens = await openid.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: attempt.codeVerifier, expectedState: state, expectedNonce: attempt.nonce, idTokenExpected: true });
      claims = { ...(tokens.claims() ?? {}) };
    } catch (error) {
      request.log.info({ err: error }, "login code exchange refused");
      throw new ClawfleetError("CF_LOGIN_FAILED", "the identity provider refused the login", { details: { reason: "code_exchange" }, cause: error });
    }
    const subject = claims.sub;
    if (typeof subject !== "string" || subject.length === 0) throw new ClawfleetError("CF_LOGIN_FAILED", "the ID token has no subject", { details: { reason: "no_subject" } });

    const issuer = config.serverMetadata().issuer;
    let user = await identity.findUserBySubject(issuer, subject);
    user ??= await identity.createUser({ issuer, subject });
    const email = typeof claims.email === "string" ? claims.email : null;
    const displayName = typeof claims.name === "string" ? claims.name : null;
    await identity.recordLogin(user.id, { email, displayName, atMs: now() });
    const grants = grantsFromClaims(claims, chain.options.roleMapping);
    await identity.syncClaimMemberships(user.id, grants.memberships);

    // Never adopt a session id the browser brought: revoke it (if it was a real one) and issue a fresh one.
    const previous = requestCookie(request, cookieName);
    if (previous) await identity.revokeSession(sha256Hex(previous), now());
    const sessionId = random();
    await identity.createSession({
      idHash: sha256Hex(sessionId),
      userId: user.id,
      csrfToken: random(),
      claimPlatformRoles: grants.platformRoles as PlatformRole[],
      createdAtMs: now(),
      expiresAtMs: now() + options.sessionTtlMs,
      revokedAtMs: null,
    });
    request.log.info({ userId: user.id }, "browser login");
    reply.clearCookie(LOGIN_COOKIE, { ...baseCookie, path: "/auth/callback" });
    reply.setCookie(cookieName, sessionId, { ...baseCookie, maxAge: Math.floor(options.sessionTtlMs / 1000) });
    return reply.code(303).header("cache-control", "no-store").redirect(attempt.returnTo);
  });

  app.get("/auth/session", async function showSession(request: FastifyRequest, reply: FastifyReply) {
    const cookie = requestCookie(request, cookieName);
    if (!cookie) throw new ClawfleetError("CF_AUTH_MISSING", "not signed in; log in at /auth/login");
    const { principal, csrfToken } = await resolveSession(chain.options, cookie);
    if (principal.kind !== "user") throw new ClawfleetError("CF_INTERNAL", "internal: a session resolved to a non-user");
    reply.header("cache-control", "no-store");
    return {
      user: { id: principal.user.id, email: principal.user.email, displayName: principal.user.displayName },
      platformRoles: [...principal.platformRoles].sort(),
      memberships: [...principal.memberships].map(([tenantId, role]) => ({ tenantId, role })),
      csrfToken,
    };
  });

  app.post("/auth/logout", async function logout(request: FastifyRequest, reply: FastifyReply) {
    // The chain's session step enforces the CSRF token and Origin on this POST.
    const principal = await chain.resolve(request, "admin");
    if (principal.kind !== "user" || principal.sessionIdHash === undefined) throw new ClawfleetError("CF_AUTH_MISSING", "not signed in with a browser session");
    await identity.revokeSession(principal.sessionIdHash, now());
    reply.clearCookie(cookieName, baseCookie);
    return reply.code(204).send();
  });
}
