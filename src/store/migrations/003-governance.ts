/**
 * Governance: stored permission profiles (current version + every version ever stored) and the append-only
 * audit trail. Also moves tenants still naming the old placeholder profile `standard` (never defined, so it
 * already resolved to the fail-closed `readonly-agent` preset) to `readonly-agent` explicitly.
 *
 * `audit_events.id` is an increasing integer assigned by the database (SQLite `INTEGER PRIMARY KEY
 * AUTOINCREMENT`, PostgreSQL `bigint generated always as identity`): the pagination cursor. A trigger on each
 * dialect refuses UPDATE and DELETE on it.
 */
import { PostgresAdapter, sql, type Kysely } from "kysely";

/** The profile tenants named `standard` get (the built-in `readonly-agent` preset, the default for new tenants). */
const MIGRATED_PROFILE = "readonly-agent";

function isPostgres(database: Kysely<unknown>): boolean {
  return database.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(database: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(database);
  await database.schema
    .createTable("profiles")
    .addColumn("name", "varchar(63)", (column) => column.primaryKey())
    .addColumn("version", "integer", (column) => column.notNull())
    .addColumn("body_json", "text", (column) => column.notNull())
    .addColumn("updated_by", "varchar(255)")
    .addColumn("updated_at_ms", "bigint", (column) => column.notNull())
    .execute();
  await database.schema
    .createTable("profile_versions")
    .addColumn("name", "varchar(63)", (column) => column.notNull())
    .addColumn("version", "integer", (column) => column.notNull())
    .addColumn("body_json", "text", (column) => column.notNull())
    .addColumn("updated_by", "varchar(255)")
    .addColumn("updated_at_ms", "bigint", (column) => column.notNull())
    .addPrimaryKeyConstraint("profile_versions_pk", ["name", "version"])
    .execute();
  await database.schema
    .createTable("audit_events")
    .addColumn("id", postgres ? "bigint" : "integer", (column) => (postgres ? column.primaryKey().generatedAlwaysAsIdentity() : column.primaryKey().autoIncrement()))
    .addColumn("type", "varchar(32)", (column) => column.notNull())
    .addColumn("tenant_id", "varchar(63)")
    .addColumn("actor", "varchar(255)", (column) => column.notNull())
    .addColumn("request_id", "varchar(128)")
    .addColumn("at_ms", "bigint", (column) => column.notNull())
    .addColumn("details_json", "text", (column) => column.notNull())
    .execute();
  await database.schema.createIndex("audit_events_tenant").on("audit_events").columns(["tenant_id", "id"]).execute();
  await database.schema.createIndex("audit_events_type").on("audit_events").columns(["type", "id"]).execute();
  await database.schema.createIndex("audit_events_request").on("audit_events").column("request_id").execute();
  await database.schema.createIndex("audit_events_at").on("audit_events").column("at_ms").execute();
  if (postgres) {
    await sql`create or replace function clawfleet_audit_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_events is append-only'; end $$`.execute(database);
    await sql`create trigger audit_events_append_only before update or delete on audit_events
      for each row execute function clawfleet_audit_append_only()`.execute(database);
  } else {
    await sql`create trigger audit_events_no_update before update on audit_events begin select raise(abort, 'audit_events is append-only'); end`.execute(database);
    await sql`create trigger audit_events_no_delete before delete on audit_events begin select raise(abort, 'audit_events is append-only'); end`.execute(database);
  }
  await sql`update tenants set profile = ${MIGRATED_PROFILE} where profile = 'standard'`.execute(database);
}

export async function down(database: Kysely<unknown>): Promise<void> {
  await database.schema.dropTable("audit_events").execute();
  await database.schema.dropTable("profile_versions").execute();
  await database.schema.dropTable("profiles").execute();
  if (isPostgres(database)) await sql`drop function if exists clawfleet_audit_append_only()`.execute(database);
}
