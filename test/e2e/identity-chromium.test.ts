/**
 * A real browser (Debian's Chromium, driven by playwright-core) logs in through the local OpenID provider, gets a
 * session cookie the page's JavaScript cannot read, is refused without the CSRF token, chats with its tenant's
 * REAL OpenClaw runtime (trusted-proxy mode) with it, opens a WebSocket that OpenClaw accepts without any token,
 * and logs out. Skipped when `/usr/bin/chromium` is not installed (`apt-get install chromium`).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { startFakeOidcIssuer, type FakeOidcIssuer } from "../support/fake-oidc-issuer.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const CHROMIUM = "/usr/bin/chromium";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe("identity in a real Chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`, timeout: 600_000 }, () => {
  let issuer: FakeOidcIssuer;
  let platform: TestPlatform;
  let browser: Browser;
  let origin = "";

  before(async () => {
    issuer = await startFakeOidcIssuer("clawfleet-console");
    issuer.nextUser = { sub: "browser-user", email: "bea@acme.example", groups: ["tenant-acme-member"] };
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const configYaml = [
      "runtime:",
      "  startTimeoutMs: 240000",
      "auth:",
      `  publicOrigin: "${origin}"`,
      "  runtimeAuthMode: trusted-proxy",
      `  browserLogin: { issuer: "${issuer.url}", clientId: clawfleet-console }`,
      `  roleMapping: { tenantGroupPattern: "^tenant-(?<tenant>[a-z0-9-]+)-(?<role>owner|member|viewer)$" }`,
    ].join("\n");
    platform = await startTestPlatform({ CLAWFLEET_PORT: String(port) }, { configYaml });
    assert.equal((await platform.admin("POST", "/tenants", { id: "acme" })).status, 201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  });

  after(async () => {
    await browser?.close();
    await platform?.stop();
    await issuer?.close();
  });

  test("login, HttpOnly cookie, CSRF, chat and WebSocket with the real runtime, logout", async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const landed = await page.goto(`${origin}/auth/login?returnTo=/auth/session`);
    assert.equal(landed?.status(), 200);
    assert.equal(new URL(page.url()).pathname, "/auth/session");
    const session = JSON.parse((await page.textContent("body")) ?? "{}") as { user: { email: string }; memberships: unknown; csrfToken: string };
    assert.equal(session.user.email, "bea@acme.example");
    assert.deepEqual(session.memberships, [{ tenantId: "acme", role: "member" }], "membership from the groups claim");
    assert.equal(issuer.exchanges.at(-1)?.accepted, true, "PKCE verified at the token endpoint");

    const cookie = (await context.cookies()).find((item) => item.name === "cf_session");
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie.includes("cf_session")), false, "page scripts cannot read the session");

    // Clawfleet's own JSON pages forbid page scripts from connecting anywhere (CSP default-src 'none'); this
    // context bypasses CSP so that the /auth/session page can stand in for the console's scripts.
    const results = await page.evaluate(async (csrfToken) => {
      const body = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello from a browser" }] });
      const headers = { "content-type": "application/json" };
      const withoutToken = await fetch("/t/acme/v1/chat/completions", { method: "POST", headers, body });
      const withToken = await fetch("/t/acme/v1/chat/completions", { method: "POST", headers: { ...headers, "x-csrf-token": csrfToken }, body });
      return { withoutToken: withoutToken.status, withoutTokenBody: await withoutToken.text(), withToken: withToken.status, answer: await withToken.text() };
    }, session.csrfToken);
    assert.equal(results.withoutToken, 403);
    assert.match(results.withoutTokenBody, /CF_CSRF_REJECTED/);
    assert.equal(results.withToken, 200, results.answer);
    assert.ok((JSON.parse(results.answer) as { choices: unknown[] }).choices.length > 0);

    const hello = await page.evaluate(
      () =>
        new Promise<unknown>((resolve) => {
          const socket = new WebSocket(`ws://${(globalThis as unknown as { location: { host: string } }).location.host}/t/acme/`);
          socket.onmessage = (event) => {
            const message = JSON.parse(String(event.data)) as { type: string; event?: string; id?: string };
            if (message.type === "event" && message.event === "connect.challenge") {
              socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { minProtocol: 4, maxProtocol: 4, client: { id: "openclaw-control-ui", version: "1.0.0", platform: "web", mode: "ui" }, role: "operator", scopes: ["operator.admin"], caps: [] } }));
            }
            if (message.type === "res" && message.id === "c1") {
              socket.close();
              resolve(message);
            }
          };
          socket.onclose = (event) => resolve({ error: `closed ${event.code} ${event.reason}` });
          setTimeout(() => resolve({ error: "timeout" }), 30_000);
        }),
    );
    const reply = hello as { ok?: boolean; payload?: { auth?: { method: string; scopes: string[] } } };
    assert.equal(reply.ok, true, JSON.stringify(hello).slice(0, 400));
    assert.equal(reply.payload?.auth?.method, "trusted-proxy");
    assert.deepEqual([...(reply.payload?.auth?.scopes ?? [])].sort(), ["operator.read", "operator.write"]);

    const afterLogout = await page.evaluate(async (csrfToken) => {
      const logout = await fetch("/auth/logout", { method: "POST", headers: { "x-csrf-token": csrfToken } });
      const check = await fetch("/auth/session");
      return { logout: logout.status, session: check.status };
    }, session.csrfToken);
    assert.deepEqual(afterLogout, { logout: 204, session: 401 });
    await context.close();
  });
});
