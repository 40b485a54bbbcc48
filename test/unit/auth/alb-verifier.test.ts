import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID, sign as signBytes, type KeyObject } from "node:crypto";
import { test } from "node:test";
import { ClawfleetError, type ErrorCode } from "../../../src/contracts/errors.js";
import { createAlbVerifier, MAX_ALB_HEADER_BYTES, type AlbVerifierOptions } from "../../../src/auth/alb/verifier.js";

const REGION = "eu-west-1";
const ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/clawfleet/50dc6c495c0c9188";
const CLIENT_ID = "alb-client";
const ISSUER = "https://idp.example.com";
const NOW_MS = 1_800_000_000_000;
const nowSeconds = Math.floor(NOW_MS / 1000);

/** base64url WITH `=` padding, the way ALB encodes its segments. */
function paddedBase64Url(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString("base64").replaceAll("+", "-").replaceAll("/", "_");
}

function albToken(privateKey: KeyObject, options: { header?: Record<string, unknown>; payload?: Record<string, unknown> } = {}): string {
  const header = { typ: "JWT", kid: KID, alg: "ES256", iss: ISSUER, client: CLIENT_ID, signer: ALB_ARN, exp: nowSeconds + 120, ...options.header };
  const payload = { sub: "user-1", email: "a@example.com", exp: nowSeconds + 120, iss: ISSUER, ...options.payload };
  const signingInput = `${paddedBase64Url(JSON.stringify(header))}.${paddedBase64Url(JSON.stringify(payload))}`;
  const signature = signBytes("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${paddedBase64Url(signature)}`;
}

const KID = randomUUID();
const albKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const attackerKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicPem = albKeys.publicKey.export({ format: "pem", type: "spki" }).toString();

function keyServer(pems: Map<string, string> = new Map([[KID, publicPem]])) {
  const state = { requests: [] as string[], mode: "ok" as "ok" | "error" | "down" };
  const fetch: typeof globalThis.fetch = async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    state.requests.push(url);
    if (state.mode === "down") throw new TypeError("fetch failed");
    if (state.mode === "error") return new Response("oops", { status: 500 });
    const pem = pems.get(url.slice("https://keys.test/".length));
    return pem ? new Response(pem) : new Response("Not Found", { status: 404 });
  };
  return { state, fetch };
}

function verifier(overrides: Partial<AlbVerifierOptions> = {}, server = keyServer()) {
  let nowMs = NOW_MS;
  const subject = createAlbVerifier({ region: REGION, albArn: ALB_ARN, clientId: CLIENT_ID, issuer: ISSUER, keyBaseUrl: "https://keys.test", fetch: server.fetch, now: () => nowMs, ...overrides });
  return { verifier: subject, server, advance: (ms: number) => (nowMs += ms) };
}

function refused(reason: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ClawfleetError, String(error));
    assert.equal(error.code, "CF_AUTH_INVALID_TOKEN");
    assert.deepEqual(error.details, { reason });
    return true;
  };
}

function coded(code: ErrorCode) {
  return (error: unknown) => error instanceof ClawfleetError && error.code === code;
}

test("a valid padded ALB header yields the payload's sub; the key is fetched once per kid from <base>/<kid>", async () => {
  const { verifier: subject, server } = verifier();
  const token = albToken(albKeys.privateKey);
  assert.match(token, /=/, "the fixture really carries padding");
  const identity = await subject.verify(token);
  assert.equal(identity.subject, "user-1");
  assert.equal(identity.claims.email, "a@example.com");
  await subject.verify(token);
  assert.deepEqual(server.state.requests, [`https://keys.test/${KID}`]);
});

test("padding stripped from the signed segments breaks the signature (the signature covers the segments as sent)", async () => {
  const { verifier: subject } = verifier();
  const [header, payload, signature] = albToken(albKeys.privateKey, { payload: { sub: "user-12" } }).split(".") as [string, string, string];
  assert.ok(header.endsWith("=") || payload.endsWith("="));
  await assert.rejects(subject.verify(`${header.replace(/=+$/, "")}.${payload.replace(/=+$/, "")}.${signature}`), refused("bad_signature"));
  await assert.rejects(subject.verify(`${header}=.${payload}.${signature}`), refused("malformed"));
});

test("a kid that is not a UUID is refused before any fetch", async () => {
  const { verifier: subject, server } = verifier();
  for (const kid of ["../../etc/passwd", "https://evil.test/key", "1' OR '1'='1", `${KID}/../x`, "", `${KID}?x=1`]) {
    await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { kid } })), refused("invalid_kid"));
  }
  assert.equal(server.state.requests.length, 0);
});

test("signer, client, issuer, algorithm and both exp claims are enforced", async () => {
  const { verifier: subject, server } = verifier();
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { signer: ALB_ARN.replace("clawfleet", "other") } })), refused("wrong_signer"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { client: "other" } })), refused("wrong_client"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { iss: "https://evil.test" } })), refused("wrong_issuer"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { alg: "HS256" } })), refused("algorithm_not_allowed"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { exp: nowSeconds - 61 } })), refused("expired"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { exp: undefined } })), refused("missing_exp"));
  assert.equal(server.state.requests.length, 0, "nothing is fetched for headers refused on their face");
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { payload: { exp: nowSeconds - 61 } })), refused("expired"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { payload: { exp: undefined } })), refused("missing_exp"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { payload: { iss: "https://evil.test" } })), refused("wrong_issuer"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { payload: { sub: undefined } })), refused("missing_subject"));
  assert.equal((await subject.verify(albToken(albKeys.privateKey, { payload: { exp: nowSeconds - 30 } }))).subject, "user-1", "within the skew");
});

test("tampered payloads and attacker keys fail the signature; oversized and malformed headers are refused", async () => {
  const { verifier: subject } = verifier();
  const [header, , signature] = albToken(albKeys.privateKey).split(".");
  await assert.rejects(subject.verify(`${header}.${paddedBase64Url(JSON.stringify({ sub: "admin", exp: nowSeconds + 60 }))}.${signature}`), refused("bad_signature"));
  await assert.rejects(subject.verify(albToken(attackerKeys.privateKey)), refused("bad_signature"));
  await assert.rejects(subject.verify("x".repeat(MAX_ALB_HEADER_BYTES + 1)), refused("too_large"));
  await assert.rejects(subject.verify("a.b"), refused("malformed"));
  await assert.rejects(subject.verify("a!.b.c"), refused("malformed"));
});

test("key endpoint failures fail closed: 404 is an unknown kid, errors and outages are 503", async () => {
  const missing = verifier();
  await assert.rejects(missing.verifier.verify(albToken(albKeys.privateKey, { header: { kid: randomUUID() } })), refused("unknown_kid"));
  const erroring = verifier();
  erroring.server.state.mode = "error";
  await assert.rejects(erroring.verifier.verify(albToken(albKeys.privateKey)), coded("CF_AUTH_PROVIDER_UNAVAILABLE"));
  erroring.server.state.mode = "down";
  await assert.rejects(erroring.verifier.verify(albToken(albKeys.privateKey)), coded("CF_AUTH_PROVIDER_UNAVAILABLE"));
  erroring.server.state.mode = "ok";
  assert.equal((await erroring.verifier.verify(albToken(albKeys.privateKey))).subject, "user-1", "a failure is not cached");
  const rsaPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "pem", type: "spki" }).toString();
  const wrongKeyType = verifier({}, keyServer(new Map([[KID, rsaPem]])));
  await assert.rejects(wrongKeyType.verifier.verify(albToken(albKeys.privateKey)), coded("CF_AUTH_PROVIDER_UNAVAILABLE"));
  const garbage = verifier({}, keyServer(new Map([[KID, "not a pem"]])));
  await assert.rejects(garbage.verifier.verify(albToken(albKeys.privateKey)), coded("CF_AUTH_PROVIDER_UNAVAILABLE"));
});

test("fetches of new kids are rate-limited per minute; cached kids keep working", async () => {
  const { verifier: subject, server, advance } = verifier({ maxKeyFetchesPerMinute: 3 });
  await subject.verify(albToken(albKeys.privateKey));
  for (let index = 0; index < 2; index += 1) await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { kid: randomUUID() } })), refused("unknown_kid"));
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { kid: randomUUID() } })), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_AUTH_PROVIDER_UNAVAILABLE" && (error.details as { reason?: string }).reason === "key_fetch_rate_limited");
  assert.equal(server.state.requests.length, 3);
  assert.equal((await subject.verify(albToken(albKeys.privateKey))).subject, "user-1");
  advance(60_001);
  await assert.rejects(subject.verify(albToken(albKeys.privateKey, { header: { kid: randomUUID() } })), refused("unknown_kid"));
  assert.equal(server.state.requests.length, 4);
});

test("configuration is validated", () => {
  assert.throws(() => verifier({ region: "eu-west-1.evil.test/" }), coded("CF_CONFIG_INVALID"));
  assert.throws(() => verifier({ albArn: "arn:aws:iam::123456789012:role/x" }), coded("CF_CONFIG_INVALID"));
  assert.throws(() => verifier({ keyBaseUrl: "http://keys.example.com" }), coded("CF_CONFIG_INVALID"));
  assert.throws(() => verifier({ clientId: "" }), coded("CF_CONFIG_INVALID"));
});
