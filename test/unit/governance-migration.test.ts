/** Migration 003 on a database that already holds tenants: the placeholder profile `standard` becomes `readonly-agent`. */
import assert from "node:assert/strict";
import { test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, sql } from "kysely";
import { migrationProvider } from "../../src/store/migrations/index.js";

test("migration 003 moves tenants named 'standard' to readonly-agent and leaves other profiles alone", async () => {
  const database = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(":memory:") }) });
  try {
    const migrator = new Migrator({ db: database, provider: migrationProvider });
    assert.equal((await migrator.migrateTo("002-requests")).error, undefined);
    await sql`insert into tenants (id, number, profile, settings_json, created_at_ms) values ('old', 1, 'standard', '{}', 1), ('custom', 2, 'finance-agent', '{}', 1)`.execute(database);
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const rows = await sql<{ id: string; profile: string }>`select id, profile from tenants order by id`.execute(database);
    assert.deepEqual(rows.rows, [
      { id: "custom", profile: "finance-agent" },
      { id: "old", profile: "readonly-agent" },
    ]);
  } finally {
    await database.destroy();
  }
});
