/**
 * Adversarial suite for the platform's hardening (issue 5), over real sockets: TLS termination and certificate
 * reload, HSTS, body/header limits, slow clients, duplicated credential headers, Host header variants, secrets
 * in query strings (and in logs), failed-auth lockout (X-Forwarded-For spoofing, trusted proxies, two replicas
 * sharing the real Redis), the route-table authentication check, and `clawfleet doctor` against seeded
 * misconfigurations. Distinct 127.0.0.x source addresses keep lockout cases apart. Prints
 * `# hardening adversarial cases: N run, M refused as expected` to stderr.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { startClawfleet, type RunningClawfleet } from "../../src/app.js";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";
import { buildServer, routeTableOf } from "../../src/http/server.js";
import { unauthenticatedRoutes } from "../../src/http/route-auth-check.js";
import { doctorCommand } from "../../src/cli/doctor.js";
import type { DoctorReport } from "../../src/doctor/report.js";
import { checkTokenParity } from "../../src/doctor/runtime-checks.js";
import { tokenDigest } from "../../src/admin/diagnostics.js";
import { tenantLayout } from "../../src/deps.js";
import { makeCertificate, type TestCertificate } from "../support/tls-certificates.js";

let casesRun = 0;
let refusedAsExpected = 0;
/** Counts one adversarial case; `refused` when the attack was refused as it should be. */
function tally(refused: boolean): void {
  casesRun += 1;
  if (refused) refusedAsExpected += 1;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request from a chosen loopback source address. */
function request(baseUrl: string, urlPath: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string } = {}): Promise<Answer> {
  const url = new URL(urlPath, baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: options.method ?? "GET", headers: options.headers, localAddress: options.localAddress ?? "127.0.0.1", agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** Writes raw bytes and collects everything until the server closes (or `timeoutMs`). */
function rawExchange(port: number, text: string, timeoutMs = 5_000): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.1" }, () => socket.write(text));
    let response = "";
    socket.on("data", (chunk) => (response += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closedAfterMs: Number.POSITIVE_INFINITY });
    }, timeoutMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      if ((error as NodeJS.ErrnoException).code === "ECONNRESET") resolve({ response, closedAfterMs: Date.now() - started });
      else reject(error);
    });
  });
}

function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

function codeOf(answer: Answer): string | undefined {
  const parsed = JSON.parse(answer.body) as { error?: { code?: string } };
  return parsed.error?.code;
}

class LogCapture extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

interface Platform {
  running: RunningClawfleet;
  dataDir: string;
  port: number;
  logs: LogCapture;
  stop(): Promise<void>;
}

async function startPlatform(configYaml: string, env: NodeJS.ProcessEnv = {}): Promise<Platform> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
  writeFileSync(path.join(dataDir, "clawfleet.yaml"), configYaml);
  const fullEnv = { CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_LOG_LEVEL: "info", CLAWFLEET_RUNTIME_SANDBOX: "none", ...env };
  const { config } = loadConfig({ env: fullEnv, cwd: dataDir });
  const logs = new LogCapture();
  const running = await startClawfleet(config, createLogger(config.logLevel, logs), fullEnv);
  return {
    running,
    dataDir,
    port: Number(new URL(running.url).port),
    logs,
    async stop() {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const LIMITS_YAML = `server:
  metricsToken: ${METRICS_TOKEN}
  bodyLimitBytes: 65536
  adminBodyLimitBytes: 2048
  maxHeaderBytes: 4096
  headersTimeoutMs: 1000
  trustedProxies: ["127.0.0.9"]
  authLockout: { maxFailures: 3, windowMs: 60000, lockoutMs: 60000, exemptLoopback: false }
`;

let plain: Platform;
let certificateDirectory = "";

before(async () => {
  plain = await startPlatform(LIMITS_YAML);
  certificateDirectory = mkdtempSync(path.join(tmpdir(), "cf-tls-"));
});

after(async () => {
  await plain?.stop();
  rmSync(certificateDirectory, { recursive: true, force: true });
  process.stderr.write(`# hardening adversarial cases: ${casesRun} run, ${refusedAsExpected} refused as expected\n`);
});

// ---- TLS ----------------------------------------------------------------------------------------------------

function writePair(directory: string, pair: TestCertificate): { certFile: string; keyFile: string } {
  const certFile = path.join(directory, "cert.pem");
  const keyFile = path.join(directory, "key.pem");
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  return { certFile, keyFile };
}

/** Handshake trusting only `ca`; resolves the served leaf's SHA-256 fingerprint. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on("error", reject);
  });
}

/** Fingerprint without verification (to see what is served whatever it is). */
function anyServedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on("error", reject);
  });
}

function httpsGet(port: number, urlPath: string, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = https.request({ host: "127.0.0.1", port, path: urlPath, servername: "localhost", ca, agent: false }, (response: http.IncomingMessage) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

test("TLS: handshake with the configured certificate, HSTS over TLS only, reload swaps the certificate, invalid new pairs keep the old one", async () => {
  const first = makeCertificate();
  const files = writePair(certificateDirectory, first);
  const platform = await startPlatform(`server:\n  tls: { certFile: ${files.certFile}, keyFile: ${files.keyFile}, reloadCheckMs: 100 }\n`);
  try {
    assert.match(platform.running.url, /^https:\/\//);
    const firstFingerprint = await servedFingerprint(platform.port, first.cert);
    const health = await httpsGet(platform.port, "/healthz", first.cert);
    assert.equal(health.status, 200);
    assert.equal(health.headers["strict-transport-security"], "max-age=31536000");
    const overHttp = await request(plain.running.url, "/healthz");
    tally(overHttp.headers["strict-transport-security"] === undefined);
    assert.equal(overHttp.headers["strict-transport-security"], undefined, "no HSTS over plain HTTP");

    // A plain-HTTP request to the TLS port is not served.
    const clearText = await rawExchange(platform.port, "GET /admin/v1/tenants HTTP/1.1\r\nHost: localhost\r\n\r\n", 3_000);
    tally(!/^HTTP\/1\.1 200/.test(clearText.response));
    assert.doesNotMatch(clearText.response, /^HTTP\/1\.1 200/);

    // Reload: a new valid pair is served without a restart.
    const second = makeCertificate();
    writePair(certificateDirectory, second);
    assert.ok(await waitFor(async () => (await anyServedFingerprint(platform.port)) !== firstFingerprint, 5_000), "the new certificate is served");
    const secondFingerprint = await servedFingerprint(platform.port, second.cert);
    assert.notEqual(secondFingerprint, firstFingerprint);
    await assert.rejects(servedFingerprint(platform.port, first.cert), "the old certificate is no longer served");

    // Invalid new pairs: mismatched key, expired certificate, garbage. Each is refused; the second pair stays.
    const other = makeCertificate();
    const expired = makeCertificate({ startDate: "20200101000000Z", endDate: "20200102000000Z" });
    for (const [name, pair] of [
      ["key of another certificate", { cert: second.cert, key: other.key }],
      ["expired certificate", expired],
      ["not PEM", { cert: "not a certificate\n", key: "not a key\n" }],
    ] as const) {
      writePair(certificateDirectory, pair);
      await new Promise((resolve) => setTimeout(resolve, 900));
      const served = await anyServedFingerprint(platform.port);
      tally(served === secondFingerprint);
      assert.equal(served, secondFingerprint, `${name}: the previous certificate is still served`);
      assert.equal((await httpsGet(platform.port, "/healthz", second.cert)).status, 200, `${name}: still serving`);
    }
    assert.match(platform.logs.text, /TLS certificate reload refused; still serving the previous certificate/);
    assert.match(platform.logs.text, /does not match the certificate/);
    assert.match(platform.logs.text, /expired on 2020-01-02/);
  } finally {
    await platform.stop();
  }
});

// ---- limits and slow clients ----------------------------------------------------------------------------------

test("body limits per route class: admin 2 KiB → 413, model gateway accepts 10 KiB but not 80 KiB", async () => {
  const adminToken = plain.running.adminToken.token;
  const bigAdmin = await request(plain.running.url, "/admin/v1/tenants", { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ id: "big", settings: { filler: "x".repeat(4000) } }) });
  tally(bigAdmin.status === 413);
  assert.equal(bigAdmin.status, 413);
  assert.equal(codeOf(bigAdmin), "CF_PAYLOAD_TOO_LARGE");
  const mediumModel = await request(plain.running.url, "/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "x".repeat(10_000) }] }) });
  assert.equal(mediumModel.status, 401, "10 KiB passes the gateway's body limit (then fails authentication)");
  const hugeModel = await request(plain.running.url, "/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "x".repeat(80_000) }] }) });
  tally(hugeModel.status === 413);
  assert.equal(hugeModel.status, 413);
});

test("oversized headers → 431 CF_HEADERS_TOO_LARGE; slowloris headers → connection closed within the headers timeout", async () => {
  const { response } = await rawExchange(plain.port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nx-padding: ${"a".repeat(8_000)}\r\n\r\n`);
  tally(statusOf(response) === 431);
  assert.equal(statusOf(response), 431);
  assert.match(response, /CF_HEADERS_TOO_LARGE/);

  // Slowloris: one header line every 200 ms, never finishing the block. headersTimeoutMs is 1000.
  const started = Date.now();
  const closed = await new Promise<{ afterMs: number; response: string }>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port: plain.port }, () => socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"));
    let received = "";
    let line = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(`x-slow-${line++}: y\r\n`);
    }, 200);
    socket.on("data", (chunk) => (received += chunk.toString("utf8")));
    const finish = () => {
      clearInterval(drip);
      resolve({ afterMs: Date.now() - started, response: received });
    };
    socket.on("close", finish);
    socket.on("error", () => undefined);
    setTimeout(() => socket.destroy(), 10_000);
  });
  tally(closed.afterMs < 3_000);
  assert.ok(closed.afterMs < 3_000, `closed after ${closed.afterMs} ms (headers timeout 1000 ms)`);
  assert.ok(closed.response === "" || statusOf(closed.response) === 408, closed.response);
});

// ---- request hygiene -----------------------------------------------------------------------------------------

test("duplicated Authorization (and x-api-key, Host) headers are refused before authentication", async () => {
  const adminToken = plain.running.adminToken.token;
  const cases = [
    `GET /admin/v1/tenants HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${adminToken}\r\nAuthorization: Bearer wrong\r\n\r\n`,
    `GET /admin/v1/tenants HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer wrong\r\nauthorization: Bearer ${adminToken}\r\n\r\n`,
    `GET /v1/models HTTP/1.1\r\nHost: localhost\r\nx-api-key: a\r\nx-api-key: b\r\n\r\n`,
    `GET /admin/v1/tenants HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nAuthorization: Bearer ${adminToken}\r\n\r\n`,
  ];
  for (const text of cases) {
    const { response } = await rawExchange(plain.port, text.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
    tally(statusOf(response) === 400);
    assert.equal(statusOf(response), 400, text.split("\r\n")[0]);
    assert.match(response, /CF_DUPLICATE_HEADER/);
  }
});

test("Host header variants and path tricks do not bypass authentication", async () => {
  const port = plain.port;
  const targets = ["/admin/v1/tenants", "/metrics", "/v1/models", "/t/acme/v1/chat/completions", "/admin/v1/diagnostics/runtime-tokens"];
  const hosts = ["localhost", "127.0.0.1", "evil.example", "localhost:1", "[::1]", ""];
  for (const target of targets) {
    for (const host of hosts) {
      const { response } = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      tally(statusOf(response) === 401 || statusOf(response) === 400);
      assert.ok([400, 401].includes(statusOf(response)), `${target} Host: ${host} → ${statusOf(response)}`);
    }
    const absolute = await rawExchange(port, `GET http://127.0.0.1:${port}${target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    tally([400, 401, 404].includes(statusOf(absolute.response)));
    assert.ok([400, 401, 404].includes(statusOf(absolute.response)), `absolute-form ${target} → ${statusOf(absolute.response)}`);
  }
  for (const trick of ["//admin/v1/tenants", "/admin/v1/../v1/tenants", "/admin/v1/%74enants", "/ADMIN/v1/tenants", "/admin/v1/tenants/", "/admin/v1/tenants;x", "/metrics/", "/metrics%2F"]) {
    const { response } = await rawExchange(port, `GET ${trick} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    tally(statusOf(response) !== 200);
    assert.notEqual(statusOf(response), 200, `${trick} answered 200 without credentials`);
  }
});

test("tokens in query strings are refused (even valid ones) and never reach the logs", async () => {
  const adminToken = plain.running.adminToken.token;
  const secret = "cfk_query_secret_value_0123456789";
  const urls = [
    `/admin/v1/tenants?access_token=${adminToken}`,
    `/admin/v1/tenants?token=${secret}`,
    `/v1/models?api_key=${secret}`,
    `/v1/models?KEY=${secret}`,
    `/t/acme/v1/chat/completions?%74oken=${secret}`,
    `/metrics?x=1&api-key=${secret}`,
    `/healthz?password=${secret}`,
  ];
  for (const url of urls) {
    const answer = await request(plain.running.url, url, { headers: { authorization: `Bearer ${adminToken}` } });
    tally(answer.status === 400 && codeOf(answer) === "CF_SECRET_IN_QUERY");
    assert.equal(answer.status, 400, url);
    assert.equal(codeOf(answer), "CF_SECRET_IN_QUERY", url);
  }
  const harmless = await request(plain.running.url, "/admin/v1/tenants?limit=5", { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(harmless.status, 200);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!plain.logs.text.includes(secret), "the query secret is not logged");
  assert.ok(!plain.logs.text.includes(adminToken), "the admin token is not logged (query or header)");
  assert.match(plain.logs.text, /access_token=\[redacted\]/);
});

// ---- lockout ---------------------------------------------------------------------------------------------------

async function failFrom(localAddress: string, headers: Record<string, string> = {}): Promise<Answer> {
  return request(plain.running.url, "/v1/models", { localAddress, headers: { authorization: "Bearer cfk_wrong_0000000000000000", ...headers } });
}

test("lockout: N failures lock the source out (429, Retry-After, CF_AUTH_LOCKED_OUT); a correct credential does not lift it; health checks still pass", async () => {
  const address = "127.0.0.21";
  for (let attempt = 1; attempt <= 3; attempt += 1) assert.equal((await failFrom(address)).status, 401, `failure ${attempt}`);
  const locked = await failFrom(address);
  tally(locked.status === 429);
  assert.equal(locked.status, 429);
  assert.equal(codeOf(locked), "CF_AUTH_LOCKED_OUT");
  assert.ok(Number(locked.headers["retry-after"]) > 50 && Number(locked.headers["retry-after"]) <= 60, `retry-after ${locked.headers["retry-after"]}`);
  const legit = await request(plain.running.url, "/admin/v1/tenants", { localAddress: address, headers: { authorization: `Bearer ${plain.running.adminToken.token}` } });
  tally(legit.status === 429);
  assert.equal(legit.status, 429, "a valid admin token from a locked-out address is still refused");
  assert.equal((await request(plain.running.url, "/healthz", { localAddress: address })).status, 200);
  assert.equal((await request(plain.running.url, "/admin/v1/tenants", { localAddress: "127.0.0.22", headers: { authorization: `Bearer ${plain.running.adminToken.token}` } })).status, 200, "other addresses are not affected");
});

test("lockout: a spoofed X-Forwarded-For does not change the source (no trusted proxy); a trusted proxy's does", async () => {
  const address = "127.0.0.31";
  for (let attempt = 1; attempt <= 3; attempt += 1) assert.equal((await failFrom(address, { "x-forwarded-for": `198.51.100.${attempt}` })).status, 401);
  const spoofed = await failFrom(address, { "x-forwarded-for": "198.51.100.99" });
  tally(spoofed.status === 429);
  assert.equal(spoofed.status, 429, "rotating X-Forwarded-For values did not escape the lockout");
  const forwardedClean = await request(plain.running.url, "/admin/v1/tenants", { localAddress: address, headers: { authorization: `Bearer ${plain.running.adminToken.token}`, "x-forwarded-for": "127.0.0.1" } });
  tally(forwardedClean.status === 429);
  assert.equal(forwardedClean.status, 429, "claiming to be another client does not help");

  // 127.0.0.9 is a trusted proxy: the client it names is the source.
  for (let attempt = 1; attempt <= 3; attempt += 1) assert.equal((await failFrom("127.0.0.9", { "x-forwarded-for": "203.0.113.7" })).status, 401);
  const lockedClient = await failFrom("127.0.0.9", { "x-forwarded-for": "203.0.113.7" });
  tally(lockedClient.status === 429);
  assert.equal(lockedClient.status, 429);
  assert.equal((await failFrom("127.0.0.9", { "x-forwarded-for": "203.0.113.8" })).status, 401, "another client behind the same proxy is not locked out");
});

test("lockout across two replicas sharing the real Redis", async () => {
  const prefix = `cf-hardening-${process.pid}-${Date.now()}:`;
  const yaml = `server:\n  authLockout: { maxFailures: 3, windowMs: 60000, lockoutMs: 30000, exemptLoopback: false }\n`;
  const env = { CLAWFLEET_REDIS_URL: "redis://127.0.0.1:6379", CLAWFLEET_REDIS_KEY_PREFIX: prefix };
  const first = await startPlatform(yaml, env);
  const second = await startPlatform(yaml, env);
  try {
    const address = "127.0.0.41";
    const fail = (platform: Platform) => request(platform.running.url, "/v1/models", { localAddress: address, headers: { authorization: "Bearer cfk_wrong_0000000000000000" } });
    assert.equal((await fail(first)).status, 401);
    assert.equal((await fail(second)).status, 401);
    assert.equal((await fail(first)).status, 401, "third failure (locks)");
    const onFirst = await fail(first);
    let onSecond = await fail(second);
    for (let attempt = 0; attempt < 20 && onSecond.status !== 429; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      onSecond = await fail(second);
    }
    tally(onFirst.status === 429 && onSecond.status === 429);
    assert.equal(onFirst.status, 429);
    assert.equal(onSecond.status, 429, "the other replica refuses the address too");
    assert.equal(codeOf(onSecond), "CF_AUTH_LOCKED_OUT");
  } finally {
    await first.stop();
    await second.stop();
    const keys = execFileSync("redis-cli", ["--scan", "--pattern", `${prefix}*`]).toString().split("\n").filter(Boolean);
    for (const key of keys) execFileSync("redis-cli", ["del", key]);
  }
});

// ---- route table ---------------------------------------------------------------------------------------------

test("route table: every route of the real platform refuses requests without credentials; an unauthenticated route is caught", async () => {
  const routes = routeTableOf(plain.running.app).routes;
  assert.ok(routes.some((route) => route.url.startsWith("/admin/v1/")) && routes.some((route) => route.url.startsWith("/t/")) && routes.some((route) => route.url === "/v1/models") && routes.some((route) => route.url === "/metrics"));
  assert.deepEqual(await unauthenticatedRoutes(plain.running.app, routeTableOf(plain.running.app)), []);

  const app = await buildServer({ logger: createLogger("silent"), bodyLimitBytes: 4096, requestTimeoutMs: 0, isReady: async () => true });
  app.get("/admin/v1/added-later", async () => ({ secret: "data" }));
  app.post("/login", { config: { clawfleetPublic: true } }, async () => ({ ok: true }));
  const problems = await unauthenticatedRoutes(app, routeTableOf(app));
  tally(problems.length === 2);
  assert.deepEqual(problems, ["GET /admin/v1/added-later answered 200 to a request without credentials", "HEAD /admin/v1/added-later answered 200 to a request without credentials"]);
  await app.close();
});

// ---- doctor ----------------------------------------------------------------------------------------------------

async function doctor(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ exitCode: number; report: DoctorReport }> {
  let text = "";
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString("utf8");
      done();
    },
  });
  const exitCode = await doctorCommand({ dataDir, json: true, url: "http://127.0.0.1:1" }, { PATH: process.env.PATH, ...env }, out);
  return { exitCode, report: JSON.parse(text) as DoctorReport };
}

function statusOfCheck(report: DoctorReport, id: string): string | undefined {
  return report.checks.find((check) => check.id === id)?.status;
}

test("doctor: passes on a good setup and detects each seeded misconfiguration, with a fix for each", async () => {
  const pair = makeCertificate({ days: 60 });
  const platform = await startPlatform("server:\n  port: 0\n");
  const dataDir = platform.dataDir;
  await platform.running.close();
  try {
    const files = writePair(mkdtempSync(path.join(tmpdir(), "cf-dr-")), pair);
    const goodEnv = { CLAWFLEET_RUNTIME_SANDBOX: "none", CLAWFLEET_TLS_CERT_FILE: files.certFile, CLAWFLEET_TLS_KEY_FILE: files.keyFile };
    const good = await doctor(dataDir, goodEnv);
    assert.equal(good.exitCode, 0, JSON.stringify(good.report.checks.filter((check) => check.status === "fail")));
    assert.equal(good.report.counts.fail, 0);
    assert.equal(statusOfCheck(good.report, "tls.certificate"), "pass");
    assert.equal(statusOfCheck(good.report, "permissions.admin-token"), "pass");
    assert.equal(statusOfCheck(good.report, "runtime.node"), "pass");
    assert.equal(statusOfCheck(good.report, "runtime.openclaw"), "pass");
    assert.equal(statusOfCheck(good.report, "sandbox.bwrap"), "warn", "runtime.sandbox none is a warning");

    const seeded: Array<{ name: string; env?: NodeJS.ProcessEnv; prepare?: () => void; restore?: () => void; check: string; detail: RegExp }> = [
      { name: "admin token readable by others", prepare: () => chmodSync(path.join(dataDir, "admin-token"), 0o644), restore: () => chmodSync(path.join(dataDir, "admin-token"), 0o600), check: "permissions.admin-token", detail: /mode 0644/ },
      { name: "world-readable data dir", prepare: () => chmodSync(dataDir, 0o755), restore: () => chmodSync(dataDir, 0o700), check: "permissions.data-dir", detail: /mode 0755/ },
      { name: "world-readable database", prepare: () => chmodSync(path.join(dataDir, "clawfleet.sqlite"), 0o666), restore: () => chmodSync(path.join(dataDir, "clawfleet.sqlite"), 0o600), check: "permissions.database", detail: /mode 0666/ },
      { name: "TLS key readable by others", prepare: () => chmodSync(files.keyFile, 0o644), restore: () => chmodSync(files.keyFile, 0o600), check: "tls.key-mode", detail: /mode 0644/ },
      { name: "expired certificate", prepare: () => writePair(path.dirname(files.certFile), makeCertificate({ startDate: "20200101000000Z", endDate: "20200102000000Z" })), restore: () => writePair(path.dirname(files.certFile), pair), check: "tls.certificate", detail: /expired on 2020-01-02/ },
      { name: "mismatched key", prepare: () => writeFileSync(files.keyFile, makeCertificate().key, { mode: 0o600 }), restore: () => writeFileSync(files.keyFile, pair.key, { mode: 0o600 }), check: "tls.certificate", detail: /does not match/ },
      { name: "bwrap missing from PATH", env: { CLAWFLEET_RUNTIME_SANDBOX: "auto", PATH: "/nonexistent" }, check: "sandbox.bwrap", detail: /bwrap is not on PATH/ },
      { name: "non-loopback bind without TLS or metrics token", env: { CLAWFLEET_HOST: "0.0.0.0", CLAWFLEET_TLS_CERT_FILE: "", CLAWFLEET_TLS_KEY_FILE: "" }, check: "bind.auth", detail: /not loopback/ },
    ];
    const oldOpenclaw = mkdtempSync(path.join(tmpdir(), "cf-oc-"));
    mkdirSync(path.join(oldOpenclaw, "node_modules", "openclaw"), { recursive: true });
    writeFileSync(path.join(oldOpenclaw, "node_modules", "openclaw", "package.json"), JSON.stringify({ name: "openclaw", version: "2026.3.8" }));
    seeded.push({ name: "OpenClaw with known advisories", env: { CLAWFLEET_RUNTIME_OPENCLAW_DIR: oldOpenclaw }, check: "runtime.openclaw", detail: /GHSA-5wcw-8jjv-m286.*GHSA-cf2p-f286-mphf/ });
    const oldNode = mkdtempSync(path.join(tmpdir(), "cf-node-"));
    mkdirSync(path.join(oldNode, "bin"));
    symlinkSync(process.execPath, path.join(oldNode, "bin", "node"));
    if (Number(process.versions.node.split(".")[0]) < 24) seeded.push({ name: "Node older than 24.16 for runtimes", env: { CLAWFLEET_RUNTIME_NODE_PATH: oldNode }, check: "runtime.node", detail: /needs >= 24\.16/ });

    for (const item of seeded) {
      item.prepare?.();
      try {
        const { exitCode, report } = await doctor(dataDir, { ...goodEnv, ...item.env });
        const found = report.checks.find((check) => check.id === item.check);
        tally(exitCode === 1 && found?.status === "fail");
        assert.equal(exitCode, 1, item.name);
        assert.equal(found?.status, "fail", `${item.name}: ${JSON.stringify(found)}`);
        assert.match(found?.detail ?? "", item.detail, item.name);
        assert.ok((found?.fix ?? "").length > 10, `${item.name}: a fix is given`);
      } finally {
        item.restore?.();
      }
    }
    const again = await doctor(dataDir, goodEnv);
    assert.equal(again.exitCode, 0, "restored setup passes again");
    rmSync(oldOpenclaw, { recursive: true, force: true });
    rmSync(oldNode, { recursive: true, force: true });
    rmSync(path.dirname(files.certFile), { recursive: true, force: true });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("doctor: runtime token parity asks the running server for token digests and compares each runtime's config", async () => {
  let text = "";
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString("utf8");
      done();
    },
  });
  await doctorCommand({ dataDir: plain.dataDir, json: true, url: plain.running.url, adminToken: plain.running.adminToken.token }, { PATH: process.env.PATH, CLAWFLEET_RUNTIME_SANDBOX: "none" }, out);
  const report = JSON.parse(text) as DoctorReport;
  assert.deepEqual(report.checks.find((check) => check.id === "runtime.token-parity"), { id: "runtime.token-parity", status: "pass", detail: "no runtime is running" });
  const wrongToken = await request(plain.running.url, "/admin/v1/diagnostics/runtime-tokens", { localAddress: "127.0.0.51", headers: { authorization: "Bearer not-the-admin-token-000000000000" } });
  tally(wrongToken.status === 401);
  assert.equal(wrongToken.status, 401);

  // Digest comparison against a runtime config laid out as the process driver writes it.
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-parity-"));
  try {
    const configPath = tenantLayout(dataDir, "acme").configPath;
    mkdirSync(path.dirname(configPath), { recursive: true });
    writeFileSync(configPath, JSON.stringify({ gateway: { auth: { mode: "token", token: "runtime-token-held" } } }));
    const held = { runtimes: [{ tenantId: "acme", tokenSha256: tokenDigest("runtime-token-held") }] };
    assert.equal(checkTokenParity(dataDir, held, null)[0]?.status, "pass");
    const drifted = checkTokenParity(dataDir, { runtimes: [{ tenantId: "acme", tokenSha256: tokenDigest("another-token") }] }, null)[0];
    tally(drifted?.status === "fail");
    assert.equal(drifted?.status, "fail");
    assert.match(drifted?.detail ?? "", /different gateway token/);
    assert.match(drifted?.fix ?? "", /clawfleet runtime stop acme/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
