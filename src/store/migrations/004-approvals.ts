/**
 * The approval inbox: permission requests, grants and the notification outbox. Deadlines, grants and delivery
 * attempts are rows, not timers, so they survive restarts and are shared by replicas.
 *
 * `pending_key` is set only while a request is pending (the call's identity); its unique index makes
 * "find or create the pending request for this call" safe across replicas (NULLs never collide on SQLite or
 * PostgreSQL).
 */
import type { Kysely } from "kysely";

export async function up(database: Kysely<unknown>): Promise<void> {
  await database.schema
    .createTable("permission_requests")
    .addColumn("id", "varchar(40)", (column) => column.primaryKey())
    .addColumn("tenant_id", "varchar(63)", (column) => column.notNull())
    .addColumn("session_id", "varchar(512)", (column) => column.notNull())
    .addColumn("request_id", "varchar(128)", (column) => column.notNull())
    .addColumn("source", "varchar(16)", (column) => column.notNull())
    .addColumn("tool_call_id", "varchar(255)")
    .addColumn("tool", "varchar(128)", (column) => column.notNull())
    .addColumn("arguments_json", "text", (column) => column.notNull())
    .addColumn("arguments_hash", "varchar(64)", (column) => column.notNull())
    .addColumn("risk", "varchar(16)", (column) => column.notNull())
    .addColumn("reason", "text", (column) => column.notNull())
    .addColumn("status", "varchar(16)", (column) => column.notNull())
    .addColumn("pending_key", "varchar(1024)")
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addColumn("deadline_at_ms", "bigint", (column) => column.notNull())
    .addColumn("decided_at_ms", "bigint")
    .addColumn("decided_by", "varchar(255)")
    .addColumn("decision", "varchar(32)")
    .addColumn("decision_reason", "text")
    .addColumn("runtime_approval_id", "varchar(255)")
    .addColumn("runtime_instance_id", "varchar(64)")
    .addColumn("runtime_resolved_at_ms", "bigint")
    .execute();
  await database.schema.createIndex("permission_requests_pending_key").on("permission_requests").column("pending_key").unique().execute();
  await database.schema.createIndex("permission_requests_status_deadline").on("permission_requests").columns(["status", "deadline_at_ms"]).execute();
  await database.schema.createIndex("permission_requests_call").on("permission_requests").columns(["tenant_id", "tool", "arguments_hash"]).execute();
  await database.schema.createIndex("permission_requests_runtime").on("permission_requests").columns(["tenant_id", "runtime_approval_id"]).execute();

  await database.schema
    .createTable("approval_grants")
    .addColumn("id", "varchar(40)", (column) => column.primaryKey())
    .addColumn("tenant_id", "varchar(63)", (column) => column.notNull())
    .addColumn("tool", "varchar(128)", (column) => column.notNull())
    .addColumn("arguments_hash", "varchar(64)")
    .addColumn("arguments_pattern", "text")
    .addColumn("session_id", "varchar(512)")
    .addColumn("expires_at_ms", "bigint")
    .addColumn("max_uses", "integer")
    .addColumn("uses", "integer", (column) => column.notNull().defaultTo(0))
    .addColumn("created_by", "varchar(255)", (column) => column.notNull())
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addColumn("permission_request_id", "varchar(40)")
    .addColumn("revoked_at_ms", "bigint")
    .execute();
  await database.schema.createIndex("approval_grants_tenant_tool").on("approval_grants").columns(["tenant_id", "tool"]).execute();

  await database.schema
    .createTable("approval_notifications")
    .addColumn("id", "varchar(40)", (column) => column.primaryKey())
    .addColumn("permission_request_id", "varchar(40)", (column) => column.notNull())
    .addColumn("channel", "varchar(63)", (column) => column.notNull())
    .addColumn("attempts", "integer", (column) => column.notNull().defaultTo(0))
    .addColumn("next_attempt_at_ms", "bigint")
    .addColumn("last_error", "text")
    .addColumn("delivered_at_ms", "bigint")
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .execute();
  await database.schema.createIndex("approval_notifications_due").on("approval_notifications").column("next_attempt_at_ms").execute();
  await database.schema.createIndex("approval_notifications_request").on("approval_notifications").column("permission_request_id").execute();
}

export async function down(database: Kysely<unknown>): Promise<void> {
  await database.schema.dropTable("approval_notifications").execute();
  await database.schema.dropTable("approval_grants").execute();
  await database.schema.dropTable("permission_requests").execute();
}
