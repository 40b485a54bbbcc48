/**
 * Three Clawfleet replicas (separate `clawfleet serve` processes) sharing the real PostgreSQL and Redis of this
 * machine: a tenant and key created on one replica work on the others; a rate limit is enforced once across
 * all three, within 5 % of its configured value; a key revoked on one replica is refused by the others within 1 s.
 *
 * Forwarding to the owner of a runtime (one real sandboxed OpenClaw runtime on the first replica): callers
 * verified by the second replica — an ALB-signed user (from the ALB's address), an OIDC bearer user, a browser
 * session (cookie + CSRF + Origin), an API key —
 * reach it over HTTP and WebSocket through a signed principal assertion (`src/auth/replica-assertion.ts`), and
 * the member added on the second replica gets its WebSocket scopes on the first without a restart. Attacks on the
 * owner: a forged, an expired, a replayed assertion, one presented by a client (not the replica that made it),
 * one for another tenant, one sent to a replica it was not made for; each refused with its reason. Prints
 * `# replica assertions: N attacks refused`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ReplicaAssertions, replicaAssertionKey, type AssertedPrincipal } from "../../src/auth/replica-assertion.js";
import { startFakeOidcIssuer, type FakeOidcIssuer, type FakeUser } from "../support/fake-oidc-issuer.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { openGatewaySession, type GatewaySession } from "../support/openclaw-socket.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";

const DATABASE = `cf_replicas_${randomBytes(4).toString("hex")}`;
const REQUESTS_PER_MINUTE = 120;
const ADMIN_TOKEN = "replica-admin-token-0123456789abcdef";
const ALB = { arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/clawfleet/50dc6c495c0c9188", clientId: "alb-client", issuer: "https://idp.example.com" };
/** The ALB's address: only requests from it may carry `x-amzn-oidc-data`. */
const ALB_SOURCE = "127.0.0.2";
/** A client's address that is neither the ALB nor a replica. */
const CLIENT_SOURCE = "127.0.0.3";
const API_AUDIENCE = "clawfleet-api";
const ALBERT: FakeUser = { sub: "albert-sub", email: "albert@albco.example", groups: [] };
const OLIVE: FakeUser = { sub: "olive-sub", email: "olive@albco.example" };
const SALLY: FakeUser = { sub: "sally-sub", email: "sally@albco.example" };
const PUBLIC_ORIGIN = "https://clawfleet.test";
const CONSOLE_CLIENT = "clawfleet-console";

/** Opens sessions until one connects with read access (the owner applies new members within a few seconds). */
async function eventuallyConnected(open: () => Promise<GatewaySession>): Promise<GatewaySession> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const session = await open();
    if (session.hello?.ok && session.hello.payload?.auth?.scopes?.includes("operator.read")) return session;
    session.close();
    assert.ok(Date.now() < deadline, `connected with read scope within 20 s: ${session.upgradeStatus ?? ""} ${session.upgradeBody ?? JSON.stringify(session.hello)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** One HTTP request from `localAddress` (undici's fetch cannot bind one). */
function requestFrom(localAddress: string, method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method, localAddress, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }) } }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

function psql(command: string): void {
  execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", command], { stdio: "pipe" });
}

describe("three replicas sharing PostgreSQL and Redis", { timeout: 600_000 }, () => {
  let upstream: FakeUpstream;
  let issuer: FakeOidcIssuer;
  const replicas: ServeProcess[] = [];
  const prefix = `cf-test-${randomBytes(4).toString("hex")}:`;

  before(async () => {
    psql(`create database ${DATABASE}`);
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: "ok" });
    issuer = await startFakeOidcIssuer(CONSOLE_CLIENT);
    const configDirectory = mkdtempSync(path.join(tmpdir(), "cf-replicas-"));
    const configFile = path.join(configDirectory, "clawfleet.yaml");
    writeFileSync(
      configFile,
      [
        "limits:",
        `  - { scope: tenant, requestsPerMinute: ${REQUESTS_PER_MINUTE} }`,
        "runtime:",
        "  startTimeoutMs: 240000",
        "auth:",
        `  publicOrigin: ${PUBLIC_ORIGIN}`,
        `  browserLogin: { issuer: "${issuer.url}", clientId: ${CONSOLE_CLIENT} }`,
        `  oidc: { issuer: "${issuer.url}", audience: ${API_AUDIENCE} }`,
        `  alb: { region: eu-west-1, albArn: "${ALB.arn}", clientId: ${ALB.clientId}, issuer: "${ALB.issuer}", trustedProxyCidrs: ["${ALB_SOURCE}/32"], keyBaseUrl: "${issuer.albKeyBaseUrl}" }`,
        "",
      ].join("\n"),
    );
    const env = {
      CLAWFLEET_CONFIG: configFile,
      CLAWFLEET_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${DATABASE}`,
      CLAWFLEET_REDIS_URL: "redis://127.0.0.1:6379",
      CLAWFLEET_REDIS_KEY_PREFIX: prefix,
      CLAWFLEET_ADMIN_TOKEN: ADMIN_TOKEN,
      OPENAI_API_KEY: "sk-upstream",
      OPENAI_BASE_URL: upstream.url,
      CLAWFLEET_LOG_LEVEL: "warn",
    };
    replicas.push(...(await Promise.all([startServeProcess(env), startServeProcess(env), startServeProcess(env)])));
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await upstream?.close();
    await issuer?.close();
    try {
      execFileSync("redis-cli", ["--scan", "--pattern", `${prefix}*`]).toString().split("\n").filter(Boolean).forEach((key) => execFileSync("redis-cli", ["del", key]));
    } catch {
      // best effort
    }
    psql(`drop database if exists ${DATABASE} with (force)`);
  });

  const admin = (replica: ServeProcess, method: string, apiPath: string, body?: unknown) =>
    fetch(`${replica.url}/admin/v1${apiPath}`, { method, headers: { authorization: `Bearer ${replica.adminToken}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : null });
  const chat = (replica: ServeProcess, key: string) =>
    fetch(`${replica.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "hi" }] }) });

  test("a rate limit holds across replicas; a revoked key is refused everywhere within 1 s", async () => {
    const [first, second, third] = replicas as [ServeProcess, ServeProcess, ServeProcess];
    assert.equal((await admin(first, "POST", "/tenants", { id: "shared" })).status, 201);
    const created = (await (await admin(first, "POST", "/tenants/shared/keys", { scopes: ["model"] })).json()) as { id: string; key: string };
    // The key reaches the other replicas through pub/sub.
    const visibleDeadline = Date.now() + 2_000;
    for (const replica of [second, third]) {
      for (;;) {
        const response = await chat(replica, created.key);
        await response.body?.cancel();
        if (response.status === 200) break;
        assert.ok(Date.now() < visibleDeadline, "the new key works on every replica within 2 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    // Concurrent load spread over all three replicas: 300 requests, 30 at a time.
    const started = Date.now();
    let allowed = 2; // the two visibility checks above
    let refused = 0;
    for (let wave = 0; wave < 10; wave += 1) {
      const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => chat(replicas[index % 3] as ServeProcess, created.key)));
      for (const response of responses) {
        if (response.status === 200) allowed += 1;
        else if (response.status === 429) refused += 1;
        await response.body?.cancel();
      }
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    const expected = REQUESTS_PER_MINUTE + (elapsedSeconds * REQUESTS_PER_MINUTE) / 60;
    process.stderr.write(`# rate limit across 3 replicas: ${allowed} allowed, ${refused} refused in ${elapsedSeconds.toFixed(2)} s; configured ${REQUESTS_PER_MINUTE}/min → expected ≤ ${expected.toFixed(1)}\n`);
    assert.ok(allowed >= REQUESTS_PER_MINUTE * 0.95 && allowed <= expected * 1.05, `allowed ${allowed} within 5 % of ${REQUESTS_PER_MINUTE}…${expected.toFixed(1)}`);

    // Revocation on one replica is seen by the others within 1 s.
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the bucket refill a little so refusals are not 429s
    assert.equal((await admin(first, "DELETE", `/tenants/shared/keys/${created.id}`)).status, 204);
    const revokedAt = Date.now();
    const refusedAfter: number[] = [];
    for (const replica of [second, third]) {
      for (;;) {
        const response = await chat(replica, created.key);
        await response.body?.cancel();
        if (response.status === 401) break;
        assert.ok(Date.now() - revokedAt < 1_000, "refused within 1 s");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      refusedAfter.push(Date.now() - revokedAt);
    }
    process.stderr.write(`# revoked key refused by the other replicas after ${refusedAfter.join(" ms, ")} ms\n`);
  });

  test("callers verified by one replica reach the runtime another replica owns (ALB, OIDC, browser session, API key; HTTP and WebSocket); forged, expired, replayed, misdirected and cross-tenant assertions are refused", async () => {
    const [owner, forwarder, third] = replicas as [ServeProcess, ServeProcess, ServeProcess];
    const json = async (response: Response) => (await response.json()) as Record<string, unknown>;
    const tenantKey = ((await json(await admin(owner, "POST", "/tenants", { id: "albco" }))) as { apiKey: string }).apiKey;
    assert.equal((await admin(owner, "POST", "/tenants", { id: "otherco" })).status, 201);
    const started = await admin(owner, "POST", "/tenants/albco/runtime/start?wait=true");
    assert.equal(started.status, 200, await started.text());
    const pid = ((await json(await admin(owner, "GET", "/tenants/albco/runtime"))) as { pid: number }).pid;
    // Members added on the forwarding replica AFTER the runtime started on the owner.
    const userIds: Record<string, string> = {};
    for (const [name, user, userIssuer] of [["albert", ALBERT, ALB.issuer], ["olive", OLIVE, issuer.url], ["sally", SALLY, issuer.url]] as const) {
      const created = await json(await admin(forwarder, "POST", "/users", { issuer: userIssuer, subject: user.sub }));
      userIds[name] = created.id as string;
      assert.equal((await admin(forwarder, "PUT", `/tenants/albco/members/${userIds[name]}`, { role: "member" })).status, 200);
    }
    const albHeader = () => ({ "x-amzn-oidc-data": issuer.albHeader(ALBERT, ALB) });
    const chatBody = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
    const wsUrl = `${forwarder.url.replace("http", "ws")}/t/albco/`;

    // WebSocket first: the members' scopes must be live on the owner (pub/sub from the forwarder) before HTTP traffic,
    // because OpenClaw fails HTTP requests in flight while its access policy changes (see docs/security.md).
    const albSocket = await eventuallyConnected(() => openGatewaySession(wsUrl, albHeader(), { localAddress: ALB_SOURCE }));
    assert.deepEqual([...(albSocket.hello?.payload?.auth?.scopes ?? [])].sort(), ["operator.read", "operator.write"], "member scopes, live on the owner although the member was added on the forwarder");
    assert.equal((await albSocket.call("sessions.list")).ok, true);
    albSocket.close();
    const oliveBearer = { authorization: `Bearer ${await issuer.bearer(OLIVE, API_AUDIENCE)}` };
    const oliveSocket = await eventuallyConnected(() => openGatewaySession(wsUrl, oliveBearer));
    assert.equal((await oliveSocket.call("sessions.list")).ok, true, "OIDC user over WebSocket through the non-owner");
    oliveSocket.close();

    // Before the fix the owner refused the forwarded ALB identity (the forwarding replica is not the ALB).
    const albModels = await requestFrom(ALB_SOURCE, "GET", `${forwarder.url}/t/albco/v1/models`, albHeader());
    assert.equal(albModels.status, 200, `ALB user over HTTP through the non-owner: ${albModels.text}`);
    const albChat = await requestFrom(ALB_SOURCE, "POST", `${forwarder.url}/t/albco/v1/chat/completions`, albHeader(), chatBody);
    assert.equal(albChat.status, 200, albChat.text);
    assert.equal((JSON.parse(albChat.text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content, "ok");
    const oliveChat = await fetch(`${forwarder.url}/t/albco/v1/chat/completions`, { method: "POST", headers: { ...oliveBearer, "content-type": "application/json" }, body: chatBody });
    assert.equal(oliveChat.status, 200, await oliveChat.text());
    // A browser session (cookie + CSRF token + Origin), logged in on the forwarder. Its WebSocket used to fail there.
    issuer.nextUser = SALLY;
    const login = await fetch(`${forwarder.url}/auth/login`, { redirect: "manual" });
    const loginCookie = login.headers.getSetCookie().find((line) => line.startsWith("cf_login=")) as string;
    const callback = new URL((await fetch(login.headers.get("location") as string, { redirect: "manual" })).headers.get("location") as string);
    const finished = await fetch(`${forwarder.url}/auth/callback${callback.search}`, { redirect: "manual", headers: { cookie: loginCookie.slice(0, loginCookie.indexOf(";")) } });
    const sessionLine = finished.headers.getSetCookie().find((line) => line.startsWith("__Host-cf_session=")) as string;
    const browser = { cookie: sessionLine.slice(0, sessionLine.indexOf(";")), origin: PUBLIC_ORIGIN };
    const csrf = ((await json(await fetch(`${forwarder.url}/auth/session`, { headers: browser }))) as { csrfToken: string }).csrfToken;
    const sallySocket = await eventuallyConnected(() => openGatewaySession(wsUrl, browser));
    assert.equal((await sallySocket.call("sessions.list")).ok, true, "browser session over WebSocket through the non-owner");
    sallySocket.close();
    const sallyChat = await fetch(`${forwarder.url}/t/albco/v1/chat/completions`, { method: "POST", headers: { ...browser, "x-csrf-token": csrf, "content-type": "application/json" }, body: chatBody });
    assert.equal(sallyChat.status, 200, await sallyChat.text());
    const noCsrf = await fetch(`${forwarder.url}/t/albco/v1/chat/completions`, { method: "POST", headers: { ...browser, "content-type": "application/json" }, body: chatBody });
    assert.equal(noCsrf.status, 403, "the forwarder still enforces CSRF before forwarding");
    await noCsrf.body?.cancel();

    const keyChat = await fetch(`${third.url}/t/albco/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${tenantKey}`, "content-type": "application/json" }, body: chatBody });
    assert.equal(keyChat.status, 200, await keyChat.text());
    const keySocket = await openGatewaySession(`${third.url.replace("http", "ws")}/t/albco/`, { authorization: `Bearer ${tenantKey}` });
    assert.ok(keySocket.hello?.ok, "API key over WebSocket through the non-owner");
    keySocket.close();

    // The owner, not the forwarders, ran these requests, as the users themselves.
    const audit = (await json(await admin(owner, "GET", "/audit?tenantId=albco&type=agent_invocation&limit=100"))) as { events: Array<{ actor: string; details: { transport: string } }> };
    for (const name of ["albert", "olive", "sally"]) {
      const transports = new Set(audit.events.filter((event) => event.actor === `user:${userIds[name]}`).map((event) => event.details.transport));
      assert.deepEqual([...transports].sort(), ["http", "websocket"], `${name}'s requests ran on the owner under their own identity`);
    }
    for (const replica of [forwarder, third]) assert.equal(((await json(await admin(replica, "GET", "/tenants/albco/runtime"))) as { state: string }).state, "stopped", "no second runtime");
    assert.equal(((await json(await admin(owner, "GET", "/tenants/albco/runtime"))) as { pid: number }).pid, pid, "the owner's runtime never restarted");

    // Attacks, straight at the owner. Assertions made with the real key stand for ones captured off the wire.
    const key = replicaAssertionKey({ adminToken: ADMIN_TOKEN });
    const albert: AssertedPrincipal = { kind: "user", userId: userIds.albert as string, method: "alb", tenantRole: "owner", platformRoles: ["admin"] };
    const mint = (options: { now?: () => number; path?: string; tenant?: string; audience?: string } = {}) =>
      new ReplicaAssertions(key, () => forwarder.url, options.now).sign(albert, { tenant: options.tenant ?? "albco", method: "GET", path: options.path ?? "/t/albco/" }, options.audience ?? owner.url, "198.51.100.7");
    let refusals = 0;
    const expectRefusal = async (name: string, response: Promise<{ status: number; text: string }>, reason: string) => {
      const { status, text } = await response;
      assert.equal(status, 401, `${name}: ${text}`);
      assert.match(text, new RegExp(`"reason":"${reason}"`), `${name}: ${text}`);
      refusals += 1;
    };
    // Non-OpenAI paths: their error bodies carry `details.reason`.
    const atOwner = (from: string, assertion: string, apiPath = "/t/albco/") => requestFrom(from, "GET", `${owner.url}${apiPath}`, { "x-clawfleet-principal": assertion, "x-clawfleet-forwarded-by": forwarder.url });
    const genuine = mint();
    const [version, payload] = genuine.split(".") as [string, string];
    await expectRefusal("forged signature", atOwner("127.0.0.1", `${version}.${payload}.${randomBytes(32).toString("base64url")}`), "replica_assertion_invalid");
    const otherKey = new ReplicaAssertions(replicaAssertionKey({ adminToken: "an-attacker-guessed-admin-token-000" }), () => forwarder.url).sign(albert, { tenant: "albco", method: "GET", path: "/t/albco/" }, owner.url, "x");
    await expectRefusal("signed with another key", atOwner("127.0.0.1", otherKey), "replica_assertion_invalid");
    await expectRefusal("expired", atOwner("127.0.0.1", mint({ now: () => Date.now() - 60_000 })), "replica_assertion_expired");
    await expectRefusal("presented by a client, not by the replica that made it", atOwner(CLIENT_SOURCE, genuine), "replica_assertion_untrusted_source");
    await expectRefusal("for another tenant", atOwner("127.0.0.1", mint(), "/t/otherco/"), "replica_assertion_mismatch");
    await expectRefusal("addressed to another replica", atOwner("127.0.0.1", mint({ audience: third.url })), "replica_assertion_mismatch");
    await expectRefusal("sent to the forwarder itself by a client", requestFrom(CLIENT_SOURCE, "GET", `${forwarder.url}/t/albco/`, { "x-clawfleet-principal": genuine }), "replica_assertion_mismatch");
    const first = await atOwner("127.0.0.1", genuine);
    assert.ok(![401, 403].includes(first.status) && !first.text.includes("CF_"), `the genuine assertion, from the issuer's address, is accepted once (the runtime answers): ${first.status} ${first.text}`);
    await expectRefusal("replayed", atOwner("127.0.0.1", genuine), "replica_assertion_replayed");
    const forgedUpgrade = await openGatewaySession(`${owner.url.replace("http", "ws")}/t/albco/`, { "x-clawfleet-principal": `${version}.${payload}.${randomBytes(32).toString("base64url")}` });
    assert.equal(forgedUpgrade.upgradeStatus, 401, "forged assertion on a WebSocket upgrade");
    assert.match(forgedUpgrade.upgradeBody ?? "", /replica_assertion_invalid/);
    refusals += 1;
    const replayedUpgradeAssertion = new ReplicaAssertions(key, () => forwarder.url).sign(albert, { tenant: "albco", method: "GET", path: "/t/albco/" }, owner.url, "198.51.100.7");
    const genuineUpgrade = await openGatewaySession(`${owner.url.replace("http", "ws")}/t/albco/`, { "x-clawfleet-principal": replayedUpgradeAssertion });
    assert.ok(genuineUpgrade.hello?.ok, `a genuine upgrade assertion works once: ${genuineUpgrade.upgradeStatus} ${genuineUpgrade.upgradeBody ?? JSON.stringify(genuineUpgrade.hello)}`);
    genuineUpgrade.close();
    const replayedUpgrade = await openGatewaySession(`${owner.url.replace("http", "ws")}/t/albco/`, { "x-clawfleet-principal": replayedUpgradeAssertion });
    assert.equal(replayedUpgrade.upgradeStatus, 401, "replayed on a WebSocket upgrade");
    refusals += 1;
    // The ALB header itself is still refused from anything but the ALB, the owner included.
    const direct = await requestFrom("127.0.0.1", "GET", `${owner.url}/t/albco/`, albHeader());
    assert.equal(direct.status, 401);
    assert.match(direct.text, /untrusted_source/);
    refusals += 1;
    process.stderr.write(`# replica assertions: ${refusals} attacks refused\n`);
  });
});
