/**
 * The embedded SQLite dialect: one file `<dataDir>/clawfleet.sqlite` through better-sqlite3, WAL journal,
 * foreign keys on, migrations applied at open.
 */
import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase } from "kysely";
import { ClawfleetError } from "../../contracts/errors.js";
import type { Store } from "../../contracts/store.js";
import { migrationProvider } from "../migrations/index.js";
import { createKyselyStore } from "../repositories.js";
import { SqliteAuditRepository, INSERT_AUDIT_SQL } from "./audit-writer.js";
import { INSERT_REQUEST_SQL, SqliteRequestRepository } from "./request-writer.js";
import { SqliteWriterThread } from "./writer-thread.js";
import type { Database } from "../schema.js";

/**
 * The connection as Kysely sees it, with its transactions begun `IMMEDIATE` (write lock taken at `begin`, waiting
 * up to busy_timeout for it). The writer thread (writer-thread.ts) writes the same file over a second
 * connection; a deferred transaction that read before one of its commits could not upgrade to a write
 * (SQLITE_BUSY_SNAPSHOT, not retried). https://www.sqlite.org/lang_transaction.html
 */
export function immediateTransactions(connection: BetterSqlite3.Database): SqliteDatabase {
  return {
    close: () => connection.close(),
    prepare: (sql: string) => connection.prepare(sql === "begin" ? "begin immediate" : sql),
  };
}

/**
 * Opens (creating if needed) the SQLite database and migrates it to the latest schema.
 * `fileName` `:memory:` gives a private in-memory database (tests).
 * @throws ClawfleetError CF_INTERNAL when a migration fails.
 */
export async function openSqliteStore(options: { dataDir: string; fileName?: string; now?: () => number }): Promise<Store> {
  const fileName = options.fileName ?? "clawfleet.sqlite";
  const filePath = fileName === ":memory:" ? fileName : path.join(options.dataDir, fileName);
  if (fileName !== ":memory:") mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const connection = new BetterSqlite3(filePath);
  // Owner only (SQLite gives the -wal and -shm files the database file's mode), whatever the umask was.
  if (fileName !== ":memory:") for (const suffix of ["", "-wal", "-shm"]) {
    try {
      chmodSync(`${filePath}${suffix}`, 0o600);
    } catch {
      // -wal / -shm do not exist yet
    }
  }
  connection.pragma("journal_mode = WAL");
  // WAL + NORMAL: no fsync per commit (only at checkpoints); the database cannot corrupt, a power loss may drop
  // the last commits. Commits then cost microseconds instead of an fsync on the event loop (better-sqlite3 is
  // synchronous). https://www.sqlite.org/pragma.html#pragma_synchronous
  connection.pragma("synchronous = NORMAL");
  connection.pragma("foreign_keys = ON");
  connection.pragma("busy_timeout = 5000");
  const inMemory = fileName === ":memory:";
  const database = new Kysely<Database>({ dialect: new SqliteDialect({ database: inMemory ? connection : immediateTransactions(connection) }) });
  const migrator = new Migrator({ db: database, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await database.destroy();
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    throw new ClawfleetError("CF_INTERNAL", `database migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  const store = createKyselyStore(database, options.now);
  if (inMemory) return { ...store, requests: new SqliteRequestRepository(connection, store.requests) };
  // A file: request records and audit events are written by a worker thread over its own connection (off the
  // event loop; writer-thread.ts). Closing the store waits for what was posted before closing the connection.
  const writer = new SqliteWriterThread({ filePath, statements: { requests: INSERT_REQUEST_SQL, audit: INSERT_AUDIT_SQL } });
  return {
    ...store,
    requests: new SqliteRequestRepository(connection, store.requests, writer),
    audit: new SqliteAuditRepository(writer, database),
    async close() {
      await writer.close();
      await store.close();
    },
  };
}
