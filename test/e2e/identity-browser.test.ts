/**
 * Identity end to end, over real sockets (issue 5): a whole Clawfleet in-process, a local OpenID provider
 * (`test/support/fake-oidc-issuer.ts`: real authorization and token endpoints that enforce PKCE S256), ALB-style
 * signed headers, and ONE real OpenClaw runtime in trusted-proxy mode.
 *
 * Covered: browser login round trip (PKCE checked at the token endpoint), cookie flags, session fixation refused,
 * CSRF refused (missing token, wrong Origin), logout revokes server-side; OIDC bearer, ALB header, session
 * cookie and API key each accepted only for the right tenant, over HTTP and WebSocket; ALB header from an
 * untrusted address and `x-amzn-oidc-identity` alone refused; claim → role mapping; admin API permission matrix;
 * and a logged-in browser user reaching the real runtime with the platform's identity and scopes (client-sent
 * identity headers stripped), plus a WebSocket `connect` without any token. Prints
 * `# identity browser cases: N run, N refused as expected`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { startFakeOidcIssuer, type FakeOidcIssuer, type FakeUser } from "../support/fake-oidc-issuer.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const PUBLIC_ORIGIN = "https://clawfleet.test";
const COOKIE = "__Host-cf_session";
const CONSOLE_CLIENT = "clawfleet-console";
const API_AUDIENCE = "clawfleet-api";
const ALB = { arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/clawfleet/50dc6c495c0c9188", clientId: "alb-client", issuer: "https://idp.example.com" };
/** The ALB's address: requests bound to it come from a trusted source; 127.0.0.1 does not. */
const ALB_SOURCE = "127.0.0.2";

const USERS: Record<string, FakeUser> = {
  alice: { sub: "alice-sub", email: "alice@acme.example", name: "Alice" },
  vera: { sub: "vera-sub", email: "vera@acme.example" },
  mallory: { sub: "mallory-sub", email: "mallory@globex.example" },
  carol: { sub: "carol-sub", groups: ["tenant-acme-member", "platform-auditors"] },
  audrey: { sub: "audrey-sub" },
  adam: { sub: "adam-sub" },
  albert: { sub: "albert-sub", email: "albert@acme.example" },
};

const outcome = { run: 0, refusedAsExpected: 0 };
const CLI = fileURLToPath(new URL("../../bin/clawfleet.js", import.meta.url));

/** GET `url` over a connection bound to `localAddress` (undici's fetch ignores `localAddress`). */
function getFrom(localAddress: string, url: string, headers: Record<string, string>): Promise<{ status: number; text: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { localAddress, headers }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: async () => body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

/** Counts a refusal case: asserts the status and the `CF_*` code of an error body. */
async function expectRefused(name: string, response: { status: number; text: () => Promise<string> }, status: number, code: string): Promise<void> {
  outcome.run += 1;
  const text = await response.text();
  assert.equal(response.status, status, `${name}: ${text}`);
  assert.match(text, new RegExp(code), `${name}: ${text}`);
  outcome.refusedAsExpected += 1;
}

function cookiesOf(response: Response): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) found.set(line.slice(0, line.indexOf("=")), line);
  return found;
}

function cookieValue(setCookie: string): string {
  return setCookie.slice(setCookie.indexOf("=") + 1, setCookie.indexOf(";"));
}

interface SocketOutcome {
  status?: number;
  body?: string;
  messages: Array<Record<string, unknown>>;
  closeCode?: number;
}

/** Opens a WebSocket, answers the challenge with a `connect` (no token), then asks `sessions.list`. */
function webSocketSession(url: string, headers: Record<string, string>, options: { localAddress?: string; client?: { id: string; mode: string } } = {}): Promise<SocketOutcome> {
  return new Promise((resolve) => {
    const messages: Array<Record<string, unknown>> = [];
    const socket = new WebSocket(url, { headers, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve({ messages });
    }, 60_000);
    socket.on("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, body, messages });
      });
    });
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      messages.push(message);
      if (message.type === "event" && message.event === "connect.challenge") {
        const client = options.client ?? { id: "openclaw-control-ui", mode: "ui" };
        socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { minProtocol: 4, maxProtocol: 4, client: { ...client, version: "1.0.0", platform: "linux" }, role: "operator", scopes: ["operator.read", "operator.write", "operator.admin"], caps: [] } }));
      }
      if (message.type === "res" && message.id === "c1") socket.send(JSON.stringify({ type: "req", id: "s1", method: "sessions.list", params: {} }));
      if (message.type === "res" && message.id === "s1") socket.close(1000);
    });
    socket.on("close", (code) => {
      clearTimeout(timer);
      resolve({ messages, closeCode: code });
    });
    socket.on("error", () => undefined);
  });
}

describe("identity: browser login, OIDC bearer, ALB header, sessions and a real OpenClaw runtime in trusted-proxy mode", { timeout: 900_000 }, () => {
  let issuer: FakeOidcIssuer;
  let platform: TestPlatform;
  let wsBase = "";
  const userIds: Record<string, string> = {};
  let acmeKey = "";
  let globexKey = "";

  const url = (path: string) => `${platform.url}${path}`;

  /** Logs `user` in through the whole browser flow; returns the session cookie value and the CSRF token. */
  async function login(user: FakeUser, options: { presetSession?: string; returnTo?: string } = {}): Promise<{ session: string; csrf: string; setCookie: string; location: string }> {
    issuer.nextUser = user;
    const preset = options.presetSession ? `${COOKIE}=${options.presetSession}` : "";
    const start = await fetch(url(`/auth/login?returnTo=${encodeURIComponent(options.returnTo ?? "/t/acme/")}`), { redirect: "manual", headers: preset ? { cookie: preset } : {} });
    assert.equal(start.status, 302);
    const loginCookie = cookiesOf(start).get("cf_login");
    assert.ok(loginCookie, "the login state is bound to the browser");
    assert.match(loginCookie, /HttpOnly/i);
    assert.match(loginCookie, /Secure/i);
    assert.match(loginCookie, /SameSite=Lax/i);
    const authorize = new URL(start.headers.get("location") as string);
    assert.equal(authorize.origin, issuer.url);
    assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
    assert.equal(authorize.searchParams.get("redirect_uri"), `${PUBLIC_ORIGIN}/auth/callback`);
    const atIssuer = await fetch(authorize, { redirect: "manual" });
    assert.equal(atIssuer.status, 302);
    const callback = new URL(atIssuer.headers.get("location") as string);
    assert.equal(callback.origin, PUBLIC_ORIGIN);
    const finish = await fetch(url(`/auth/callback${callback.search}`), { redirect: "manual", headers: { cookie: [`cf_login=${cookieValue(loginCookie)}`, preset].filter(Boolean).join("; ") } });
    assert.equal(finish.status, 303, await finish.clone().text());
    const setCookie = cookiesOf(finish).get(COOKIE);
    assert.ok(setCookie, "a session cookie is set");
    const session = cookieValue(setCookie);
    const info = await fetch(url("/auth/session"), { headers: { cookie: `${COOKIE}=${session}` } });
    assert.equal(info.status, 200);
    const body = (await info.json()) as { csrfToken: string };
    return { session, csrf: body.csrfToken, setCookie, location: finish.headers.get("location") as string };
  }

  before(async () => {
    issuer = await startFakeOidcIssuer(CONSOLE_CLIENT);
    const configYaml = [
      "runtime:",
      "  startTimeoutMs: 240000",
      "auth:",
      `  publicOrigin: ${PUBLIC_ORIGIN}`,
      "  runtimeAuthMode: trusted-proxy",
      `  oidc: { issuer: "${issuer.url}", audience: ${API_AUDIENCE} }`,
      `  alb: { region: eu-west-1, albArn: "${ALB.arn}", clientId: ${ALB.clientId}, issuer: "${ALB.issuer}", trustedProxyCidrs: ["${ALB_SOURCE}/32"], keyBaseUrl: "${issuer.albKeyBaseUrl}" }`,
      `  browserLogin: { issuer: "${issuer.url}", clientId: ${CONSOLE_CLIENT} }`,
      "  roleMapping:",
      "    groupsClaim: groups",
      "    platformRoles: { platform-auditors: auditor }",
      `    tenantGroupPattern: "^tenant-(?<tenant>[a-z0-9-]+)-(?<role>owner|member|viewer)$"`,
    ].join("\n");
    platform = await startTestPlatform({}, { configYaml });
    wsBase = platform.url.replace("http", "ws");
    acmeKey = ((await platform.admin("POST", "/tenants", { id: "acme" })).body as { apiKey: string }).apiKey;
    globexKey = ((await platform.admin("POST", "/tenants", { id: "globex" })).body as { apiKey: string }).apiKey;
    // Pre-provisioned users and their memberships (all made before acme's runtime starts: its identity scopes).
    const provision = async (name: string, issuerUrl: string, tenant?: { id: string; role: string }, platformRoles: string[] = []) => {
      const created = await platform.admin("POST", "/users", { issuer: issuerUrl, subject: USERS[name]?.sub, platformRoles });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      userIds[name] = (created.body as { id: string }).id;
      if (tenant) assert.equal((await platform.admin("PUT", `/tenants/${tenant.id}/members/${userIds[name]}`, { role: tenant.role })).status, 200);
    };
    await provision("alice", issuer.url, { id: "acme", role: "member" });
    await provision("vera", issuer.url, { id: "acme", role: "viewer" });
    await provision("mallory", issuer.url, { id: "globex", role: "member" });
    await provision("audrey", issuer.url, undefined, ["auditor"]);
    await provision("adam", issuer.url, undefined, ["admin"]);
    await provision("albert", ALB.issuer, { id: "acme", role: "member" });
  });

  after(async () => {
    process.stderr.write(`# identity browser cases: ${outcome.run} run, ${outcome.refusedAsExpected} refused as expected\n`);
    await platform?.stop();
    await issuer?.close();
  });

  test("login round trip: PKCE verified at the token endpoint, Secure HttpOnly SameSite cookie, redirect to returnTo", async () => {
    const { setCookie, location, session } = await login(USERS.alice as FakeUser);
    assert.equal(location, "/t/acme/");
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /Secure/i);
    assert.match(setCookie, /SameSite=Lax/i);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Domain=/i, "__Host- cookies carry no Domain");
    assert.match(session, /^[A-Za-z0-9_-]{43}$/, "256-bit random session id");
    const exchange = issuer.exchanges.at(-1);
    assert.ok(exchange?.accepted, "the token endpoint accepted the code with its verifier");
    assert.match(exchange?.codeVerifier ?? "", /^[A-Za-z0-9._~-]{43,128}$/);
    const info = (await (await fetch(url("/auth/session"), { headers: { cookie: `${COOKIE}=${session}` } })).json()) as { user: { id: string; email: string }; memberships: unknown };
    assert.equal(info.user.id, userIds.alice);
    assert.equal(info.user.email, "alice@acme.example");
    assert.deepEqual(info.memberships, [{ tenantId: "acme", role: "member" }]);
  });

  test("login refusals: swapped code (PKCE mismatch), replayed state, state not bound to the browser, unsafe returnTo ignored", async () => {
    issuer.nextUser = USERS.alice as FakeUser;
    const first = await fetch(url("/auth/login"), { redirect: "manual" });
    const second = await fetch(url("/auth/login"), { redirect: "manual" });
    const firstCallback = new URL((await fetch(first.headers.get("location") as string, { redirect: "manual" })).headers.get("location") as string);
    const secondState = new URL(second.headers.get("location") as string).searchParams.get("state") as string;
    // The first login's code with the second login's state: the token endpoint gets the wrong verifier.
    const swapped = await fetch(url(`/auth/callback?code=${firstCallback.searchParams.get("code")}&state=${secondState}&iss=${encodeURIComponent(issuer.url)}`), { redirect: "manual", headers: { cookie: `cf_login=${secondState}` } });
    await expectRefused("code from another login (PKCE)", swapped, 401, "CF_LOGIN_FAILED");
    assert.equal(issuer.exchanges.at(-1)?.reason, "PKCE verification failed");
    const replay = await fetch(url(`/auth/callback?code=x&state=${secondState}`), { redirect: "manual", headers: { cookie: `cf_login=${secondState}` } });
    await expectRefused("replayed state", replay, 401, "CF_LOGIN_FAILED");
    const firstState = firstCallback.searchParams.get("state") as string;
    const unbound = await fetch(url(`/auth/callback${firstCallback.search}`), { redirect: "manual" });
    await expectRefused("state without the browser's login cookie (login CSRF)", unbound, 401, "CF_LOGIN_FAILED");
    assert.ok(firstState.length > 0);
    const external = await login(USERS.alice as FakeUser, { returnTo: "//evil.example/steal" });
    assert.equal(external.location, "/", "a protocol-relative returnTo is replaced by /");
  });

  test("session fixation: a session id set before login is not adopted", async () => {
    const attackerChosen = "attacker-chosen-session-id-000000000000000";
    const fixed = await fetch(url("/auth/session"), { headers: { cookie: `${COOKIE}=${attackerChosen}` } });
    await expectRefused("unknown session id", fixed, 401, "CF_AUTH_INVALID_TOKEN");
    const first = await login(USERS.alice as FakeUser, { presetSession: attackerChosen });
    assert.notEqual(first.session, attackerChosen);
    await expectRefused("the pre-set id after login", await fetch(url("/auth/session"), { headers: { cookie: `${COOKIE}=${attackerChosen}` } }), 401, "CF_AUTH_INVALID_TOKEN");
    // Logging in again with a live session rotates it: the old id stops working.
    const second = await login(USERS.alice as FakeUser, { presetSession: first.session });
    assert.notEqual(second.session, first.session);
    await expectRefused("the previous session after a new login", await fetch(url("/auth/session"), { headers: { cookie: `${COOKIE}=${first.session}` } }), 401, "CF_AUTH_INVALID_TOKEN");
  });

  test("claims map to roles at login: tenant group → membership, group → platform role", async () => {
    const carol = await login(USERS.carol as FakeUser);
    const info = (await (await fetch(url("/auth/session"), { headers: { cookie: `${COOKIE}=${carol.session}` } })).json()) as { platformRoles: string[]; memberships: unknown };
    assert.deepEqual(info.platformRoles, ["auditor"]);
    assert.deepEqual(info.memberships, [{ tenantId: "acme", role: "member" }]);
    const asAuditor = await fetch(url("/admin/v1/tenants"), { headers: { cookie: `${COOKIE}=${carol.session}` } });
    assert.equal(asAuditor.status, 200);
  });

  test("a logged-in member reaches acme's REAL OpenClaw runtime in trusted-proxy mode: platform identity and scopes, client identity headers stripped", async () => {
    const alice = await login(USERS.alice as FakeUser);
    const browser = { cookie: `${COOKIE}=${alice.session}`, origin: PUBLIC_ORIGIN };
    // Client-sent identity headers: stripped by the ingress, then set by it.
    const spoof = { "x-clawfleet-user": "apikey:forged", "x-openclaw-scopes": "operator.admin", "x-forwarded-for": "203.0.113.9", "x-forwarded-user": "admin" };
    const models = await fetch(url("/t/acme/v1/models"), { headers: { ...browser, ...spoof } });
    assert.equal(models.status, 200, await models.clone().text());
    const chat = await fetch(url("/t/acme/v1/chat/completions"), {
      method: "POST",
      headers: { ...browser, ...spoof, "x-csrf-token": alice.csrf, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }] }),
    });
    assert.equal(chat.status, 200, await chat.clone().text());
    assert.ok(((await chat.json()) as { choices: unknown[] }).choices.length > 0);

    // A viewer's spoofed operator.admin/write scopes are stripped: OpenClaw itself refuses the write (platform scope = read).
    const vera = await login(USERS.vera as FakeUser);
    const viewerChat = await fetch(url("/t/acme/v1/chat/completions"), {
      method: "POST",
      headers: { cookie: `${COOKIE}=${vera.session}`, origin: PUBLIC_ORIGIN, "x-csrf-token": vera.csrf, "content-type": "application/json", "x-openclaw-scopes": "operator.admin,operator.write", "x-clawfleet-user": `user:${userIds.alice}` },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }] }),
    });
    outcome.run += 1;
    const refusal = await viewerChat.text();
    assert.equal(viewerChat.status, 403, refusal);
    assert.match(refusal, /missing scope: operator\.write/, "the runtime itself applied the platform's read-only scope");
    outcome.refusedAsExpected += 1;
    assert.equal((await fetch(url("/t/acme/v1/models"), { headers: { cookie: `${COOKIE}=${vera.session}` } })).status, 200, "a viewer may read");

    // WebSocket: connect succeeds WITHOUT any token; the session's scopes come from the platform's identity.
    const member = await webSocketSession(`${wsBase}/t/acme/`, browser);
    const hello = member.messages.find((message) => message.id === "c1") as { ok: boolean; payload?: { auth?: { method: string; scopes: string[] } }; error?: unknown } | undefined;
    assert.ok(hello?.ok, `connect: ${JSON.stringify(member.messages).slice(0, 500)}`);
    assert.equal(hello.payload?.auth?.method, "trusted-proxy");
    assert.deepEqual([...(hello.payload?.auth?.scopes ?? [])].sort(), ["operator.read", "operator.write"], "member scopes, never the operator.admin the client asked for");
    assert.equal((member.messages.find((message) => message.id === "s1") as { ok: boolean }).ok, true, "sessions.list with operator.read");
    const viewerSocket = await webSocketSession(`${wsBase}/t/acme/`, { cookie: `${COOKIE}=${vera.session}`, origin: PUBLIC_ORIGIN, "x-clawfleet-user": `user:${userIds.alice}` });
    const viewerHello = viewerSocket.messages.find((message) => message.id === "c1") as { ok: boolean; payload?: { auth?: { scopes: string[] } } } | undefined;
    assert.ok(viewerHello?.ok);
    assert.deepEqual(viewerHello.payload?.auth?.scopes, ["operator.read"], "the viewer stays a viewer despite a forged user header");

    // An API key caller on the same runtime: identity apikey:<id>, chat works, WebSocket connects with key scopes.
    const keyChat = await fetch(url("/t/acme/v1/chat/completions"), { method: "POST", headers: { authorization: `Bearer ${acmeKey}`, "content-type": "application/json" }, body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }) });
    assert.equal(keyChat.status, 200, await keyChat.clone().text());
    const keySocket = await webSocketSession(`${wsBase}/t/acme/`, { authorization: `Bearer ${acmeKey}` }, { client: { id: "test", mode: "test" } });
    const keyHello = keySocket.messages.find((message) => message.id === "c1") as { ok: boolean; payload?: { auth?: { scopes: string[] } } } | undefined;
    assert.ok(keyHello?.ok, JSON.stringify(keySocket.messages).slice(0, 400));
    assert.deepEqual([...(keyHello.payload?.auth?.scopes ?? [])].sort(), ["operator.read", "operator.write"]);
  });

  test("CSRF: state-changing cookie requests need the token AND the platform's Origin; WebSocket needs the Origin", async () => {
    const alice = await login(USERS.alice as FakeUser);
    const cookie = `${COOKIE}=${alice.session}`;
    const body = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
    await expectRefused("no CSRF token", await fetch(url("/t/acme/v1/chat/completions"), { method: "POST", headers: { cookie, origin: PUBLIC_ORIGIN, "content-type": "application/json" }, body }), 403, "CF_CSRF_REJECTED");
    await expectRefused("wrong CSRF token", await fetch(url("/t/acme/v1/chat/completions"), { method: "POST", headers: { cookie, origin: PUBLIC_ORIGIN, "x-csrf-token": "x".repeat(43), "content-type": "application/json" }, body }), 403, "CF_CSRF_REJECTED");
    await expectRefused("foreign Origin", await fetch(url("/t/acme/v1/chat/completions"), { method: "POST", headers: { cookie, origin: "https://evil.example", "x-csrf-token": alice.csrf, "content-type": "application/json" }, body }), 403, "CF_CSRF_REJECTED");
    await expectRefused("no Origin", await fetch(url("/t/acme/v1/chat/completions"), { method: "POST", headers: { cookie, "x-csrf-token": alice.csrf, "content-type": "application/json" }, body }), 403, "CF_CSRF_REJECTED");
    await expectRefused("logout without token", await fetch(url("/auth/logout"), { method: "POST", headers: { cookie, origin: PUBLIC_ORIGIN } }), 403, "CF_CSRF_REJECTED");
    const hijack = await webSocketSession(`${wsBase}/t/acme/`, { cookie, origin: "https://evil.example" });
    outcome.run += 1;
    assert.equal(hijack.status, 403, "cross-site WebSocket hijacking refused at the upgrade");
    assert.match(hijack.body ?? "", /CF_CSRF_REJECTED/);
    outcome.refusedAsExpected += 1;
  });

  test("logout revokes the session server-side", async () => {
    const alice = await login(USERS.alice as FakeUser);
    const cookie = `${COOKIE}=${alice.session}`;
    const logout = await fetch(url("/auth/logout"), { method: "POST", headers: { cookie, origin: PUBLIC_ORIGIN, "x-csrf-token": alice.csrf } });
    assert.equal(logout.status, 204);
    assert.match(cookiesOf(logout).get(COOKIE) ?? "", /Expires=Thu, 01 Jan 1970|Max-Age=0/i, "the cookie is cleared");
    // The browser may keep the old cookie; the server no longer honours it.
    await expectRefused("session after logout (auth/session)", await fetch(url("/auth/session"), { headers: { cookie } }), 401, "CF_AUTH_INVALID_TOKEN");
    await expectRefused("session after logout (ingress)", await fetch(url("/t/acme/v1/models"), { headers: { cookie } }), 401, "CF_AUTH_INVALID_TOKEN");
  });

  test("OIDC bearer: accepted for a member's tenant only; bad tokens refused", async () => {
    const token = await issuer.bearer(USERS.alice as FakeUser, API_AUDIENCE);
    assert.equal((await fetch(url("/t/acme/v1/models"), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await expectRefused("OIDC bearer on another tenant (HTTP)", await fetch(url("/t/globex/v1/models"), { headers: { authorization: `Bearer ${token}` } }), 403, "CF_FORBIDDEN_TENANT");
    const socket = await webSocketSession(`${wsBase}/t/globex/`, { authorization: `Bearer ${token}` });
    outcome.run += 1;
    assert.equal(socket.status, 403);
    outcome.refusedAsExpected += 1;
    await expectRefused("OIDC token for another audience", await fetch(url("/t/acme/v1/models"), { headers: { authorization: `Bearer ${await issuer.bearer(USERS.alice as FakeUser, CONSOLE_CLIENT)}` } }), 401, "CF_AUTH_INVALID_TOKEN");
    const stranger = await issuer.bearer({ sub: "stranger" }, API_AUDIENCE);
    await expectRefused("OIDC user without membership", await fetch(url("/t/acme/v1/models"), { headers: { authorization: `Bearer ${stranger}` } }), 403, "CF_FORBIDDEN_TENANT");
  });

  test("ALB header: accepted only from the load balancer's address, only for the member's tenant; x-amzn-oidc-identity alone refused", async () => {
    const header = issuer.albHeader(USERS.albert as FakeUser, ALB);
    const fromAlb = await getFrom(ALB_SOURCE, url("/t/acme/v1/models"), { "x-amzn-oidc-data": header });
    assert.equal(fromAlb.status, 200, await fromAlb.text());
    await expectRefused("ALB header from an untrusted address", await fetch(url("/t/acme/v1/models"), { headers: { "x-amzn-oidc-data": header } }), 401, "CF_AUTH_INVALID_TOKEN");
    // Off the OpenAI paths the error body carries its details.
    await expectRefused("ALB header from an untrusted address (details)", await fetch(url("/t/acme/"), { headers: { "x-amzn-oidc-data": header } }), 401, '"reason":"untrusted_source"');
    await expectRefused("x-amzn-oidc-identity alone", await fetch(url("/t/acme/v1/models"), { headers: { "x-amzn-oidc-identity": USERS.albert?.sub ?? "" } }), 401, "CF_AUTH_MISSING");
    await expectRefused("x-amzn-oidc-identity alone, from the ALB's address", await getFrom(ALB_SOURCE, url("/t/acme/v1/models"), { "x-amzn-oidc-identity": USERS.albert?.sub ?? "" }), 401, "CF_AUTH_MISSING");
    await expectRefused("ALB header on another tenant (HTTP)", await getFrom(ALB_SOURCE, url("/t/globex/v1/models"), { "x-amzn-oidc-data": header }), 403, "CF_FORBIDDEN_TENANT");
    const socket = await webSocketSession(`${wsBase}/t/globex/`, { "x-amzn-oidc-data": header }, { localAddress: ALB_SOURCE });
    outcome.run += 1;
    assert.equal(socket.status, 403, "ALB identity on another tenant over WebSocket");
    outcome.refusedAsExpected += 1;
    const forged = `${header.slice(0, -8)}AAAAAAA=`;
    await expectRefused("ALB header with a forged signature", await getFrom(ALB_SOURCE, url("/t/acme/v1/models"), { "x-amzn-oidc-data": forged }), 401, "CF_AUTH_INVALID_TOKEN");
  });

  test("cross-tenant over HTTP and WebSocket for sessions and API keys", async () => {
    const mallory = await login(USERS.mallory as FakeUser);
    const cookie = `${COOKIE}=${mallory.session}`;
    await expectRefused("session on another tenant (HTTP)", await fetch(url("/t/acme/v1/models"), { headers: { cookie } }), 403, "CF_FORBIDDEN_TENANT");
    const socket = await webSocketSession(`${wsBase}/t/acme/`, { cookie, origin: PUBLIC_ORIGIN });
    outcome.run += 1;
    assert.equal(socket.status, 403, "session on another tenant (WebSocket)");
    outcome.refusedAsExpected += 1;
    await expectRefused("API key on another tenant (HTTP)", await fetch(url("/t/acme/v1/models"), { headers: { authorization: `Bearer ${globexKey}` } }), 403, "CF_FORBIDDEN_TENANT");
    const keySocket = await webSocketSession(`${wsBase}/t/acme/`, { authorization: `Bearer ${globexKey}` });
    outcome.run += 1;
    assert.equal(keySocket.status, 403, "API key on another tenant (WebSocket)");
    outcome.refusedAsExpected += 1;
    const globex = (await platform.admin("GET", "/tenants/globex")).body as { runtime: { state: string } };
    assert.equal(globex.runtime.state, "stopped", "no refused request ever started globex's runtime");
  });

  test("admin API: admin token and platform admins may write; auditors read; others refused", async () => {
    const auditor = await issuer.bearer(USERS.audrey as FakeUser, API_AUDIENCE);
    const admin = await issuer.bearer(USERS.adam as FakeUser, API_AUDIENCE);
    const member = await issuer.bearer(USERS.alice as FakeUser, API_AUDIENCE);
    assert.equal((await fetch(url("/admin/v1/tenants"), { headers: { authorization: `Bearer ${auditor}` } })).status, 200);
    assert.equal((await fetch(url("/admin/v1/users"), { headers: { authorization: `Bearer ${auditor}` } })).status, 200);
    await expectRefused("auditor creating a tenant", await fetch(url("/admin/v1/tenants"), { method: "POST", headers: { authorization: `Bearer ${auditor}`, "content-type": "application/json" }, body: JSON.stringify({ id: "initech" }) }), 403, "CF_FORBIDDEN_ROLE");
    await expectRefused("auditor reading runtime logs", await fetch(url("/admin/v1/tenants/acme/runtime/logs"), { headers: { authorization: `Bearer ${auditor}` } }), 403, "CF_FORBIDDEN_ROLE");
    await expectRefused("tenant member on the admin API", await fetch(url("/admin/v1/tenants"), { headers: { authorization: `Bearer ${member}` } }), 403, "CF_FORBIDDEN_ROLE");
    await expectRefused("tenant API key on the admin API", await fetch(url("/admin/v1/tenants"), { headers: { authorization: `Bearer ${acmeKey}` } }), 401, "CF_AUTH_INVALID_TOKEN");
    const created = await fetch(url("/admin/v1/tenants"), { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ id: "initech" }) });
    assert.equal(created.status, 201);
    // Channel identities: channel + user id → a stable tenant.
    assert.equal((await platform.admin("PUT", "/channel-identities/slack/U024BE7LH", { tenantId: "initech" })).status, 200);
    assert.deepEqual(((await platform.admin("GET", "/channel-identities/slack/U024BE7LH")).body as { tenantId: string }).tenantId, "initech");
    await expectRefused("channel identity to an unknown tenant", await fetch(url("/admin/v1/channel-identities/slack/U1"), { method: "PUT", headers: { authorization: `Bearer ${platform.adminToken.token}`, "content-type": "application/json" }, body: JSON.stringify({ tenantId: "nope" }) }), 404, "CF_TENANT_NOT_FOUND");
  });

  test("CLI: user, member and channel commands through the admin API", async () => {
    const cli = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [CLI, ...args, "--json"], { env: { PATH: process.env.PATH, CLAWFLEET_URL: platform.url, CLAWFLEET_ADMIN_TOKEN: platform.adminToken.token } }, (error, stdout, stderr) => (error ? reject(new Error(`${args.join(" ")}: ${stderr}`)) : resolve(stdout)));
      });
    const created = JSON.parse(await cli(["user", "create", "--issuer", issuer.url, "--subject", "cli-user", "--platform-role", "approver"])) as { id: string; platformRoles: string[] };
    assert.deepEqual(created.platformRoles, ["approver"]);
    const membership = JSON.parse(await cli(["member", "add", "acme", created.id, "--role", "owner"])) as { role: string };
    assert.equal(membership.role, "owner");
    const shown = JSON.parse(await cli(["user", "show", created.id])) as { memberships: Array<{ tenantId: string; role: string }> };
    assert.deepEqual(shown.memberships.map((item) => [item.tenantId, item.role]), [["acme", "owner"]]);
    assert.ok((JSON.parse(await cli(["member", "list", "acme"])) as { members: Array<{ userId: string }> }).members.some((item) => item.userId === created.id));
    assert.equal((JSON.parse(await cli(["channel", "map", "telegram", "42", "acme"])) as { tenantId: string }).tenantId, "acme");
    assert.equal((JSON.parse(await cli(["channel", "show", "telegram", "42"])) as { tenantId: string }).tenantId, "acme");
    assert.deepEqual((JSON.parse(await cli(["user", "roles", created.id])) as { platformRoles: string[] }).platformRoles, []);
    await cli(["member", "remove", "acme", created.id]);
    await cli(["channel", "unmap", "telegram", "42"]);
    await cli(["user", "delete", created.id]);
    await assert.rejects(cli(["user", "show", created.id]), /CF_USER_NOT_FOUND/);
  });
});
