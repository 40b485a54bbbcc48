/**
 * Chooses the store's dialect: PostgreSQL when a `postgres://` / `postgresql://` URL is configured
 * (`CLAWFLEET_DATABASE_URL`, shared by several replicas), otherwise the embedded SQLite file in the data directory.
 */
import type { Store } from "../contracts/store.js";
import { openPostgresStore, parsePostgresUrl } from "./postgres/open.js";
import { openSqliteStore } from "./sqlite/open.js";

export interface OpenStoreOptions {
  /**
   * PostgreSQL URL; absent or empty means SQLite. A `schema` query parameter (`…/clawfleet?schema=fleet_a`) puts
   * Clawfleet's tables in that schema instead of the user's current one.
   */
  databaseUrl?: string;
  /** Directory of the SQLite file (`clawfleet.sqlite`), used when there is no database URL. */
  dataDir: string;
  /** Clock for record timestamps (epoch ms). */
  now?: () => number;
}

/**
 * Opens and migrates the configured store.
 * @throws ClawfleetError CF_CONFIG_INVALID for a malformed URL, another scheme or an invalid schema name;
 *   CF_INTERNAL when PostgreSQL is unreachable or refuses the login (the message names host, port, database and
 *   user, never the password) or a migration fails.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl === undefined || options.databaseUrl === "") return openSqliteStore({ dataDir: options.dataDir, now: options.now });
  parsePostgresUrl(options.databaseUrl);
  const url = new URL(options.databaseUrl);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return openPostgresStore({ url: schema === undefined ? options.databaseUrl : url.toString(), schema, now: options.now });
}
