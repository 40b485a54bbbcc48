/**
 * A tenant's OpenClaw Control UI / WebChat served through Clawfleet at `/t/{tenant}/`, in a real Chromium (Debian's
 * `/usr/bin/chromium`, driven by playwright-core), against a REAL sandboxed OpenClaw runtime in trusted-proxy mode,
 * logged in through a local OpenID provider, with the runtime's model calls answered by a fake upstream that speaks
 * OpenAI's wire format.
 *
 * A member opens `/t/acme/`: the UI renders, every request the page makes stays under `/t/acme/` (or is the UI's
 * WebSocket through the ingress), its WebSocket connects with the identity the ingress asserted (a new browser
 * device, approved automatically), and a message typed into the chat gets the fake model's reply rendered. Then:
 * no session → the login page, and back to the UI; a member of another tenant → 403; a viewer's message is refused
 * by the runtime (scopes capped by `x-openclaw-scopes`); OpenClaw's direct tool endpoint stays closed in every
 * spelling. Timings are printed as test diagnostics. Skipped when `/usr/bin/chromium` is not installed.
 *
 * Messages are typed the way a user would: once the runtime has applied the user's identity scopes (that change
 * closes every WebSocket of the runtime), the page has no request pending and the previous run has ended
 * (`untilSettled`; OpenClaw's UI queues a message typed while it loads and was seen never to send it on a busy
 * host). A failed chat reports what the page sent and received, the gateway's request records, and the runtime's
 * log, whose whole copy is kept in the temporary directory.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { WebSocket } from "ws";
import { lastRealUserText, startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startFakeOidcIssuer, type FakeOidcIssuer, type FakeUser } from "../support/fake-oidc-issuer.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const CHROMIUM = "/usr/bin/chromium";
const COMPOSER = 'textarea[aria-label="Chat composer"]';
const MEMBER: FakeUser = { sub: "ui-member", email: "mia@acme.example", groups: ["tenant-acme-member"] };
const VIEWER: FakeUser = { sub: "ui-viewer", email: "vic@acme.example", groups: ["tenant-acme-viewer"] };
const OUTSIDER: FakeUser = { sub: "ui-outsider", email: "otto@globex.example", groups: ["tenant-globex-member"] };

/**
 * Responses under `/t/acme/` that OpenClaw itself refuses to a Clawfleet user, whatever the proxy does (read in
 * OpenClaw 2026.9.6 and seen here). Each is matched on path, status AND OpenClaw's own error body, so a refusal by
 * Clawfleet (a `CF_*` body) or a wrongly mapped path (the runtime's plain 404) is never mistaken for one of them.
 */
const OPENCLAW_OWN_REFUSALS: ReadonlyArray<{ path: RegExp; status: number; body: RegExp; why: string }> = [
  {
    path: /^\/t\/acme\/api\/users\/[^/]+\/avatar$/,
    status: 502,
    body: /"avatar_upstream_unavailable"/,
    why: "a user's picture comes from Gravatar (user-profiles-http), and a sandboxed runtime has no network",
  },
  {
    path: /^\/t\/acme\/__openclaw__\/workspace-icon\//,
    status: 403,
    body: /owner access required/,
    why: "workspace icons need operator.admin (authorizeControlUiSessionOwnerReadRequestOrReply), never granted",
  },
];

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

interface Frame {
  type?: string;
  id?: string;
  method?: string;
  ok?: boolean;
  event?: string;
  payload?: Record<string, unknown>;
  error?: { code?: string; message?: string };
  params?: Record<string, unknown>;
}

/** Everything one page did on the network, for assertions. */
interface PageTraffic {
  requests: string[];
  failures: Array<{ url: string; status: number; body: string }>;
  webSockets: string[];
  sent: Frame[];
  received: Frame[];
  console: string[];
  firstSocketAtMs: number;
  helloAtMs: number;
  documentHeaders: Record<string, string>;
  settled: Promise<unknown>[];
  /** Request frames not answered yet on a socket still open: id → method (a closed socket's are dropped). */
  pending: Map<string, { method: string; socket: number }>;
  /** Set once the test has looked: later responses (the UI keeps polling) are ignored. */
  stopped: boolean;
}

function parseFrame(payload: string | Buffer): Frame | null {
  try {
    const value: unknown = JSON.parse(String(payload));
    return typeof value === "object" && value !== null ? (value as Frame) : null;
  } catch {
    return null;
  }
}

function watch(page: Page): PageTraffic {
  const traffic: PageTraffic = { requests: [], failures: [], webSockets: [], sent: [], received: [], console: [], firstSocketAtMs: 0, helloAtMs: 0, documentHeaders: {}, settled: [], pending: new Map(), stopped: false };
  page.on("request", (request) => traffic.requests.push(request.url()));
  page.on("response", (response) => {
    if (traffic.stopped) return;
    if (response.request().resourceType() === "document" && traffic.documentHeaders["content-type"] === undefined) traffic.documentHeaders = response.headers();
    if (response.status() < 400) return;
    // Chromium does not keep every body (e.g. of a fetch the page aborted); then the same GET is asked again
    // with the page's cookies, through the same ingress, to read the refusal.
    const body = response
      .text()
      .catch(() => "")
      .then(async (text) => (text === "" && response.request().method() === "GET" && !traffic.stopped ? (await page.request.get(response.url())).text() : text))
      .catch(() => "");
    traffic.settled.push(body.then((text) => traffic.failures.push({ url: response.url(), status: response.status(), body: text.slice(0, 500) })));
  });
  page.on("websocket", (socket) => {
    const socketNumber = traffic.webSockets.push(socket.url());
    if (traffic.firstSocketAtMs === 0) traffic.firstSocketAtMs = Date.now();
    socket.on("framesent", (frame) => {
      const parsed = parseFrame(frame.payload);
      if (!parsed) return;
      traffic.sent.push(parsed);
      if (parsed.type === "req" && parsed.id !== undefined) traffic.pending.set(parsed.id, { method: String(parsed.method), socket: socketNumber });
    });
    socket.on("close", () => {
      for (const [id, request] of traffic.pending) if (request.socket === socketNumber) traffic.pending.delete(id);
    });
    socket.on("framereceived", (frame) => {
      const parsed = parseFrame(frame.payload);
      if (!parsed) return;
      traffic.received.push(parsed);
      if (parsed.type === "res" && parsed.id !== undefined) traffic.pending.delete(parsed.id);
      if (parsed.type === "res" && parsed.payload?.type === "hello-ok" && traffic.helloAtMs === 0) traffic.helloAtMs = Date.now();
    });
  });
  page.on("console", (message) => traffic.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => traffic.console.push(`pageerror: ${error.message}`));
  return traffic;
}

/** The `res` frame answering the first request frame sent with `method`. */
function responseTo(traffic: PageTraffic, method: string): Frame | undefined {
  const request = traffic.sent.find((frame) => frame.type === "req" && frame.method === method);
  return request ? traffic.received.find((frame) => frame.type === "res" && frame.id === request.id) : undefined;
}

/**
 * What the user typed, from the last real user message of a chat request: OpenClaw wraps it in a timestamp,
 * conversation info and runtime info, so it is the line that carries the test's `marker`.
 */
function typedLine(body: unknown, marker: string): string {
  return lastRealUserText(body).split("\n").find((line) => line.includes(marker))?.trim() ?? "";
}

/** The first line of the page's visible text containing `needle`, once it shows (polled). */
async function renderedLine(page: Page, needle: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await page.locator("body").innerText();
    const line = text.split("\n").find((candidate) => candidate.includes(needle));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`"${needle}" was not rendered within ${timeoutMs} ms; lines with "${needle.slice(0, 20)}": ${JSON.stringify(text.split("\n").filter((candidate) => candidate.includes(needle.slice(0, 20))))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Where the runtime of acme writes its own log (OpenClaw's console) under the platform's data directory. */
function runtimeLogPath(dataDir: string): string {
  return path.join(dataDir, "tenants", "acme", "logs", "runtime.log");
}

/** The runtime's own log (`tenants/acme/logs/runtime.log`: OpenClaw's console), or "" before it exists. */
function runtimeLog(dataDir: string): string {
  try {
    return readFileSync(runtimeLogPath(dataDir), "utf8");
  } catch {
    return "";
  }
}

/**
 * The runtime's own log lines (`tenants/acme/logs/runtime.log`, OpenClaw's console with ISO timestamps) from
 * `sinceMs` on, without the per-request `⇄ res ✓` lines: for the message of a failed chat.
 */
function runtimeLogSince(dataDir: string, sinceMs: number): string {
  try {
    const lines = runtimeLog(dataDir).split("\n");
    const since = new Date(sinceMs).toISOString();
    const first = lines.findIndex((line) => /^\d{4}-\d\d-\d\dT/.test(line) && new Date(line.slice(0, 29)).toISOString() >= since);
    return (first < 0 ? [] : lines.slice(first)).filter((line) => !line.includes("⇄ res ✓")).slice(-80).join("\n");
  } catch (error) {
    return `(runtime log not readable: ${String(error)})`;
  }
}

/** Methods of the page's request frames not answered yet on a socket still open. */
function unanswered(traffic: PageTraffic): string[] {
  return [...traffic.pending.values()].map((request) => request.method);
}

/**
 * Waits until the page has had no unanswered request on its WebSocket for `quietMs`, and, with `runId`, has seen
 * that run end (a `chat` event in a terminal state). A user types once the page has settled; OpenClaw's UI queues a
 * message typed while it is still loading the session (e.g. the `chat.history` it reloads after every run), and on
 * a slow host it was seen never to send such a queued message (composer emptied, message shown, no `chat.send`).
 * @throws Error naming what was still pending after `timeoutMs`
 */
async function untilSettled(traffic: PageTraffic, options: { runId?: string; quietMs?: number; timeoutMs?: number } = {}): Promise<void> {
  const { runId, quietMs = 1_000, timeoutMs = 60_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const ended = () => runId === undefined || traffic.received.some((frame) => frame.type === "event" && frame.event === "chat" && frame.payload?.runId === runId && ["final", "error", "aborted"].includes(String(frame.payload?.state)));
  let quietSince = Date.now();
  for (;;) {
    const pending = unanswered(traffic);
    if (pending.length > 0 || !ended()) quietSince = Date.now();
    else if (Date.now() - quietSince >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`the page did not settle within ${timeoutMs} ms: ${ended() ? "" : `run ${String(runId)} not ended; `}unanswered requests: ${JSON.stringify(pending)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True once the page has sent a `chat.send` request frame carrying `message`. */
function chatSent(traffic: PageTraffic, message: string): boolean {
  return traffic.sent.some((frame) => frame.type === "req" && frame.method === "chat.send" && JSON.stringify(frame.params ?? {}).includes(message));
}

/**
 * Types `message` into the composer and presses Enter, as a user does, until the page sends it (a `chat.send`
 * frame carrying the text, seen at the page's own WebSocket, before the ingress). Enter is pressed again only
 * when, 10 s later, the composer still holds the whole text and nothing was sent: the keystroke never reached
 * the UI's handler (OpenClaw's UI re-renders the composer while it loads or refreshes the history after a run),
 * which a user would see and repeat. An emptied composer means the UI took the message; then this waits.
 * @returns how many times Enter was pressed
 * @throws Error (with the composer's content) when the page sent nothing within `timeoutMs`
 */
async function submit(page: Page, traffic: PageTraffic, message: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  await page.locator(COMPOSER).fill(message);
  await page.keyboard.press("Enter");
  let presses = 1;
  let pressedAt = Date.now();
  while (!chatSent(traffic, message)) {
    if (Date.now() > deadline) {
      const composer = await page.locator(COMPOSER).inputValue({ timeout: 5_000 }).catch((error: unknown) => `(unreadable: ${String(error).slice(0, 100)})`);
      throw new Error(`the page sent no chat.send for ${JSON.stringify(message)} within ${timeoutMs} ms (Enter pressed ${presses} times); the composer holds ${JSON.stringify(composer)}`);
    }
    if (Date.now() - pressedAt > 10_000 && presses < 3) {
      const composer = await page.locator(COMPOSER).inputValue({ timeout: 5_000 }).catch(() => "");
      if (composer === message) {
        await page.locator(COMPOSER).focus();
        await page.keyboard.press("Enter");
        presses += 1;
      }
      pressedAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return presses;
}

/** Copies the runtime's whole log (which goes with the platform's data directory) to the temporary directory. */
function keepRuntimeLog(dataDir: string, name: string): string {
  const kept = path.join(tmpdir(), `clawfleet-control-ui-${name}-runtime.log`);
  try {
    copyFileSync(runtimeLogPath(dataDir), kept);
    return kept;
  } catch (error) {
    return `(not kept: ${String(error)})`;
  }
}

/**
 * Waits until the runtime logs that it applied `userId`'s identity scopes (OpenClaw's "config hot reload applied"
 * line); returns how long that took (ms).
 */
async function untilScopesApplied(dataDir: string, userId: string, who: string): Promise<number> {
  const started = Date.now();
  const applied = `config hot reload applied (gateway.auth.identityScopes.user:${userId}`;
  await until(() => runtimeLog(dataDir).includes(applied), 60_000, `the runtime to apply the ${who}'s identity scopes`);
  return Date.now() - started;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a tenant's OpenClaw Control UI through Clawfleet, in a real Chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`, timeout: 900_000 }, () => {
  let upstream: FakeUpstream;
  let issuer: FakeOidcIssuer;
  let platform: TestPlatform;
  let browser: Browser;
  let origin = "";
  let apiKey = "";
  const nonce = randomBytes(6).toString("hex");
  const contexts: BrowserContext[] = [];

  /** A fresh browser profile logged in as `user` (the fake provider logs in whoever it is told to). */
  async function loggedIn(user: FakeUser): Promise<{ context: BrowserContext; page: Page; session: { user: { id: string }; memberships: unknown } }> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    issuer.nextUser = user;
    const landed = await page.goto(`${origin}/auth/login?returnTo=/auth/session`);
    assert.equal(landed?.status(), 200);
    const session = JSON.parse((await page.textContent("body")) ?? "{}") as { user: { id: string }; memberships: unknown };
    return { context, page, session };
  }

  before(async () => {
    upstream = await startFakeUpstream();
    // The reply quotes the last line of the user's message (OpenClaw puts a timestamp and conversation info above
    // what was typed), so the page can only show it if the typed message reached the model.
    upstream.setDefault((body) => ({ kind: "text", text: `Fake model ${nonce} heard: ${typedLine(body, nonce)}` }));
    issuer = await startFakeOidcIssuer("clawfleet-console");
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
    platform = await startTestPlatform({ CLAWFLEET_PORT: String(port), OPENAI_API_KEY: "sk-fake-provider-key", OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini" }, { configYaml });
    const created = await platform.admin("POST", "/tenants", { id: "acme" });
    assert.equal(created.status, 201);
    apiKey = (created.body as { apiKey: string }).apiKey;
    assert.equal((await platform.admin("POST", "/tenants", { id: "globex" })).status, 201);
    // Boot the runtime first, so that the page timings below are the UI's own.
    const started = await platform.admin("POST", "/tenants/acme/runtime/start?wait=true");
    assert.equal((started.body as { state: string }).state, "ready", JSON.stringify(started.body));
    assert.equal((started.body as { sandboxed: boolean }).sandboxed, true, "trusted-proxy mode is for sandboxed runtimes");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await platform?.stop();
    await issuer?.close();
    await upstream?.close();
  });

  test("a member opens /t/acme/: the UI renders under the prefix, its WebSocket connects as that user, and a chat message gets the model's reply", async (t: TestContext) => {
    const { page, session } = await loggedIn(MEMBER);
    assert.deepEqual(session.memberships, [{ tenantId: "acme", role: "member" }]);
    // The login stored the member's claim membership; the running runtime gets the member's identity scopes at the
    // identity sync's next periodic resync (up to 30 s), and that config write makes OpenClaw close every WebSocket
    // of the runtime and abort the runs started from them (docs/security.md, Control UI limits). Chatting before it
    // lands loses the message on a slow host, so the page is opened once the runtime has applied it.
    const memberScopesMs = await untilScopesApplied(platform.dataDir, session.user.id, "member");
    t.diagnostic(`the runtime applied the member's identity scopes ${memberScopesMs} ms after the login`);
    const traffic = watch(page);

    const loadStarted = Date.now();
    const document = await page.goto(`${origin}/t/acme/`);
    assert.equal(document?.status(), 200);
    await page.locator(COMPOSER).waitFor({ state: "visible", timeout: 60_000 });
    await until(() => traffic.helloAtMs > 0, 30_000, "the UI's WebSocket hello");
    const pageLoadMs = Date.now() - loadStarted;
    const webSocketMs = traffic.helloAtMs - traffic.firstSocketAtMs;

    // Real UI content: OpenClaw's app, routed inside the prefix, showing the identity the ingress asserted.
    assert.match(await page.title(), /OpenClaw/);
    assert.match(new URL(page.url()).pathname, /^\/t\/acme\/chat\//, "the UI's own router stays under the base path");
    await page.getByText(`user:${session.user.id}`).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator(COMPOSER).getAttribute("placeholder"), "Message Assistant");

    // The page's own response headers: OpenClaw's CSP and frame policy, not Clawfleet's `default-src 'none'`.
    const csp = traffic.documentHeaders["content-security-policy"] ?? "";
    assert.match(csp, /default-src 'self'/, csp);
    assert.match(csp, /frame-ancestors 'none'/, csp);
    assert.equal(traffic.documentHeaders["x-frame-options"], "DENY");
    assert.equal(traffic.documentHeaders["set-cookie"], undefined, "a runtime sets no cookie on Clawfleet's origin");

    // The WebSocket: one socket, through the ingress under the prefix, trusted-proxy auth for this user, a new
    // browser device approved on the spot with the member's scopes (no operator.admin).
    assert.deepEqual([...new Set(traffic.webSockets)], [`ws://127.0.0.1:${new URL(origin).port}/t/acme`]);
    const connect = traffic.sent.find((frame) => frame.method === "connect");
    assert.ok(connect?.params?.device, "the Control UI connects with a browser device identity");
    const hello = traffic.received.find((frame) => frame.payload?.type === "hello-ok");
    const auth = hello?.payload?.auth as { method?: string; scopes?: string[]; role?: string } | undefined;
    t.diagnostic(`hello-ok auth: ${JSON.stringify(auth)}`);
    assert.equal(auth?.method, "trusted-proxy");
    assert.deepEqual([...(auth?.scopes ?? [])].sort(), ["operator.read", "operator.write"]);

    /** A chat that failed: what the page sent and saw, what the model was asked since `since`, the gateway's records, the runtime's log. */
    const chatFailure = async (error: unknown, since: number): Promise<Error> => {
      const recorded = await platform.admin("GET", "/tenants/acme/requests").catch((failure: unknown) => ({ status: 0, body: String(failure) }));
      // The whole runtime log outlives the platform's data directory, for what the excerpt below leaves out.
      const keptLog = keepRuntimeLog(platform.dataDir, `${nonce}-member`);
      const asked = upstream.requests.slice(since).map((request) => `${request.path} ${JSON.stringify(typedLine(request.body, nonce))}`);
      const chatSends = traffic.sent
        .filter((frame) => frame.type === "req" && frame.method === "chat.send")
        .map((frame) => {
          const answer = traffic.received.find((received) => received.type === "res" && received.id === frame.id);
          return `${String(frame.id)} → ${answer ? (answer.ok ? "ok" : JSON.stringify(answer.error).slice(0, 200)) : "no response"}`;
        });
      // The run each accepted chat.send started, and the events of those runs the page received (a UI that never
      // saw its run end keeps later messages queued instead of sending them).
      const runIds = traffic.received.flatMap((frame) => (frame.type === "res" && frame.ok === true && typeof frame.payload?.runId === "string" ? [frame.payload.runId] : []));
      const runEvents = runIds.map((runId) => {
        const events = traffic.received.filter((frame) => frame.type === "event" && JSON.stringify(frame.payload ?? {}).includes(runId));
        const last = events.slice(-4).map((frame) => `${String(frame.event)}:${String(frame.payload?.state ?? frame.payload?.stream ?? "")}`);
        return `${runId}: ${events.length} events, last ${last.join(", ")}`;
      });
      const composer = await page.locator(COMPOSER).inputValue({ timeout: 5_000 }).catch((failure: unknown) => `(unreadable: ${String(failure).slice(0, 100)})`);
      const pageLines = await page.locator("body").innerText({ timeout: 5_000 }).then((text) => text.split("\n").filter((line) => line.includes(nonce)), () => []);
      const consoleLines = traffic.console.filter((line) => /^(error|warning|pageerror)/.test(line)).slice(-5).map((line) => line.slice(0, 200));
      const errorFrames = traffic.received.filter((frame) => frame.ok === false || /error/i.test(frame.event ?? "") || JSON.stringify(frame.payload ?? {}).includes("dispatch-error"));
      return new Error(
        `chat failed (${error instanceof Error ? error.message.slice(0, 600) : String(error)}); the model was asked: ${asked.join(" | ") || "nothing"}; chat.send frames the page sent: ${chatSends.join(" | ") || "none"}; their runs' events on the page: ${runEvents.join(" | ") || "none"}; the composer holds ${JSON.stringify(composer)}; page lines with the nonce: ${JSON.stringify(pageLines)}; the page's last console errors: ${JSON.stringify(consoleLines)}; error frames on the page's WebSocket: ${errorFrames.slice(0, 5).map((frame) => JSON.stringify(frame).slice(0, 300)).join(" | ") || "none"}; the gateway's request records of acme: ${JSON.stringify(recorded.body).slice(0, 1500)}; the runtime logged since the page load (whole log: ${keptLog}):\n${runtimeLogSince(platform.dataDir, loadStarted)}`,
        { cause: error },
      );
    };

    // Chat: type, send, see the fake model's answer to exactly that message rendered.
    const message = `Hello from the Control UI ${nonce}`;
    const before = upstream.requests.length;
    let chatStarted = 0;
    const presses = await untilSettled(traffic)
      .then(() => {
        chatStarted = Date.now();
        return submit(page, traffic, message);
      })
      .catch(async (error: unknown) => {
        throw await chatFailure(error, before);
      });
    const replyLine = await renderedLine(page, `Fake model ${nonce} heard: ${message}`, 180_000).catch(async (error: unknown) => {
      throw await chatFailure(error, before);
    });
    const chatMs = Date.now() - chatStarted;
    assert.equal(replyLine.trim(), `Fake model ${nonce} heard: ${message}`, "the rendered reply answers the typed message");
    assert.equal(responseTo(traffic, "chat.send")?.ok, true);
    const modelCalls = upstream.requests.slice(before).filter((request) => request.path.endsWith("/chat/completions"));
    assert.ok(modelCalls.some((request) => typedLine(request.body, nonce) === message), "the typed message reached the model through Clawfleet's gateway");
    assert.ok(modelCalls.every((request) => request.headers.authorization === "Bearer sk-fake-provider-key"), "provider key added by the gateway");

    // A second message in the same session: the round trip once OpenClaw's first agent run is behind it (its run
    // ended and the page settled, as a user would wait for).
    const second = `Second message ${nonce}`;
    const secondBefore = upstream.requests.length;
    const firstRunId = responseTo(traffic, "chat.send")?.payload?.runId;
    assert.equal(typeof firstRunId, "string", "chat.send answers with the id of the run it started");
    let secondStarted = 0;
    const secondPresses = await untilSettled(traffic, { runId: firstRunId as string })
      .then(() => {
        secondStarted = Date.now();
        return submit(page, traffic, second);
      })
      .catch(async (error: unknown) => {
        throw await chatFailure(error, secondBefore);
      });
    await renderedLine(page, `Fake model ${nonce} heard: ${second}`, 120_000).catch(async (error: unknown) => {
      throw await chatFailure(error, secondBefore);
    });
    const secondChatMs = Date.now() - secondStarted;

    // Every request the page made stayed under /t/acme/ (or is its WebSocket), and the only failures are OpenClaw's
    // own refusals listed above.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await Promise.all(traffic.settled);
    const outside = traffic.requests.filter((url) => !url.startsWith(`${origin}/t/acme/`));
    assert.deepEqual(outside, [], "no request leaves the tenant's prefix");
    for (const failure of traffic.failures) {
      const path = new URL(failure.url).pathname;
      const known = OPENCLAW_OWN_REFUSALS.find((refusal) => refusal.path.test(path) && refusal.status === failure.status && refusal.body.test(failure.body));
      assert.ok(known, `unexpected ${failure.status} for ${failure.url}: ${failure.body}`);
      t.diagnostic(`OpenClaw's own refusal: ${failure.status} ${path} (${known.why})`);
    }
    traffic.stopped = true;
    assert.deepEqual(traffic.console.filter((line) => /Content Security Policy|Refused to/i.test(line)), [], "no CSP violation");
    t.diagnostic(`${traffic.requests.length} HTTP requests, all under /t/acme/; ${traffic.failures.length} refused by OpenClaw itself`);
    t.diagnostic(`page load (navigation → composer shown and WebSocket connected): ${pageLoadMs} ms`);
    t.diagnostic(`WebSocket connect (socket opened → hello-ok, device approved): ${webSocketMs} ms`);
    t.diagnostic(`chat round trip (Enter → the model's reply rendered): first message ${chatMs} ms, second ${secondChatMs} ms; Enter pressed ${presses} and ${secondPresses} time(s) before the page sent them`);
    await page.context().close();
  });

  test("without a session a browser gets the login page (and then the UI), API clients a 401; a user of another tenant gets 403", async (t: TestContext) => {
    const context = await browser.newContext();
    contexts.push(context);
    const navigation = await context.request.get(`${origin}/t/acme/chat/main`, { headers: { accept: "text/html" }, maxRedirects: 0 });
    assert.equal(navigation.status(), 302);
    assert.equal(navigation.headers().location, "/auth/login?returnTo=%2Ft%2Facme%2Fchat%2Fmain");
    assert.doesNotMatch(await navigation.text(), /openclaw/i, "nothing of the UI without a session");
    // A session cookie that is refused (unknown, expired, signed out) is a failed authentication, not a missing one:
    // 401 (counted for the lockout) with the way out in the message, no redirect.
    const stale = await context.request.get(`${origin}/t/acme/`, { headers: { accept: "text/html", cookie: "cf_session=not-a-session" }, maxRedirects: 0 });
    assert.equal(stale.status(), 401);
    assert.match(await stale.text(), /CF_AUTH_INVALID_TOKEN.*log in again at \/auth\/login/);
    const script = await context.request.get(`${origin}/t/acme/control-ui-config.json`, { maxRedirects: 0 });
    assert.equal(script.status(), 401, "a non-navigation request gets the 401 it asked for");
    assert.equal(((await script.json()) as { error: { code: string } }).error.code, "CF_AUTH_MISSING");
    const socket = await new Promise<number>((resolve) => {
      const client = new WebSocket(`${origin.replace("http", "ws")}/t/acme/`, { origin });
      client.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      client.on("open", () => resolve(101));
      client.on("error", () => undefined);
    });
    assert.equal(socket, 401, "no WebSocket without a session");

    // The same navigation in the browser: login at the provider, then back to the page that was asked for.
    const page = await context.newPage();
    issuer.nextUser = MEMBER;
    await page.goto(`${origin}/t/acme/chat/main`);
    await page.locator(COMPOSER).waitFor({ state: "visible", timeout: 60_000 });
    assert.equal(new URL(page.url()).pathname, "/t/acme/chat/main");

    const outsider = await loggedIn(OUTSIDER);
    assert.deepEqual(outsider.session.memberships, [{ tenantId: "globex", role: "member" }]);
    const refused = await outsider.page.goto(`${origin}/t/acme/`);
    assert.equal(refused?.status(), 403);
    assert.match((await outsider.page.textContent("body")) ?? "", /CF_FORBIDDEN_TENANT/);
    const refusedAsset = await outsider.context.request.get(`${origin}/t/acme/control-ui-config.json`);
    assert.equal(refusedAsset.status(), 403);
    t.diagnostic("no session: 302 to /auth/login for pages, 401 otherwise; other tenant's member: 403 CF_FORBIDDEN_TENANT");
  });

  test("a viewer sees the UI, but the runtime refuses the viewer's chat message (scopes capped by x-openclaw-scopes)", async (t: TestContext) => {
    const { page, session } = await loggedIn(VIEWER);
    // As for the member: the viewer's first login adds them to the runtime's identity scopes, and that change closes
    // every WebSocket of the runtime (the page reconnects; requests in flight are lost), so the page is opened after.
    const viewerScopesMs = await untilScopesApplied(platform.dataDir, session.user.id, "viewer");
    t.diagnostic(`the runtime applied the viewer's identity scopes ${viewerScopesMs} ms after the login`);
    const traffic = watch(page);
    const viewerLoadStarted = Date.now();
    await page.goto(`${origin}/t/acme/`);
    await page.locator(COMPOSER).waitFor({ state: "visible", timeout: 60_000 });
    await until(() => traffic.helloAtMs > 0, 30_000, "the UI's WebSocket hello");
    const hello = traffic.received.find((frame) => frame.payload?.type === "hello-ok");
    const auth = hello?.payload?.auth as { method?: string; scopes?: string[] } | undefined;
    assert.equal(auth?.method, "trusted-proxy");
    assert.deepEqual(auth?.scopes, ["operator.read"], "the device grant is capped to the viewer's scopes");

    const message = `A viewer tries to write ${nonce}`;
    const before = upstream.requests.length;
    try {
      await untilSettled(traffic);
      const presses = await submit(page, traffic, message);
      t.diagnostic(`Enter pressed ${presses} time(s) before the page sent the viewer's message`);
      await until(() => responseTo(traffic, "chat.send") !== undefined, 30_000, "the answer to chat.send");
    } catch (error) {
      const keptLog = keepRuntimeLog(platform.dataDir, `${nonce}-viewer`);
      throw new Error(`${error instanceof Error ? error.message : String(error)}; the runtime logged since the page load (whole log: ${keptLog}):\n${runtimeLogSince(platform.dataDir, viewerLoadStarted)}`, { cause: error });
    }
    const refusal = responseTo(traffic, "chat.send");
    assert.equal(refusal?.ok, false);
    assert.match(JSON.stringify(refusal?.error), /operator\.write/, JSON.stringify(refusal?.error));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(upstream.requests.slice(before).filter((request) => typedLine(request.body, nonce) === message).length, 0, "nothing reached the model");
    assert.equal(await page.getByText(`Fake model ${nonce} heard: ${message}`).count(), 0);
    traffic.stopped = true;
    const shown = (await page.locator("body").innerText()).split("\n").filter((line) => /scope|permission|denied|forbidden|read.only|failed/i.test(line));
    t.diagnostic(`viewer's chat.send: ${JSON.stringify(refusal?.error)}; the page shows: ${JSON.stringify(shown.slice(0, 5))}`);
    await page.context().close();
  });

  test("OpenClaw's direct tool endpoint stays closed in every spelling, with and without the prefix; the API paths still work", async () => {
    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
    // memory_search is a tool the runtime would run at once (it did through /__openclaw__/cap/x/tools/invoke before).
    const body = JSON.stringify({ tool: "memory_search", args: { query: "x" } });
    for (const variant of ["/tools/invoke", "/__openclaw__/cap/x/tools/invoke", "/__openclaw__/cap/x/__openclaw__/cap/y/tools/invoke", "/x/..%2Ftools/invoke", "/t/acme/tools/invoke", "/tools/invoke?oc_cap=x"]) {
      const response = await fetch(`${origin}/t/acme${variant}`, { method: "POST", headers, body });
      const answer = await response.text();
      if (variant.startsWith("/t/acme/")) {
        // The prefix twice: OpenClaw sees /t/acme/t/acme/tools/invoke, a UI path with no POST route.
        assert.equal(response.status, 404, `${variant}: ${answer}`);
        assert.doesNotMatch(answer, /"ok":true|hostname/);
      } else {
        assert.equal(response.status, 403, `${variant}: ${answer}`);
        assert.match(answer, /CF_ROUTE_FORBIDDEN/, variant);
      }
    }
    // Sent as is (fetch would resolve the dot segments itself): OpenClaw would read it as /t/globex/v1/models.
    const escape = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest({ host: "127.0.0.1", port: new URL(origin).port, path: "/t/acme/%2e%2e/globex/v1/models", headers }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.on("error", reject);
      request.end();
    });
    assert.equal(escape.status, 400, `a path that leaves the tenant's prefix once normalized is refused: ${escape.body}`);
    const models = await fetch(`${origin}/t/acme/v1/models`, { headers });
    assert.equal(models.status, 200, "the OpenAI-compatible API keeps its root path on the runtime");
    assert.ok(((await models.json()) as { data: unknown[] }).data.length > 0);
    const health = await fetch(`${origin}/t/acme/healthz`, { headers });
    assert.deepEqual(await health.json(), { ok: true, status: "live" });

    const frames = await new Promise<Frame[]>((resolve) => {
      const received: Frame[] = [];
      const client = new WebSocket(`${origin.replace("http", "ws")}/t/acme/`, { headers: { authorization: `Bearer ${apiKey}` } });
      client.on("message", (data) => {
        const frame = parseFrame(data as Buffer);
        if (!frame) return;
        received.push(frame);
        if (frame.event === "connect.challenge") client.send('{"type":"req","id":"t1","method":"tools\\u002einvoke","params":{"name":"read","args":{"path":"/etc/hostname"}}}');
        if (frame.id === "t1") {
          client.close();
          resolve(received);
        }
      });
      client.on("error", () => resolve(received));
      setTimeout(() => resolve(received), 30_000);
    });
    const toolAnswer = frames.find((frame) => frame.id === "t1");
    assert.equal(toolAnswer?.ok, false);
    assert.equal(toolAnswer?.error?.code, "CF_ROUTE_FORBIDDEN");
  });
});
