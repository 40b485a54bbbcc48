import assert from "node:assert/strict";
import { test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { ClawfleetError, type ErrorCode } from "../../../src/contracts/errors.js";
import { cognitoIssuer, createOidcVerifier, MAX_TOKEN_BYTES, type OidcVerifierOptions } from "../../../src/auth/oidc/verifier.js";

const ISSUER = "https://issuer.test";
const AUDIENCE = "clawfleet";
const NOW_MS = 1_800_000_000_000;
const nowSeconds = Math.floor(NOW_MS / 1000);

const rsa = await generateKeyPair("RS256", { extractable: true });
const ec = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" }, { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" }] };

/** An in-process issuer behind an injected fetch: counts requests, can be switched off. */
function fakeIssuer(issuer = ISSUER, discoveryIssuer = issuer) {
  const state = { discoveryRequests: 0, jwksRequests: 0, down: false };
  const fetch: typeof globalThis.fetch = async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    if (state.down) throw new TypeError("fetch failed");
    if (url.endsWith("/.well-known/openid-configuration")) {
      state.discoveryRequests += 1;
      return Response.json({ issuer: discoveryIssuer, jwks_uri: "https://keys.test/jwks.json" });
    }
    if (url === "https://keys.test/jwks.json") {
      state.jwksRequests += 1;
      return Response.json(jwks);
    }
    return new Response("not found", { status: 404 });
  };
  return { state, fetch };
}

function sign(claims: JWTPayload, options: { kid?: string; alg?: "RS256" | "ES256"; omitExp?: boolean } = {}) {
  const alg = options.alg ?? "RS256";
  const jwt = new SignJWT({ sub: "user-1", iss: ISSUER, aud: AUDIENCE, iat: nowSeconds, ...(options.omitExp ? {} : { exp: nowSeconds + 300 }), ...claims });
  jwt.setProtectedHeader({ alg, kid: options.kid ?? (alg === "RS256" ? "rsa-1" : "ec-1") });
  return jwt.sign(alg === "RS256" ? rsa.privateKey : ec.privateKey);
}

function verifier(overrides: Partial<OidcVerifierOptions> = {}, issuerFake = fakeIssuer()) {
  const options = { issuer: ISSUER, audience: AUDIENCE, fetch: issuerFake.fetch, now: () => NOW_MS, ...overrides } as OidcVerifierOptions;
  return { verifier: createOidcVerifier(options), issuer: issuerFake };
}

function refused(reason: string, token?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ClawfleetError, String(error));
    assert.equal(error.code, "CF_AUTH_INVALID_TOKEN");
    assert.equal(error.status, 401);
    assert.deepEqual(error.details, { reason });
    if (token) assert.ok(!error.message.includes(token) && !JSON.stringify(error.details).includes(token), "the token is never echoed");
    return true;
  };
}

function coded(code: ErrorCode) {
  return (error: unknown) => error instanceof ClawfleetError && error.code === code;
}

test("a valid RS256 or ES256 token yields its subject and claims; discovery and JWKS are fetched once", async () => {
  const { verifier: subject, issuer } = verifier();
  const identity = await subject.verify(await sign({ email: "a@example.com" }));
  assert.equal(identity.subject, "user-1");
  assert.equal(identity.claims.email, "a@example.com");
  assert.equal((await subject.verify(await sign({}, { alg: "ES256" }))).subject, "user-1");
  assert.equal(issuer.state.discoveryRequests, 1);
  assert.equal(issuer.state.jwksRequests, 1);
});

test("oversized and malformed tokens are refused before anything is fetched", async () => {
  const { verifier: subject, issuer } = verifier();
  const huge = `${"a".repeat(MAX_TOKEN_BYTES)}.b.c`;
  await assert.rejects(subject.verify(huge), refused("too_large", huge));
  await assert.rejects(subject.verify("not-a-jwt"), refused("malformed"));
  await assert.rejects(subject.verify(""), refused("malformed"));
  await assert.rejects(subject.verify("e30.e30.???"), refused("malformed"));
  assert.equal(issuer.state.discoveryRequests, 0);
});

test("alg none and HS256 are refused before a key is looked up", async () => {
  const { verifier: subject, issuer } = verifier();
  const body = Buffer.from(JSON.stringify({ sub: "x", iss: ISSUER, aud: AUDIENCE, exp: nowSeconds + 60 })).toString("base64url");
  const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${body}.`;
  await assert.rejects(subject.verify(none), refused("algorithm_not_allowed", none));
  const hs = await new SignJWT({ sub: "x", iss: ISSUER, aud: AUDIENCE, exp: nowSeconds + 60 }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("s".repeat(32)));
  await assert.rejects(subject.verify(hs), refused("algorithm_not_allowed"));
  await assert.rejects(verifier({ allowedAlgorithms: ["RS256"] }).verifier.verify(await sign({}, { alg: "ES256" })), refused("algorithm_not_allowed"));
  assert.equal(issuer.state.discoveryRequests, 0);
});

test("the allowed algorithms can never include none or HS*", () => {
  for (const algorithm of ["none", "HS256", "HS512", "rs256"]) assert.throws(() => verifier({ allowedAlgorithms: [algorithm] }), coded("CF_CONFIG_INVALID"));
  assert.throws(() => verifier({ allowedAlgorithms: [] }), coded("CF_CONFIG_INVALID"));
  assert.throws(() => verifier({ discoveryUrl: "http://issuer.example/.well-known/openid-configuration" }), coded("CF_CONFIG_INVALID"));
});

test("issuer, audience, exp and nbf are enforced with the configured clock skew", async () => {
  const { verifier: subject } = verifier();
  await assert.rejects(subject.verify(await sign({ iss: "https://evil.test" })), refused("wrong_issuer"));
  await assert.rejects(subject.verify(await sign({ aud: "someone-else" })), refused("wrong_audience"));
  await assert.rejects(subject.verify(await sign({ exp: nowSeconds - 61 })), refused("expired"));
  assert.equal((await subject.verify(await sign({ exp: nowSeconds - 30 }))).subject, "user-1", "within the 60 s skew");
  await assert.rejects(subject.verify(await sign({ nbf: nowSeconds + 120 })), refused("not_yet_valid"));
  assert.equal((await subject.verify(await sign({ nbf: nowSeconds + 30 }))).subject, "user-1");
  await assert.rejects(subject.verify(await sign({}, { omitExp: true })), refused("missing_exp"));
  await assert.rejects(subject.verify(await sign({ sub: undefined })), refused("missing_subject"));
  const strict = verifier({ clockSkewSeconds: 0 }).verifier;
  await assert.rejects(strict.verify(await sign({ exp: nowSeconds - 1 })), refused("expired"));
});

test("tampered payloads and foreign keys fail the signature; an unknown kid refetches the JWKS at most once per cooldown", async () => {
  const { verifier: subject, issuer } = verifier();
  const token = await sign({});
  const [header, , signature] = token.split(".");
  const forgedBody = Buffer.from(JSON.stringify({ sub: "admin", iss: ISSUER, aud: AUDIENCE, exp: nowSeconds + 60 })).toString("base64url");
  await assert.rejects(subject.verify(`${header}.${forgedBody}.${signature}`), refused("bad_signature"));
  const attacker = await generateKeyPair("RS256");
  const foreign = await new SignJWT({ sub: "x", iss: ISSUER, aud: AUDIENCE, exp: nowSeconds + 60 }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).sign(attacker.privateKey);
  await assert.rejects(subject.verify(foreign), refused("bad_signature"));
  const before = issuer.state.jwksRequests;
  await assert.rejects(subject.verify(await sign({}, { kid: "rotated-1" })), refused("unknown_kid"));
  await assert.rejects(subject.verify(await sign({}, { kid: "rotated-2" })), refused("unknown_kid"));
  assert.ok(issuer.state.jwksRequests - before <= 1, "an unknown kid cannot make the verifier hammer the JWKS");
});

test("discovery must name the configured issuer; outages fail closed and discovery is retried later", async () => {
  const mismatched = verifier({}, fakeIssuer(ISSUER, "https://other.test")).verifier;
  await assert.rejects(mismatched.verify(await sign({})), coded("CF_AUTH_PROVIDER_UNAVAILABLE"));
  const { verifier: subject, issuer } = verifier();
  issuer.state.down = true;
  await assert.rejects(subject.verify(await sign({})), coded("CF_AUTH_PROVIDER_UNAVAILABLE"));
  issuer.state.down = false;
  assert.equal((await subject.verify(await sign({}))).subject, "user-1");
});

test("Cognito: issuer from the pool; ID tokens check aud, access tokens check client_id; token_use must match", async () => {
  const pool = { userPoolId: "eu-west-1_AbC123", region: "eu-west-1", clientId: "app-client" };
  const issuer = cognitoIssuer(pool.region, pool.userPoolId);
  assert.equal(issuer, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123");
  const idVerifier = verifier({ issuer: undefined, audience: undefined, cognito: { ...pool, tokenUse: "id" } }, fakeIssuer(issuer)).verifier;
  const accessVerifier = verifier({ issuer: undefined, audience: undefined, cognito: { ...pool, tokenUse: "access" } }, fakeIssuer(issuer)).verifier;
  const idToken = await sign({ iss: issuer, aud: "app-client", token_use: "id", "cognito:groups": ["admins"] });
  const accessToken = await sign({ iss: issuer, aud: undefined, client_id: "app-client", token_use: "access", scope: "openid" });
  assert.deepEqual((await idVerifier.verify(idToken)).claims["cognito:groups"], ["admins"]);
  assert.equal((await accessVerifier.verify(accessToken)).subject, "user-1");
  await assert.rejects(idVerifier.verify(accessToken), refused("wrong_token_use"));
  await assert.rejects(idVerifier.verify(await sign({ iss: issuer, aud: "other-client", token_use: "id" })), refused("wrong_audience"));
  await assert.rejects(idVerifier.verify(await sign({ iss: issuer, aud: ["app-client", "x"], token_use: "id" })), refused("wrong_audience"), "Cognito ID tokens have a single aud");
  await assert.rejects(idVerifier.verify(await sign({ iss: issuer, aud: "app-client", token_use: "access" })), refused("wrong_token_use"));
  await assert.rejects(accessVerifier.verify(idToken), refused("wrong_token_use"));
  await assert.rejects(accessVerifier.verify(await sign({ iss: issuer, aud: undefined, client_id: "other-client", token_use: "access" })), refused("wrong_audience"));
  assert.throws(() => cognitoIssuer("eu-west-1/../x", "eu-west-1_AbC"), coded("CF_CONFIG_INVALID"));
});
