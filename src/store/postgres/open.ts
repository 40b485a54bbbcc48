/**
 * The PostgreSQL dialect: Kysely's `PostgresDialect` over a `pg` pool, for several Clawfleet replicas sharing one
 * database. Migrations run at open, one replica at a time (a session advisory lock), optionally in a schema of
 * their own (tests, or several installations in one database).
 */
import { createHash } from "node:crypto";
import { CompiledQuery, Kysely, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import { ClawfleetError } from "../../contracts/errors.js";
import type { Store } from "../../contracts/store.js";
import { migrationProvider } from "../migrations/index.js";
import { createKyselyStore } from "../repositories.js";
import type { Database } from "../schema.js";

export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:port/database` or `postgresql://…`, libpq's URI form
   * (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS).
   */
  url: string;
  /**
   * Schema holding Clawfleet's tables, `^[a-z_][a-z0-9_]{0,62}$`; created when missing and made the only schema on
   * every pooled connection's `search_path`. Default: the connection's current schema (normally `public`).
   */
  schema?: string;
  /** Clock for record timestamps (epoch ms). */
  now?: () => number;
  /** Most connections the pool opens (default 10). */
  poolSize?: number;
  /** Called when an idle pooled connection fails (server restart…); the pool drops it and reconnects on demand. */
  onConnectionError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_POOL_SIZE = 10;
/** How long a new connection may take (ms) before the open, or a query waiting for a connection, fails. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a replica waits (ms) for another replica's migrations before giving up. */
const MIGRATION_LOCK_TIMEOUT_MS = 5 * 60_000;
/** `int8` (https://github.com/postgres/postgres/blob/master/src/include/catalog/pg_type.dat). */
const INT8_TYPE_ID = 20;

/**
 * `bigint` columns as JS numbers rather than `pg`'s default strings, for this pool only (not the global parser):
 * epoch ms, token counts and USD micros stay far below 2^53. `numeric` (e.g. `sum(bigint)`) stays a string.
 */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((typeId: number, format?: "text" | "binary") =>
    typeId === INT8_TYPE_ID && format !== "binary" ? (text: string) => Number(text) : pg.types.getTypeParser(typeId, format)) as typeof pg.types.getTypeParser,
};

/** A PostgreSQL URL taken apart, for messages that must never show the password. */
export interface PostgresTarget {
  host: string;
  port: string;
  database: string;
  user: string;
  /** Percent-decoded password, used only to scrub messages; empty when none. */
  password: string;
}

/**
 * Parses a `postgres://` / `postgresql://` URL.
 * @throws ClawfleetError CF_CONFIG_INVALID when it is not a URL or has another scheme (the URL is not echoed).
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ClawfleetError("CF_CONFIG_INVALID", "the database URL is not a valid URL (expected postgres://user:password@host:port/database)");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ClawfleetError("CF_CONFIG_INVALID", `unsupported database URL scheme "${parsed.protocol}" (expected postgres:// or postgresql://)`);
  }
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  return {
    host: parsed.hostname || parsed.searchParams.get("host") || "localhost",
    port: parsed.port || "5432",
    database: decode(parsed.pathname.replace(/^\//, "")) || decode(parsed.username) || "postgres",
    user: decode(parsed.username) || "(default user)",
    password: decode(parsed.password),
  };
}

function describeTarget(target: PostgresTarget): string {
  return `${target.host}:${target.port} (database "${target.database}", user "${target.user}")`;
}

/** The error's text; Node reports a refused dual-stack connect as an `AggregateError` with an empty message. */
function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") return error.errors.map(reasonOf).join("; ");
  if (error instanceof Error) return error.message || String((error as NodeJS.ErrnoException).code ?? error.name);
  return String(error);
}

function scrub(text: string, target: PostgresTarget): string {
  return target.password === "" ? text : text.split(target.password).join("***");
}

/** The advisory lock key (one `bigint`) for migrations of `schema`: the first 8 bytes of a SHA-256, signed. */
function migrationLockKey(schema: string): string {
  return createHash("sha256").update(`clawfleet:migrations:${schema}`).digest().readBigInt64BE(0).toString();
}

/**
 * Runs `work` while holding the session advisory lock of `schema`'s migrations, on a connection of its own (not from
 * the pool, so a pool of one connection cannot deadlock). Replicas opening at once wait here; the one holding the
 * lock creates the schema and migrates, the others then find nothing to do. The lock dies with its session, so a
 * replica that crashes mid-migration does not block the others.
 * https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
async function withMigrationLock(url: string, target: PostgresTarget, schema: string | undefined, work: (schema: string) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on("error", () => {
    // A failure of this short-lived session surfaces as the rejection of its pending query.
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ClawfleetError("CF_INTERNAL", `cannot connect to PostgreSQL at ${describeTarget(target)}: ${scrub(reasonOf(error), target)}`, {
      details: { host: target.host, port: target.port, database: target.database },
      cause: error,
    });
  }
  let lockKey: string | undefined;
  try {
    const resolved = schema ?? (await client.query<{ schema: string | null }>("select current_schema() as schema")).rows[0]?.schema;
    if (!resolved) throw new ClawfleetError("CF_CONFIG_INVALID", "no schema is on the database user's search_path; set one with ?schema=name");
    await client.query(`set lock_timeout = ${MIGRATION_LOCK_TIMEOUT_MS}`);
    await client.query("select pg_advisory_lock($1::bigint)", [migrationLockKey(resolved)]);
    lockKey = migrationLockKey(resolved);
    await client.query("set lock_timeout = 0");
    const exists = await client.query("select 1 from pg_namespace where nspname = $1", [resolved]);
    // Checked first: `create schema if not exists` needs the CREATE privilege even when the schema exists.
    if (exists.rowCount === 0) await client.query(`create schema ${pg.escapeIdentifier(resolved)}`);
    await work(resolved);
  } catch (error) {
    if (error instanceof ClawfleetError) throw error;
    throw new ClawfleetError("CF_INTERNAL", `preparing PostgreSQL at ${describeTarget(target)} failed: ${scrub(reasonOf(error), target)}`, { cause: error });
  } finally {
    if (lockKey !== undefined) await client.query("select pg_advisory_unlock($1::bigint)", [lockKey]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/**
 * Connects to PostgreSQL, creates the schema if asked and missing, and migrates it to the latest version
 * (serialized across replicas). Timestamps are `bigint` epoch ms, JSON is `text`, as on SQLite.
 * @throws ClawfleetError CF_CONFIG_INVALID for a malformed URL or schema name; CF_INTERNAL when the server is
 *   unreachable, refuses the login, or a migration fails (messages never contain the password).
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const target = parsePostgresUrl(options.url);
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new ClawfleetError("CF_CONFIG_INVALID", `invalid PostgreSQL schema name "${options.schema}" (expected ${SCHEMA_NAME.source})`);
  }
  const schema = options.schema;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: typeParsers,
  });
  pool.on("error", (error) => options.onConnectionError?.(error));
  const database = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      // `set` rather than the `options=-c search_path=…` startup parameter, which a URL's own `options` would replace.
      onCreateConnection: schema === undefined ? undefined : async (connection) => {
        await connection.executeQuery(CompiledQuery.raw(`set search_path to ${pg.escapeIdentifier(schema)}`));
      },
    }),
  });
  try {
    await withMigrationLock(options.url, target, schema, async (resolvedSchema) => {
      // `migrationTableSchema` pins Kysely's bookkeeping tables to this schema: without it Kysely would take a
      // `kysely_migration` table in any other schema of the database for its own.
      const migrator = new Migrator({ db: database, provider: migrationProvider, migrationTableSchema: resolvedSchema });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
        throw new ClawfleetError("CF_INTERNAL", `database migration ${failed} failed: ${scrub(reasonOf(error), target)}`, { cause: error });
      }
    });
  } catch (error) {
    await database.destroy().catch(() => undefined);
    throw error;
  }
  return createKyselyStore(database, options.now);
}
