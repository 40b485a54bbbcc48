import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import type { RequestRecord } from "../../src/contracts/store.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

function record(overrides: Partial<RequestRecord>): RequestRecord {
  return {
    id: randomUUID(),
    requestId: "req-1",
    tenantId: "acme",
    keyId: "0123456789ab",
    api: "openai-chat",
    requestedModel: "default",
    provider: "openai",
    model: "gpt-4o-mini",
    status: 200,
    stream: true,
    inputTokens: 1200,
    outputTokens: 80,
    cacheReadTokens: 1000,
    cacheWriteTokens: 0,
    reasoningTokens: 3,
    costUsdMicros: 153,
    overheadMs: 0.412,
    durationMs: 812.5,
    attempts: 2,
    errorCode: null,
    upstreamRequestId: null,
    createdAtMs: 1_700_000_000_000,
    ...overrides,
  };
}

test("request records round-trip through SQLite (prepared-statement writes, Kysely reads), newest first per tenant", async () => {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  const first = record({ createdAtMs: 1_700_000_000_000 });
  const second = record({ requestId: "req-1", createdAtMs: 1_700_000_000_500, stream: false, errorCode: "CF_UPSTREAM_ERROR", provider: null, model: null, status: 502 });
  const other = record({ tenantId: "globex", createdAtMs: 1_700_000_001_000 });
  await store.requests.insertMany([first, second, other]);
  await store.requests.insertMany([]);
  const listed = await store.requests.list({ tenantId: "acme", limit: 10 });
  assert.deepEqual(listed, [second, first], "a reused request id does not collide; every field survives");
  assert.deepEqual(await store.requests.list({ limit: 1 }), [other]);
  await store.close();
});
