/**
 * SQLite's fast path for request records: one statement prepared once, one transaction per batch.
 * - With a database file the batch is written by the {@link SqliteWriterThread} (off the event loop; see
 *   writer-thread.ts for why and for the commit/retry guarantees): `insertMany` resolves once it is committed.
 * - With `:memory:` (tests; a second connection could not see it) the batch runs on the shared connection.
 * Reads stay on the shared Kysely repository (WAL: they see every committed batch).
 */
import type BetterSqlite3 from "better-sqlite3";
import type { RequestRecord, RequestRepository, UsageRow } from "../../contracts/store.js";
import type { SqliteWriterThread } from "./writer-thread.js";

const COLUMNS = [
  "id",
  "request_id",
  "tenant_id",
  "key_id",
  "api",
  "requested_model",
  "provider",
  "model",
  "status",
  "stream",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "cost_usd_micros",
  "overhead_ms",
  "duration_ms",
  "attempts",
  "error_code",
  "upstream_request_id",
  "created_at_ms",
] as const;

/**
 * The insert of one request record (22 parameters, in {@link rowOf} order). `on conflict do nothing`: a record
 * whose id (the only unique column) is already stored is skipped; any other constraint still fails the batch.
 * Ids are UUIDv7 (a millisecond timestamp, then random bits), so that only happens when a batch is retried after a
 * commit whose acknowledgement was lost (the writer thread died between the two); without it that batch would fail
 * on its own rows forever and hold up every record behind it.
 */
export const INSERT_REQUEST_SQL = `insert into requests (${COLUMNS.join(", ")}) values (${COLUMNS.map(() => "?").join(", ")}) on conflict do nothing`;

function rowOf(record: RequestRecord): unknown[] {
  return [
    record.id,
    record.requestId,
    record.tenantId,
    record.keyId,
    record.api,
    record.requestedModel,
    record.provider,
    record.model,
    record.status,
    record.stream ? 1 : 0,
    record.inputTokens,
    record.outputTokens,
    record.cacheReadTokens,
    record.cacheWriteTokens,
    record.reasoningTokens,
    record.costUsdMicros,
    record.overheadMs,
    record.durationMs,
    record.attempts,
    record.errorCode,
    record.upstreamRequestId,
    record.createdAtMs,
  ];
}

/** {@link RequestRepository} whose writes use one prepared statement (in a worker thread for a file); reads are delegated. */
export class SqliteRequestRepository implements RequestRepository {
  private readonly insertBatch: ((records: readonly RequestRecord[]) => void) | null = null;

  /** `writer`: the file's writer thread (its statements include `requests`: {@link INSERT_REQUEST_SQL}); none = write on `connection`. */
  constructor(private readonly connection: BetterSqlite3.Database, private readonly reads: RequestRepository, private readonly writer?: SqliteWriterThread) {
    if (writer) return;
    const statement = connection.prepare(INSERT_REQUEST_SQL);
    this.insertBatch = connection.transaction((records: readonly RequestRecord[]) => {
      for (const record of records) statement.run(rowOf(record));
    });
  }

  /** Resolves once the records are committed. @throws Error when they were not (the caller keeps and retries them). */
  async insertMany(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.writer) {
      await this.writer.run("requests", records.map(rowOf));
      return;
    }
    // A Kysely transaction (tenant create, key touch…) may be open on this same connection, between two of its
    // awaits. Writing now would join it (better-sqlite3 nests into a SAVEPOINT) and its rollback would drop these
    // records. Kysely's statements on SQLite settle in microtasks, so the transaction has ended by the next turn.
    while (this.connection.inTransaction) await new Promise<void>((resolve) => setImmediate(resolve));
    (this.insertBatch as (records: readonly RequestRecord[]) => void)(records);
  }

  list(filter: { tenantId?: string; limit: number }): Promise<RequestRecord[]> {
    return this.reads.list(filter);
  }

  usage(filter: Parameters<RequestRepository["usage"]>[0]): Promise<UsageRow[]> {
    return this.reads.usage(filter);
  }
}
