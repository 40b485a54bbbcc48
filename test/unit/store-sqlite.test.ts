/**
 * The Store conformance suite on SQLite: a private in-memory database, and a file in a temporary directory; plus
 * the SQLite-only request writer's interplay with transactions on its shared connection.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import type { RequestRecord } from "../../src/contracts/store.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import { SqliteRequestRepository } from "../../src/store/sqlite/request-writer.js";
import { runStoreConformance } from "../conformance/store.js";
import { runIdentityStoreConformance } from "../conformance/identity-store.js";

runStoreConformance("SQLite in memory", async ({ now }) => {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:", now });
  return { store, cleanup: () => store.close() };
});

runIdentityStoreConformance("SQLite in memory", async ({ now }) => {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:", now });
  return { store, cleanup: () => store.close() };
});

runStoreConformance("SQLite file", async ({ now }) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "clawfleet-store-"));
  const store = await openSqliteStore({ dataDir, now });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

test("SQLite request writes wait for an open transaction on the shared connection instead of joining its rollback", async () => {
  const connection = new BetterSqlite3(":memory:");
  connection.exec("create table requests (id text, request_id text, tenant_id text, key_id text, api text, requested_model text, provider text, model text, status integer, stream integer, input_tokens integer, output_tokens integer, cache_read_tokens integer, cache_write_tokens integer, reasoning_tokens integer, cost_usd_micros integer, overhead_ms real, duration_ms real, attempts integer, error_code text, created_at_ms integer)");
  const readsStore = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  const writer = new SqliteRequestRepository(connection, readsStore.requests);
  const record: RequestRecord = { id: "r1", requestId: "req", tenantId: "acme", keyId: "k", api: "openai-chat", requestedModel: "m", provider: null, model: null, status: 200, stream: false, inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsdMicros: 3, overheadMs: 0.5, durationMs: 9.5, attempts: 1, errorCode: null, createdAtMs: 1 };
  connection.exec("begin");
  const written = writer.insertMany([record]);
  // Another task's transaction, still open while the write is requested, fails and rolls back.
  await Promise.resolve();
  connection.exec("rollback");
  await written;
  assert.deepEqual(connection.prepare("select id from requests").all(), [{ id: "r1" }]);
  connection.close();
  await readsStore.close();
});
