/**
 * Verifies OIDC bearer JWTs (RFC 7519 / RFC 7515) from one configured issuer, keys from its JWKS found through
 * OpenID Connect Discovery 1.0 (`<issuer>/.well-known/openid-configuration`), and Amazon Cognito user pool
 * tokens. A pure module: no HTTP server, only outbound fetches to the issuer's discovery and JWKS documents.
 *
 * What is refused, and why (RFC 8725 "JWT Best Current Practices"):
 * - tokens over {@link MAX_TOKEN_BYTES}, before any parsing (`too_large`);
 * - any `alg` outside the configured asymmetric allow-list — never `none`, never `HS*` (so a token "signed"
 *   with the issuer's public key as an HMAC secret is refused before a key is looked up) (`algorithm_not_allowed`);
 * - keys named by the token (`jku`, `jwk`, `x5u`, `x5c`) are ignored: keys only come from the issuer's JWKS;
 * - wrong `iss`, wrong `aud`, missing `exp`, expired, `nbf` in the future (with `clockSkewSeconds` leeway).
 *
 * Cognito (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html):
 * issuer `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`; ID tokens carry `aud` = app client id,
 * access tokens carry `client_id` instead (and no `aud`); `token_use` must be the expected `id` / `access`.
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { z } from "zod";
import { ClawfleetError } from "../../contracts/errors.js";

/** Largest accepted token, in bytes (UTF-8). Larger tokens are refused before they are parsed. */
export const MAX_TOKEN_BYTES = 8 * 1024;

/** Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037) that may be allowed. `none` and `HS*` are never allowed. */
export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;

/** An allowed JWS algorithm. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Why a token was refused; sent to the caller as `details.reason` of CF_AUTH_INVALID_TOKEN. */
export type TokenRejectionReason =
  | "too_large"
  | "malformed"
  | "algorithm_not_allowed"
  | "unknown_kid"
  | "bad_signature"
  | "wrong_issuer"
  | "wrong_audience"
  | "wrong_token_use"
  | "missing_exp"
  | "expired"
  | "not_yet_valid"
  | "missing_subject"
  | "invalid_claims";

/** Amazon Cognito user pool mode: issuer and audience are derived from the pool and the app client. */
export interface CognitoOptions {
  /** User pool id, e.g. `eu-west-1_AbCdEf123`. */
  userPoolId: string;
  /** AWS region of the pool, e.g. `eu-west-1`. */
  region: string;
  /** App client id: the `aud` of ID tokens, the `client_id` of access tokens. */
  clientId: string;
  /** Which Cognito token this verifier accepts (`token_use` claim). */
  tokenUse: "id" | "access";
}

interface CommonOptions {
  /** Allowed JWS algorithms; default `["RS256", "ES256"]`. Anything outside {@link ASYMMETRIC_ALGORITHMS} is a config error. */
  allowedAlgorithms?: readonly string[];
  /** Leeway for `exp` and `nbf`, in seconds; default 60. */
  clockSkewSeconds?: number;
  /** Discovery document URL; default `<issuer>/.well-known/openid-configuration`. */
  discoveryUrl?: string;
  /** fetch implementation for discovery and JWKS (tests); default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Current time in ms since the epoch (tests); default `Date.now`. */
  now?: () => number;
  /** Minimum time between two JWKS refetches triggered by an unknown `kid`, in ms; default 30 000. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is refetched, in ms; default 600 000. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of each discovery / JWKS request, in ms; default 5 000. */
  fetchTimeoutMs?: number;
}

/** Options of {@link createOidcVerifier}: either a generic issuer + audience, or a Cognito user pool. */
export type OidcVerifierOptions = CommonOptions &
  (
    | { /** Exact expected `iss`. */ issuer: string; /** Accepted `aud` value(s). */ audience: string | readonly string[]; cognito?: undefined }
    | { cognito: CognitoOptions; issuer?: undefined; audience?: undefined }
  );

/** A verified identity: the `sub` claim and every claim of the token. */
export interface VerifiedIdentity {
  subject: string;
  claims: Readonly<Record<string, unknown>>;
}

/** Verifies bearer tokens of one issuer. */
export interface OidcVerifier {
  /** The issuer this verifier accepts. */
  readonly issuer: string;
  /**
   * Verifies a compact JWS (without the `Bearer ` prefix).
   * @throws ClawfleetError CF_AUTH_INVALID_TOKEN (401) with `details.reason` ({@link TokenRejectionReason});
   *   CF_AUTH_PROVIDER_UNAVAILABLE (503) when discovery or the JWKS cannot be fetched (fails closed).
   */
  verify(token: string): Promise<VerifiedIdentity>;
}

const DEFAULT_ALGORITHMS: readonly AsymmetricAlgorithm[] = ["RS256", "ES256"];
const MAX_DISCOVERY_BYTES = 256 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

const discoverySchema = z.object({ issuer: z.string().min(1), jwks_uri: z.string().min(1) });

function rejection(reason: TokenRejectionReason, message: string): ClawfleetError {
  return new ClawfleetError("CF_AUTH_INVALID_TOKEN", `invalid token: ${message}`, { details: { reason } });
}

function unavailable(message: string, cause?: unknown): ClawfleetError {
  return new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", `identity provider unavailable: ${message}`, { cause });
}

function configError(message: string): ClawfleetError {
  return new ClawfleetError("CF_CONFIG_INVALID", `OIDC verifier: ${message}`);
}

/** https, or http to a loopback host (in-process test issuers). Anything else is refused. */
function parseFetchableUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${what} is not a URL`);
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return url;
  throw configError(`${what} must be https (plain http only to loopback)`);
}

function resolveAllowedAlgorithms(requested: readonly string[] | undefined): readonly AsymmetricAlgorithm[] {
  if (requested === undefined) return DEFAULT_ALGORITHMS;
  if (requested.length === 0) throw configError("allowedAlgorithms is empty");
  const allowed = new Set<string>(ASYMMETRIC_ALGORITHMS);
  for (const algorithm of requested) if (!allowed.has(algorithm)) throw configError(`algorithm ${JSON.stringify(algorithm)} is not allowed (only asymmetric JWS algorithms; never none or HS*)`);
  return requested as readonly AsymmetricAlgorithm[];
}

const COGNITO_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const COGNITO_POOL = /^[a-z]{2}(-[a-z]+)+-\d+_[A-Za-z0-9]+$/;

/** The issuer of a Cognito user pool: `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
export function cognitoIssuer(region: string, userPoolId: string): string {
  if (!COGNITO_REGION.test(region)) throw configError(`invalid Cognito region ${JSON.stringify(region)}`);
  if (!COGNITO_POOL.test(userPoolId)) throw configError(`invalid Cognito user pool id ${JSON.stringify(userPoolId)}`);
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

function reasonOf(error: unknown): TokenRejectionReason | undefined {
  if (error instanceof joseErrors.JWTExpired) return "expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "aud") return "wrong_audience";
    if (error.claim === "nbf") return error.reason === "check_failed" ? "not_yet_valid" : "malformed";
    if (error.claim === "exp") return error.reason === "missing" ? "missing_exp" : "malformed";
    return "invalid_claims";
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "algorithm_not_allowed";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return "unknown_kid";
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JOSENotSupported) return "malformed";
  return undefined;
}

/**
 * Creates a verifier for one issuer. Discovery runs on the first `verify` (and again after a failure); the
 * discovery document must name exactly the configured issuer. The JWKS is fetched with jose
 * `createRemoteJWKSet`: cached (`jwksCacheMaxAgeMs`), refetched on an unknown `kid` at most once per
 * `jwksCooldownMs`.
 * @throws ClawfleetError CF_CONFIG_INVALID on bad options (non-asymmetric algorithm, non-https URLs, bad Cognito ids).
 */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const cognito = options.cognito;
  const issuer = cognito ? cognitoIssuer(cognito.region, cognito.userPoolId) : options.issuer;
  if (!issuer) throw configError("issuer is required");
  const audience = cognito ? cognito.clientId : options.audience;
  if (audience === undefined || audience.length === 0) throw configError(cognito ? "Cognito clientId is required" : "audience is required");
  const algorithms = resolveAllowedAlgorithms(options.allowedAlgorithms);
  const clockSkewSeconds = options.clockSkewSeconds ?? 60;
  if (!Number.isFinite(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > 600) throw configError("clockSkewSeconds must be within 0..600");
  const discoveryUrl = parseFetchableUrl(options.discoveryUrl ?? `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, "discoveryUrl");
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;

  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  async function discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    let response: Response;
    try {
      response = await fetchImplementation(discoveryUrl, { redirect: "error", signal: AbortSignal.timeout(fetchTimeoutMs), headers: { accept: "application/json" } });
    } catch (error) {
      throw unavailable("discovery request failed", error);
    }
    if (response.status !== 200) throw unavailable(`discovery answered HTTP ${response.status}`);
    let parsed: z.infer<typeof discoverySchema>;
    try {
      const text = await response.text();
      if (text.length > MAX_DISCOVERY_BYTES) throw new Error("discovery document too large");
      parsed = discoverySchema.parse(JSON.parse(text));
    } catch (error) {
      throw unavailable("discovery document is not valid", error);
    }
    // OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be identical to the one expected.
    if (parsed.issuer !== issuer) throw unavailable("discovery document names a different issuer");
    let jwksUrl: URL;
    try {
      jwksUrl = parseFetchableUrl(parsed.jwks_uri, "jwks_uri");
    } catch (error) {
      throw unavailable("discovery jwks_uri is not an https URL", error);
    }
    return createRemoteJWKSet(jwksUrl, {
      timeoutDuration: fetchTimeoutMs,
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
      [customFetch]: (url, init) => fetchImplementation(url, init),
    });
  }

  function keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (!keySet) {
      const pending = discover();
      keySet = pending;
      pending.catch(() => {
        if (keySet === pending) keySet = undefined;
      });
    }
    return keySet;
  }

  async function verify(token: string): Promise<VerifiedIdentity> {
    if (typeof token !== "string" || token.length === 0) throw rejection("malformed", "empty token");
    if (Buffer.byteLength(token, "utf8") > MAX_TOKEN_BYTES) throw rejection("too_large", `token exceeds ${MAX_TOKEN_BYTES} bytes`);
    if (!COMPACT_JWS.test(token)) throw rejection("malformed", "not a compact JWS");
    let algorithm: unknown;
    try {
      algorithm = decodeProtectedHeader(token).alg;
    } catch {
      throw rejection("malformed", "unreadable protected header");
    }
    // Checked before any key lookup: `none` and HS*/RS* confusion never reach the key set.
    if (typeof algorithm !== "string" || !(algorithms as readonly string[]).includes(algorithm)) throw rejection("algorithm_not_allowed", "algorithm not allowed");

    const keySetFunction = await keys();
    const verifyOptions: JWTVerifyOptions = {
      issuer,
      algorithms: [...algorithms],
      clockTolerance: clockSkewSeconds,
      requiredClaims: ["exp"],
      currentDate: new Date(now()),
    };
    // Cognito: `token_use` is checked first (below), then `aud` (ID tokens) or `client_id` (access tokens, no `aud`).
    if (!cognito) verifyOptions.audience = typeof audience === "string" ? audience : [...audience];

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySetFunction, verifyOptions));
    } catch (error) {
      const reason = reasonOf(error);
      if (reason) throw rejection(reason, reason.replaceAll("_", " "));
      // Anything else is the key set failing (timeout, network, non-200, invalid JWKS): fail closed.
      throw unavailable("JWKS could not be fetched or used", error);
    }

    if (cognito) {
      if (payload.token_use !== cognito.tokenUse) throw rejection("wrong_token_use", `expected a Cognito ${cognito.tokenUse} token`);
      const tokenAudience = cognito.tokenUse === "id" ? payload.aud : payload.client_id;
      if (tokenAudience !== cognito.clientId) throw rejection("wrong_audience", "wrong audience");
    }
    if (typeof payload.sub !== "string" || payload.sub.length === 0) throw rejection("missing_subject", "no subject");
    return { subject: payload.sub, claims: payload };
  }

  return { issuer, verify };
}
