import assert from "node:assert/strict";
import { test } from "node:test";
import { authenticateKey, credentialFromHeaders } from "../../src/auth/authenticate.js";
import { ClawfleetError, type ErrorCode } from "../../src/contracts/errors.js";
import { SnapshotPublisher } from "../../src/control/snapshot.js";
import { TenantService } from "../../src/control/tenants.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import { injectConnectToken } from "../../src/ingress/websocket-proxy.js";
import { runtimeRequestHeaders } from "../../src/ingress/headers.js";

async function setup() {
  let nowMs = 1_700_000_000_000;
  const now = () => nowMs;
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:", now });
  const snapshots = new SnapshotPublisher(store, now);
  const tenants = new TenantService(store, snapshots, now);
  return { store, snapshots, tenants, now, advance: (ms: number) => (nowMs += ms) };
}

function expectCode(code: ErrorCode) {
  return (error: unknown) => error instanceof ClawfleetError && error.code === code;
}

test("a tenant key authenticates for its scopes; revocation takes effect in the next snapshot", async () => {
  const { snapshots, tenants, now } = await setup();
  const created = await tenants.createTenant({ id: "acme" });
  const record = authenticateKey(snapshots.current(), created.key, "chat", now());
  assert.equal(record.tenantId, "acme");
  assert.equal(record.id, created.keyId);
  await tenants.revokeKey("acme", created.keyId);
  assert.throws(() => authenticateKey(snapshots.current(), created.key, "chat", now()), expectCode("CF_AUTH_INVALID_TOKEN"));
  await assert.rejects(tenants.revokeKey("acme", created.keyId), expectCode("CF_KEY_NOT_FOUND"));
});

test("scopes, expiry, missing and forged keys", async () => {
  const { snapshots, tenants, now, advance } = await setup();
  await tenants.createTenant({ id: "acme" });
  const modelOnly = await tenants.createKey("acme", ["model"], now() + 60_000);
  assert.throws(() => authenticateKey(snapshots.current(), modelOnly.key, "chat", now()), expectCode("CF_FORBIDDEN_SCOPE"));
  assert.equal(authenticateKey(snapshots.current(), modelOnly.key, "model", now()).id, modelOnly.summary.id);
  advance(60_001);
  assert.throws(() => authenticateKey(snapshots.current(), modelOnly.key, "model", now()), expectCode("CF_AUTH_KEY_EXPIRED"));
  assert.throws(() => authenticateKey(snapshots.current(), null, "chat", now()), expectCode("CF_AUTH_MISSING"));
  const forged = `cfk_${modelOnly.summary.id}_${"A".repeat(43)}`;
  assert.throws(() => authenticateKey(snapshots.current(), forged, "model", now()), expectCode("CF_AUTH_INVALID_TOKEN"));
  await assert.rejects(tenants.createKey("acme", ["chat"], now() - 1), expectCode("CF_VALIDATION_FAILED"));
});

test("runtime virtual keys rotate: the previous one stops working", async () => {
  const { snapshots, tenants, now } = await setup();
  await tenants.createTenant({ id: "acme" });
  const first = await tenants.rotateRuntimeKey("acme");
  assert.equal(authenticateKey(snapshots.current(), first, "model", now()).kind, "runtime");
  const second = await tenants.rotateRuntimeKey("acme");
  assert.throws(() => authenticateKey(snapshots.current(), first, "model", now()), expectCode("CF_AUTH_INVALID_TOKEN"));
  assert.equal(authenticateKey(snapshots.current(), second, "model", now()).tenantId, "acme");
});

test("tenant ids are validated and unique; numbers are never reused", async () => {
  const { tenants } = await setup();
  await assert.rejects(tenants.createTenant({ id: "Acme" }), expectCode("CF_VALIDATION_FAILED"));
  await assert.rejects(tenants.createTenant({ id: "../etc" }), expectCode("CF_VALIDATION_FAILED"));
  const first = await tenants.createTenant({ id: "acme" });
  await assert.rejects(tenants.createTenant({ id: "acme" }), expectCode("CF_TENANT_EXISTS"));
  await tenants.deleteTenant("acme");
  const again = await tenants.createTenant({ id: "acme" });
  assert.ok(again.tenant.number > first.tenant.number, "a re-created tenant gets a new number (and so a new uid)");
});

test("credentials: Bearer (case-insensitive scheme); x-api-key only where allowed", () => {
  assert.equal(credentialFromHeaders({ authorization: "Bearer abc" }, { allowApiKeyHeader: false }), "abc");
  assert.equal(credentialFromHeaders({ authorization: "bearer abc" }, { allowApiKeyHeader: false }), "abc");
  assert.equal(credentialFromHeaders({ authorization: "Basic abc" }, { allowApiKeyHeader: false }), null);
  assert.equal(credentialFromHeaders({ "x-api-key": "abc" }, { allowApiKeyHeader: false }), null);
  assert.equal(credentialFromHeaders({ "x-api-key": "abc" }, { allowApiKeyHeader: true }), "abc");
});

test("the ingress replaces the caller's credentials and identity headers with the runtime token", () => {
  const headers = runtimeRequestHeaders(
    {
      authorization: "Bearer cfk_caller",
      "x-api-key": "k",
      cookie: "a=b",
      "x-forwarded-for": "1.2.3.4",
      "x-openclaw-scopes": "operator.admin",
      "x-amzn-oidc-identity": "admin",
      host: "evil",
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    "runtime-token",
    "req-1",
  );
  assert.deepEqual(headers, { "content-type": "application/json", accept: "text/event-stream", authorization: "Bearer runtime-token", "x-request-id": "req-1" });
});

test("a WebSocket connect frame gets the runtime token whatever the caller sent; other frames pass untouched", () => {
  const connect = Buffer.from(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { minProtocol: 4, auth: { token: "guess" } } }));
  const rewritten = JSON.parse(String(injectConnectToken(connect, false, "secret"))) as { params: { auth: unknown; minProtocol: number } };
  assert.deepEqual(rewritten.params.auth, { token: "secret" });
  assert.equal(rewritten.params.minProtocol, 4);
  const other = Buffer.from(JSON.stringify({ type: "req", id: "h1", method: "health", params: {} }));
  assert.equal(injectConnectToken(other, false, "secret"), other);
  const binary = Buffer.from([1, 2, 3]);
  assert.equal(injectConnectToken(binary, true, "secret"), binary);
  const notJson = Buffer.from('"connect" but not json {');
  assert.equal(injectConnectToken(notJson, false, "secret"), notJson);
});
