/**
 * Request records keep the provider's own id for the call (`upstream_request_id`: OpenAI's `x-request-id`,
 * Anthropic's `request-id`, Bedrock's request id; null when the provider sent none, and for records written before
 * this migration), so a call can be looked up with the provider's support.
 */
import type { Kysely } from "kysely";

export async function up(database: Kysely<unknown>): Promise<void> {
  await database.schema.alterTable("requests").addColumn("upstream_request_id", "varchar(255)").execute();
}

export async function down(database: Kysely<unknown>): Promise<void> {
  await database.schema.alterTable("requests").dropColumn("upstream_request_id").execute();
}
