/**
 * Request records: one row per model call with usage, cost (USD micros) and overhead. Durations are
 * `double precision` (8-byte float on both dialects; PostgreSQL's `real` is 4 bytes, ~6 significant digits).
 * Token counts and costs are `bigint`.
 */
import type { Kysely } from "kysely";

export async function up(database: Kysely<unknown>): Promise<void> {
  await database.schema
    .createTable("requests")
    .addColumn("id", "varchar(36)", (column) => column.primaryKey())
    .addColumn("request_id", "varchar(128)", (column) => column.notNull())
    .addColumn("tenant_id", "varchar(63)", (column) => column.notNull())
    .addColumn("key_id", "varchar(32)", (column) => column.notNull())
    .addColumn("api", "varchar(32)", (column) => column.notNull())
    .addColumn("requested_model", "varchar(255)", (column) => column.notNull())
    .addColumn("provider", "varchar(63)")
    .addColumn("model", "varchar(255)")
    .addColumn("status", "integer", (column) => column.notNull())
    .addColumn("stream", "integer", (column) => column.notNull())
    .addColumn("input_tokens", "bigint", (column) => column.notNull())
    .addColumn("output_tokens", "bigint", (column) => column.notNull())
    .addColumn("cache_read_tokens", "bigint", (column) => column.notNull())
    .addColumn("cache_write_tokens", "bigint", (column) => column.notNull())
    .addColumn("reasoning_tokens", "bigint", (column) => column.notNull())
    .addColumn("cost_usd_micros", "bigint", (column) => column.notNull())
    .addColumn("overhead_ms", "double precision", (column) => column.notNull())
    .addColumn("duration_ms", "double precision", (column) => column.notNull())
    .addColumn("attempts", "integer", (column) => column.notNull())
    .addColumn("error_code", "varchar(64)")
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .execute();
  await database.schema.createIndex("requests_tenant_time").on("requests").columns(["tenant_id", "created_at_ms"]).execute();
}

export async function down(database: Kysely<unknown>): Promise<void> {
  await database.schema.dropTable("requests").execute();
}
