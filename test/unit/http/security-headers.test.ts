import { test } from "node:test";
import assert from "node:assert/strict";
import { buildServer } from "../../../src/http/server.js";
import { createLogger } from "../../../src/observability/logger.js";
import { CLAWFLEET_CONTENT_SECURITY_POLICY, isProxiedPath, ownResponseSecurityHeaders } from "../../../src/http/security-headers.js";
import { startTestPlatform } from "../../support/platform.js";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";

async function server(options: { tls?: boolean; metricsToken?: string } = {}) {
  const app = await buildServer({ logger: createLogger("silent"), bodyLimitBytes: 1024 * 1024, requestTimeoutMs: 0, isReady: async () => true, ...options });
  app.get("/t/:tenant/ui", async (_request, reply) => reply.header("content-security-policy", "default-src 'self'").type("text/html").send("<html></html>"));
  app.get("/metrics", async () => "metrics 1\n");
  return app;
}

function assertCommonHeaders(headers: Record<string, unknown>): void {
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["cross-origin-resource-policy"], "same-origin");
}

test("Clawfleet's own responses, errors and 404s carry every security header and a restrictive CSP", async () => {
  const app = await server();
  for (const url of ["/healthz", "/readyz", "/no/such/route", "/v1/unknown"]) {
    const response = await app.inject({ method: "GET", url });
    assertCommonHeaders(response.headers);
    assert.equal(response.headers["content-security-policy"], CLAWFLEET_CONTENT_SECURITY_POLICY, url);
    assert.equal(response.headers["strict-transport-security"], undefined, "no HSTS over plain HTTP");
  }
  await app.close();
});

test("ingress responses keep the runtime's own CSP", async () => {
  const app = await server();
  const response = await app.inject({ method: "GET", url: "/t/acme/ui" });
  assertCommonHeaders(response.headers);
  assert.equal(response.headers["content-security-policy"], "default-src 'self'");
  assert.equal(isProxiedPath("/t/acme"), true);
  assert.equal(isProxiedPath("/tenants"), false);
  await app.close();
});

test("HSTS only under TLS", async () => {
  const app = await server({ tls: true });
  const response = await app.inject({ method: "GET", url: "/healthz" });
  assert.equal(response.headers["strict-transport-security"], "max-age=31536000");
  await app.close();
});

test("the list for hijacked answers holds exactly what the hook puts on an own response, with and without TLS", async () => {
  for (const tls of [false, true]) {
    const app = await server({ tls });
    const response = await app.inject({ method: "GET", url: "/healthz" });
    const hooked = Object.fromEntries(Object.entries(response.headers).filter(([name]) => Object.keys(Object.fromEntries(ownResponseSecurityHeaders({ tls: true }))).includes(name)));
    assert.deepEqual(Object.fromEntries(ownResponseSecurityHeaders({ tls })), hooked, `tls ${tls}`);
    await app.close();
  }
});

test("/metrics requires the metrics token when one is configured", async () => {
  const app = await server({ metricsToken: METRICS_TOKEN });
  assert.equal((await app.inject({ method: "GET", url: "/metrics" })).statusCode, 401);
  assert.equal((await app.inject({ method: "GET", url: "/metrics?x=1", headers: { authorization: "Bearer wrong" } })).statusCode, 401);
  const allowed = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(allowed.statusCode, 200);
  assert.equal((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200, "health stays open");
  await app.close();
});

test("over a real socket: the platform's /metrics honours CLAWFLEET_METRICS_TOKEN and admin responses carry the headers", async () => {
  const platform = await startTestPlatform({ CLAWFLEET_METRICS_TOKEN: METRICS_TOKEN });
  try {
    assert.equal((await fetch(`${platform.url}/metrics`)).status, 401);
    const allowed = await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(allowed.status, 200);
    const admin = await fetch(`${platform.url}/admin/v1/tenants`, { headers: { authorization: `Bearer ${platform.adminToken.token}` } });
    assert.equal(admin.status, 200);
    assert.equal(admin.headers.get("x-frame-options"), "DENY");
    assert.equal(admin.headers.get("content-security-policy"), CLAWFLEET_CONTENT_SECURITY_POLICY);
  } finally {
    await platform.stop();
  }
});
