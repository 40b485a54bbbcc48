/**
 * Identity: users (by issuer + subject), tenant memberships with roles, server-side browser sessions (only the
 * SHA-256 of the session id is stored, so logout revokes), pending logins (PKCE verifier, nonce) and chat-channel
 * identities (channel + channel user id → tenant). Memberships and channel identities go with their tenant.
 */
import type { Kysely } from "kysely";

export async function up(database: Kysely<unknown>): Promise<void> {
  await database.schema
    .createTable("users")
    .addColumn("id", "varchar(36)", (column) => column.primaryKey())
    .addColumn("issuer", "varchar(512)", (column) => column.notNull())
    .addColumn("subject", "varchar(255)", (column) => column.notNull())
    .addColumn("email", "varchar(320)")
    .addColumn("display_name", "varchar(255)")
    .addColumn("platform_roles_json", "text", (column) => column.notNull().defaultTo("[]"))
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addColumn("last_login_at_ms", "bigint")
    .addUniqueConstraint("users_issuer_subject", ["issuer", "subject"])
    .execute();
  await database.schema
    .createTable("memberships")
    .addColumn("user_id", "varchar(36)", (column) => column.notNull().references("users.id").onDelete("cascade"))
    .addColumn("tenant_id", "varchar(63)", (column) => column.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("role", "varchar(16)", (column) => column.notNull())
    .addColumn("source", "varchar(16)", (column) => column.notNull())
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addPrimaryKeyConstraint("memberships_pk", ["user_id", "tenant_id"])
    .execute();
  await database.schema.createIndex("memberships_tenant").on("memberships").column("tenant_id").execute();
  await database.schema
    .createTable("sessions")
    .addColumn("id_hash", "varchar(64)", (column) => column.primaryKey())
    .addColumn("user_id", "varchar(36)", (column) => column.notNull().references("users.id").onDelete("cascade"))
    .addColumn("csrf_token", "varchar(64)", (column) => column.notNull())
    .addColumn("claim_platform_roles_json", "text", (column) => column.notNull().defaultTo("[]"))
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addColumn("expires_at_ms", "bigint", (column) => column.notNull())
    .addColumn("revoked_at_ms", "bigint")
    .execute();
  await database.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();
  await database.schema
    .createTable("login_attempts")
    .addColumn("state_hash", "varchar(64)", (column) => column.primaryKey())
    .addColumn("code_verifier", "varchar(128)", (column) => column.notNull())
    .addColumn("nonce", "varchar(128)", (column) => column.notNull())
    .addColumn("return_to", "varchar(2048)", (column) => column.notNull())
    .addColumn("expires_at_ms", "bigint", (column) => column.notNull())
    .execute();
  await database.schema
    .createTable("channel_identities")
    .addColumn("channel", "varchar(32)", (column) => column.notNull())
    .addColumn("channel_user_id", "varchar(255)", (column) => column.notNull())
    .addColumn("tenant_id", "varchar(63)", (column) => column.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addPrimaryKeyConstraint("channel_identities_pk", ["channel", "channel_user_id"])
    .execute();
}

export async function down(database: Kysely<unknown>): Promise<void> {
  for (const table of ["channel_identities", "login_attempts", "sessions", "memberships", "users"]) await database.schema.dropTable(table).execute();
}
