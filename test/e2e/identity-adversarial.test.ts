/**
 * Adversarial suite for the identity verifiers, over real sockets (issue 5).
 *
 * An in-test OIDC issuer (keys generated here with jose, discovery + JWKS served by node:http on 127.0.0.1),
 * a Cognito-shaped issuer on the same server, an attacker's JWKS, and an ALB-style signer with its key server
 * (PEM per kid, like `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>`). Every attack must be refused
 * with the expected code and `details.reason`; every legitimate token must be accepted. The suite prints
 * `# identity adversarial cases: N run, N refused as expected` to stderr.
 *
 * ALB padding: ALB encodes its segments base64url WITH `=` padding and signs the padded text. The verifier
 * accepts that real form; the same token re-encoded without padding no longer matches its signature.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPairSync, randomUUID, sign as signBytes, type KeyObject } from "node:crypto";
import { after, before, test } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { ClawfleetError, type ErrorCode } from "../../src/contracts/errors.js";
import { createOidcVerifier, MAX_TOKEN_BYTES, type OidcVerifier } from "../../src/auth/oidc/verifier.js";
import { createAlbVerifier, MAX_ALB_HEADER_BYTES, type AlbVerifier } from "../../src/auth/alb/verifier.js";

const AUDIENCE = "clawfleet-console";
const COGNITO = { region: "eu-west-1", userPoolId: "eu-west-1_Adv3rsary", clientId: "cognito-app-client" };
const COGNITO_ISSUER = `https://cognito-idp.${COGNITO.region}.amazonaws.com/${COGNITO.userPoolId}`;
const ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/clawfleet/50dc6c495c0c9188";
const ALB_CLIENT = "alb-app-client";
const ALB_ISSUER = "https://idp.example.com";
const ALB_KID = randomUUID();

let server: Server;
let baseUrl = "";
const requestLog: string[] = [];
let issuerKeys: { privateKey: CryptoKey; publicKey: CryptoKey };
let issuerEcKeys: { privateKey: CryptoKey; publicKey: CryptoKey };
let attackerKeys: { privateKey: CryptoKey; publicKey: CryptoKey };
let issuerPublicPem = "";
const albKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const albAttackerKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });

let oidc: OidcVerifier;
let cognitoId: OidcVerifier;
let cognitoAccess: OidcVerifier;
let alb: AlbVerifier;

const seconds = () => Math.floor(Date.now() / 1000);

before(async () => {
  issuerKeys = await generateKeyPair("RS256", { extractable: true });
  issuerEcKeys = await generateKeyPair("ES256", { extractable: true });
  attackerKeys = await generateKeyPair("RS256", { extractable: true });
  issuerPublicPem = await exportSPKI(issuerKeys.publicKey);
  const issuerJwks = { keys: [{ ...(await exportJWK(issuerKeys.publicKey)), kid: "issuer-rsa", alg: "RS256", use: "sig" }, { ...(await exportJWK(issuerEcKeys.publicKey)), kid: "issuer-ec", alg: "ES256", use: "sig" }] };
  const attackerJwks = { keys: [{ ...(await exportJWK(attackerKeys.publicKey)), kid: "issuer-rsa", alg: "RS256", use: "sig" }] };
  const albPem = albKeys.publicKey.export({ format: "pem", type: "spki" }).toString();

  server = createServer((request, response) => {
    const path = request.url ?? "/";
    requestLog.push(path);
    const json = (body: unknown) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (path === "/.well-known/openid-configuration") return json({ issuer: baseUrl, jwks_uri: `${baseUrl}/jwks.json`, id_token_signing_alg_values_supported: ["RS256", "ES256"] });
    if (path === "/jwks.json" || path === "/cognito/jwks.json") return json(issuerJwks);
    if (path === "/cognito/.well-known/openid-configuration") return json({ issuer: COGNITO_ISSUER, jwks_uri: `${baseUrl}/cognito/jwks.json` });
    if (path === "/attacker/jwks.json") return json(attackerJwks);
    if (path === `/alb-keys/${ALB_KID}`) {
      response.writeHead(200, { "content-type": "application/x-pem-file" });
      return response.end(albPem);
    }
    response.writeHead(404);
    response.end("Not Found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  oidc = createOidcVerifier({ issuer: baseUrl, audience: AUDIENCE });
  cognitoId = createOidcVerifier({ cognito: { ...COGNITO, tokenUse: "id" }, discoveryUrl: `${baseUrl}/cognito/.well-known/openid-configuration` });
  cognitoAccess = createOidcVerifier({ cognito: { ...COGNITO, tokenUse: "access" }, discoveryUrl: `${baseUrl}/cognito/.well-known/openid-configuration` });
  alb = createAlbVerifier({ region: "eu-west-1", albArn: ALB_ARN, clientId: ALB_CLIENT, issuer: ALB_ISSUER, keyBaseUrl: `${baseUrl}/alb-keys` });
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// ---- token factories ---------------------------------------------------------------------------------------

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function oidcToken(claims: JWTPayload = {}, header: Record<string, unknown> = {}, key: CryptoKey = issuerKeys.privateKey): Promise<string> {
  const payload: JWTPayload = { sub: "alice", iss: baseUrl, aud: AUDIENCE, iat: seconds(), exp: seconds() + 300, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: "issuer-rsa", ...header }).sign(key);
}

function cognitoToken(tokenUse: "id" | "access", claims: JWTPayload = {}): Promise<string> {
  const base: JWTPayload = tokenUse === "id" ? { aud: COGNITO.clientId, token_use: "id", "cognito:groups": ["tenant-acme"] } : { aud: undefined, client_id: COGNITO.clientId, token_use: "access", scope: "openid" };
  return oidcToken({ iss: COGNITO_ISSUER, ...base, ...claims });
}

/** base64url WITH `=` padding, as ALB sends it. */
function padded(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString("base64").replaceAll("+", "-").replaceAll("/", "_");
}

function albHeader(options: { header?: Record<string, unknown>; payload?: Record<string, unknown>; key?: KeyObject } = {}): string {
  const header = { typ: "JWT", kid: ALB_KID, alg: "ES256", iss: ALB_ISSUER, client: ALB_CLIENT, signer: ALB_ARN, exp: seconds() + 120, ...options.header };
  const payload = { sub: "9f3b-user", email: "alice@example.com", username: "alice", exp: seconds() + 120, iss: ALB_ISSUER, ...options.payload };
  const signingInput = `${padded(JSON.stringify(header))}.${padded(JSON.stringify(payload))}`;
  return `${signingInput}.${padded(signBytes("sha256", Buffer.from(signingInput), { key: options.key ?? albKeys.privateKey, dsaEncoding: "ieee-p1363" }))}`;
}

// ---- the cases ---------------------------------------------------------------------------------------------

interface Attack {
  name: string;
  attempt: () => Promise<unknown>;
  code?: ErrorCode;
  reason: string;
  /** Extra assertion after the refusal (for example: nothing was fetched). */
  check?: (requestsDuringAttempt: string[]) => void;
}

const attacks: Attack[] = [
  { name: "OIDC: alg none", reason: "algorithm_not_allowed", attempt: () => oidc.verify(`${base64UrlJson({ alg: "none", typ: "JWT" })}.${base64UrlJson({ sub: "admin", iss: baseUrl, aud: AUDIENCE, exp: seconds() + 60 })}.`) },
  {
    name: "OIDC: HS256 signed with the issuer's RSA public key as HMAC secret (HS/RS confusion)",
    reason: "algorithm_not_allowed",
    attempt: async () => oidc.verify(await new SignJWT({ sub: "admin", iss: baseUrl, aud: AUDIENCE, exp: seconds() + 60 }).setProtectedHeader({ alg: "HS256", kid: "issuer-rsa" }).sign(new TextEncoder().encode(issuerPublicPem))),
  },
  { name: "OIDC: unknown kid", reason: "unknown_kid", attempt: async () => oidc.verify(await oidcToken({}, { kid: "not-in-jwks" })) },
  { name: "OIDC: wrong iss", reason: "wrong_issuer", attempt: async () => oidc.verify(await oidcToken({ iss: "https://evil.example" })) },
  { name: "OIDC: wrong aud", reason: "wrong_audience", attempt: async () => oidc.verify(await oidcToken({ aud: "another-app" })) },
  { name: "OIDC: expired", reason: "expired", attempt: async () => oidc.verify(await oidcToken({ iat: seconds() - 3600, exp: seconds() - 600 })) },
  { name: "OIDC: nbf in the future", reason: "not_yet_valid", attempt: async () => oidc.verify(await oidcToken({ nbf: seconds() + 600 })) },
  { name: "OIDC: missing exp", reason: "missing_exp", attempt: async () => oidc.verify(await oidcToken({ exp: undefined })) },
  {
    name: "OIDC: tampered payload",
    reason: "bad_signature",
    attempt: async () => {
      const [header, , signature] = (await oidcToken()).split(".");
      return oidc.verify(`${header}.${base64UrlJson({ sub: "admin", iss: baseUrl, aud: AUDIENCE, exp: seconds() + 300 })}.${signature}`);
    },
  },
  { name: "OIDC: oversized token", reason: "too_large", attempt: async () => oidc.verify(await oidcToken({ padding: "x".repeat(MAX_TOKEN_BYTES) })) },
  {
    name: "OIDC: attacker key, attacker JWKS named by jku, issuer's kid",
    reason: "bad_signature",
    attempt: async () => oidc.verify(await oidcToken({ sub: "admin" }, { jku: `${baseUrl}/attacker/jwks.json` }, attackerKeys.privateKey)),
    check: (requests) => assert.ok(!requests.includes("/attacker/jwks.json"), "the attacker's JWKS is never fetched"),
  },
  {
    name: "OIDC: attacker key embedded as jwk header with its own kid",
    reason: "unknown_kid",
    attempt: async () => oidc.verify(await oidcToken({ sub: "admin" }, { kid: "attacker", jwk: await exportJWK(attackerKeys.publicKey) }, attackerKeys.privateKey)),
  },
  { name: "Cognito: access token where an ID token is required", reason: "wrong_token_use", attempt: async () => cognitoId.verify(await cognitoToken("access")) },
  { name: "Cognito: ID token where an access token is required", reason: "wrong_token_use", attempt: async () => cognitoAccess.verify(await cognitoToken("id")) },
  { name: "Cognito: ID token for another app client", reason: "wrong_audience", attempt: async () => cognitoId.verify(await cognitoToken("id", { aud: "other-client" })) },
  { name: "Cognito: access token for another app client", reason: "wrong_audience", attempt: async () => cognitoAccess.verify(await cognitoToken("access", { client_id: "other-client" })) },
  { name: "Cognito: token of another user pool", reason: "wrong_issuer", attempt: async () => cognitoId.verify(await cognitoToken("id", { iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other" })) },
  ...["../../etc/passwd", "https://evil.example/key.pem", "1' OR '1'='1'; --", `${ALB_KID}/../../x`, `${ALB_KID}%2F..`].map(
    (kid): Attack => ({
      name: `ALB: malicious kid ${JSON.stringify(kid)}`,
      reason: "invalid_kid",
      attempt: () => alb.verify(albHeader({ header: { kid } })),
      check: (requests) => assert.deepEqual(requests, [], "nothing is fetched for a malicious kid"),
    }),
  ),
  { name: "ALB: unknown kid (a UUID the key server does not know)", reason: "unknown_kid", attempt: () => alb.verify(albHeader({ header: { kid: randomUUID() } })) },
  { name: "ALB: alg none", reason: "algorithm_not_allowed", attempt: () => alb.verify(`${padded(JSON.stringify({ alg: "none", kid: ALB_KID, signer: ALB_ARN, client: ALB_CLIENT, iss: ALB_ISSUER, exp: seconds() + 60 }))}.${padded(JSON.stringify({ sub: "admin", exp: seconds() + 60 }))}.`) },
  { name: "ALB: wrong signer", reason: "wrong_signer", attempt: () => alb.verify(albHeader({ header: { signer: ALB_ARN.replace("123456789012", "999999999999") } })) },
  { name: "ALB: wrong client", reason: "wrong_client", attempt: () => alb.verify(albHeader({ header: { client: "other-client" } })) },
  { name: "ALB: wrong iss", reason: "wrong_issuer", attempt: () => alb.verify(albHeader({ header: { iss: "https://evil.example" } })) },
  { name: "ALB: header exp passed", reason: "expired", attempt: () => alb.verify(albHeader({ header: { exp: seconds() - 600 } })) },
  { name: "ALB: payload exp passed", reason: "expired", attempt: () => alb.verify(albHeader({ payload: { exp: seconds() - 600 } })) },
  { name: "ALB: payload without exp", reason: "missing_exp", attempt: () => alb.verify(albHeader({ payload: { exp: undefined } })) },
  {
    name: "ALB: padding stripped from the signed segments",
    reason: "bad_signature",
    attempt: () => {
      const [header, payload, signature] = albHeader({ payload: { username: "al" } }).split(".") as [string, string, string];
      assert.ok(/=$/.test(header) || /=$/.test(payload), "the real token carries padding");
      return alb.verify(`${header.replace(/=+$/, "")}.${payload.replace(/=+$/, "")}.${signature}`);
    },
  },
  {
    name: "ALB: tampered payload",
    reason: "bad_signature",
    attempt: () => {
      const [header, , signature] = albHeader().split(".");
      return alb.verify(`${header}.${padded(JSON.stringify({ sub: "admin", exp: seconds() + 120, iss: ALB_ISSUER }))}.${signature}`);
    },
  },
  { name: "ALB: signed by an attacker key under the real kid", reason: "bad_signature", attempt: () => alb.verify(albHeader({ key: albAttackerKeys.privateKey })) },
  { name: "ALB: oversized header", reason: "too_large", attempt: () => alb.verify(albHeader({ payload: { padding: "x".repeat(MAX_ALB_HEADER_BYTES) } })) },
];

const outcome = { run: 0, refusedAsExpected: 0 };

for (const attack of attacks) {
  test(`refused: ${attack.name}`, async () => {
    outcome.run += 1;
    const logStart = requestLog.length;
    await assert.rejects(attack.attempt(), (error: unknown) => {
      assert.ok(error instanceof ClawfleetError, `expected a ClawfleetError, got ${String(error)}`);
      assert.equal(error.code, attack.code ?? "CF_AUTH_INVALID_TOKEN");
      assert.equal(error.status, 401);
      assert.deepEqual(error.details, { reason: attack.reason });
      return true;
    });
    attack.check?.(requestLog.slice(logStart));
    outcome.refusedAsExpected += 1;
  });
}

test("accepted: valid OIDC tokens (RS256 and ES256) over discovery + JWKS", async () => {
  const identity = await oidc.verify(await oidcToken({ email: "alice@example.com" }));
  assert.equal(identity.subject, "alice");
  assert.equal(identity.claims.email, "alice@example.com");
  const ecToken = await new SignJWT({ sub: "bob", iss: baseUrl, aud: AUDIENCE, exp: seconds() + 300 }).setProtectedHeader({ alg: "ES256", kid: "issuer-ec" }).sign(issuerEcKeys.privateKey);
  assert.equal((await oidc.verify(ecToken)).subject, "bob");
});

test("accepted: valid Cognito ID and access tokens", async () => {
  const id = await cognitoId.verify(await cognitoToken("id"));
  assert.equal(id.subject, "alice");
  assert.deepEqual(id.claims["cognito:groups"], ["tenant-acme"]);
  assert.equal((await cognitoAccess.verify(await cognitoToken("access"))).claims.client_id, COGNITO.clientId);
});

test("accepted: a valid ALB header in its real padded form; its key was fetched once from the key server", async () => {
  const header = albHeader();
  assert.match(header, /=/);
  const identity = await alb.verify(header);
  assert.equal(identity.subject, "9f3b-user");
  assert.equal(identity.claims.email, "alice@example.com");
  await alb.verify(albHeader());
  assert.equal(requestLog.filter((path) => path === `/alb-keys/${ALB_KID}`).length, 1);
  assert.ok(requestLog.every((path) => !path.includes("..") && !path.includes("etc") && !path.includes("evil")), "no injected key path ever reached the key server");
});

test("every adversarial case was refused with the expected reason", () => {
  process.stderr.write(`# identity adversarial cases: ${outcome.run} run, ${outcome.refusedAsExpected} refused as expected\n`);
  assert.equal(outcome.run, attacks.length);
  assert.equal(outcome.refusedAsExpected, outcome.run);
});
