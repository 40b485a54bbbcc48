/**
 * First schema: tenants and API keys. Written with Kysely's schema builder so every dialect shares it; only types
 * that mean the same on SQLite and PostgreSQL: `varchar(n)` (not `char(n)`, which PostgreSQL blank-pads), `bigint`
 * for epoch milliseconds, `text` for JSON.
 */
import { sql, type Kysely } from "kysely";

export async function up(database: Kysely<unknown>): Promise<void> {
  await database.schema
    .createTable("tenants")
    .addColumn("id", "varchar(63)", (column) => column.primaryKey())
    .addColumn("number", "integer", (column) => column.notNull().unique())
    .addColumn("profile", "varchar(63)", (column) => column.notNull())
    .addColumn("settings_json", "text", (column) => column.notNull().defaultTo("{}"))
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .execute();
  await database.schema
    .createTable("api_keys")
    .addColumn("id", "varchar(32)", (column) => column.primaryKey())
    .addColumn("tenant_id", "varchar(63)", (column) => column.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("kind", "varchar(16)", (column) => column.notNull())
    .addColumn("scopes_json", "text", (column) => column.notNull())
    .addColumn("hash", "varchar(64)", (column) => column.notNull())
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addColumn("expires_at_ms", "bigint")
    .addColumn("revoked_at_ms", "bigint")
    .addColumn("last_used_at_ms", "bigint")
    .execute();
  await database.schema.createIndex("api_keys_tenant").on("api_keys").column("tenant_id").execute();
  // Tenant numbers are never reused (a deleted tenant's uid must not be handed to a new tenant).
  await database.schema
    .createTable("counters")
    .addColumn("name", "varchar(63)", (column) => column.primaryKey())
    .addColumn("value", "bigint", (column) => column.notNull())
    .execute();
  await sql`insert into counters (name, value) values ('tenant_number', 0)`.execute(database);
}

export async function down(database: Kysely<unknown>): Promise<void> {
  await database.schema.dropTable("api_keys").execute();
  await database.schema.dropTable("tenants").execute();
  await database.schema.dropTable("counters").execute();
}
