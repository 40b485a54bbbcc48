/**
 * SQLite's fast path for request records. better-sqlite3 is synchronous: an insert on the event loop blocks
 * every request in flight for its whole duration (a WAL append, sometimes a checkpoint, and on a busy machine
 * however long the thread is descheduled mid-transaction — measured up to ~30 ms on the benchmark machine, seen
 * as p99 latency on the model-call hot path; see docs/benchmarks.md).
 *
 * - With a database file, records are written by a worker thread (`worker_threads`) over its own connection to
 *   the same file: one prepared statement, one `BEGIN IMMEDIATE` transaction per batch. The event loop only
 *   posts the batch (a structured clone) and awaits the worker's acknowledgement; `insertMany` resolves once the
 *   batch is committed, and rejects when the worker failed (the caller keeps the batch and retries, so an accepted
 *   record is never lost; a dead worker is replaced on the next batch). `close` waits for what was posted and
 *   stops the worker.
 * - With `:memory:` (tests; a second connection could not see it) the batch runs on the shared connection, one
 *   prepared statement in one transaction.
 *
 * Two connections write the file, so the main connection's transactions must take the write lock when they
 * begin (`BEGIN IMMEDIATE`, see `immediateTransactions` in open.ts): a deferred transaction that read before the
 * worker committed could not upgrade to a write (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry).
 * Reads stay on the shared Kysely repository (WAL: they see every committed batch).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type BetterSqlite3 from "better-sqlite3";
import type { RequestRecord, RequestRepository, UsageRow } from "../../contracts/store.js";

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
  "created_at_ms",
] as const;

const INSERT_SQL = `insert into requests (${COLUMNS.join(", ")}) values (${COLUMNS.map(() => "?").join(", ")})`;

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
    record.createdAtMs,
  ];
}

/**
 * The worker's code (CommonJS, run with `eval: true` so no separate file has to be found next to the compiled
 * module or under tsx). Messages in: `{id, rows}` (rows: arrays of column values) and `{close: true}`; out:
 * `{id, error}` (error null when committed) and `{closed: true}`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.modulePath);
const connection = new Database(workerData.filePath);
connection.pragma("synchronous = NORMAL");
connection.pragma("foreign_keys = ON");
connection.pragma("busy_timeout = " + workerData.busyTimeoutMs);
const statement = connection.prepare(workerData.sql);
const insert = connection.transaction((rows) => {
  for (const row of rows) statement.run(row);
}).immediate;
parentPort.on("message", (message) => {
  if (message.close) {
    connection.close();
    parentPort.postMessage({ closed: true });
    parentPort.close();
    return;
  }
  try {
    insert(message.rows);
    parentPort.postMessage({ id: message.id, error: null });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message || error) });
  }
});
`;

/** Options of the worker writer. */
export interface RequestWriterOptions {
  /** The database file (not `:memory:`): records are then written by a worker thread over its own connection. */
  filePath: string;
  /** The worker connection's busy_timeout, in ms (waits for the main connection's write lock). Default 5000. */
  busyTimeoutMs?: number;
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One worker thread writing batches; see the module comment. */
class WorkerWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | null = null;
  /** Woken when no batch is awaiting its acknowledgement (close). */
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: RequestWriterOptions) {}

  insert(rows: unknown[][]): Promise<void> {
    if (this.closing) return Promise.reject(new Error("request writer closed"));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keeps the process alive while a batch is unacknowledged (shutdown waits for it); idle, it does not.
      worker.ref();
      worker.postMessage({ id, rows });
    });
  }

  /** Waits for every posted batch, then closes the worker's connection and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const worker = this.worker;
      if (!worker) return;
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage({ close: true });
      await exited;
    })();
    return this.closing;
  }

  private settled(): void {
    if (this.pending.size > 0) return;
    this.worker?.unref();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private start(): Worker {
    const modulePath = createRequire(import.meta.url).resolve("better-sqlite3");
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath, filePath: this.options.filePath, sql: INSERT_SQL, busyTimeoutMs: this.options.busyTimeoutMs ?? 5_000 },
      // A plain CommonJS thread: no loader hooks or flags of the parent (tsx under tests) are needed.
      execArgv: [],
    });
    worker.on("message", (message: { id?: number; error?: string | null }) => {
      if (message.id === undefined) return;
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (message.error === null || message.error === undefined) entry.resolve();
      else entry.reject(new Error(`request records not written: ${message.error}`));
      this.settled();
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
      this.settled();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`request writer thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** {@link RequestRepository} whose writes use one prepared statement (in a worker thread for a file); reads are delegated. */
export class SqliteRequestRepository implements RequestRepository {
  private readonly insertBatch: ((records: readonly RequestRecord[]) => void) | null = null;
  private readonly writer: WorkerWriter | null = null;

  constructor(private readonly connection: BetterSqlite3.Database, private readonly reads: RequestRepository, options?: RequestWriterOptions) {
    if (options) {
      this.writer = new WorkerWriter(options);
      return;
    }
    const statement = connection.prepare(INSERT_SQL);
    this.insertBatch = connection.transaction((records: readonly RequestRecord[]) => {
      for (const record of records) statement.run(rowOf(record));
    });
  }

  /** Resolves once the records are committed. @throws Error when they were not (the caller keeps and retries them). */
  async insertMany(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.writer) {
      await this.writer.insert(records.map(rowOf));
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

  /** Waits for posted batches and stops the worker thread (if any). Call before closing the connection. */
  async close(): Promise<void> {
    await this.writer?.close();
  }
}
