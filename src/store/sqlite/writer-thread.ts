/**
 * A worker thread (`worker_threads`) that writes batches of rows to a SQLite file over its own connection, so
 * the event loop never runs an insert. better-sqlite3 is synchronous: an insert on the event loop blocks every
 * request in flight for its whole duration (a WAL append, sometimes a checkpoint, and on a busy machine however
 * long the thread is descheduled mid-transaction — measured up to ~38 ms on the benchmark machine, seen as p99
 * latency of the model gateway; see docs/benchmarks.md).
 *
 * - `run(statement, rows)` posts the rows (a structured clone) and resolves once they are committed: one
 *   `BEGIN IMMEDIATE` transaction per batch, each row through a statement prepared once. It resolves with the
 *   rowid of each inserted row (in order), and rejects when the batch was not committed (the transaction rolled
 *   back as a whole; callers keep the batch and retry, so an accepted record is never lost). A thread that died
 *   rejects what it had pending and is replaced on the next batch.
 * - `close()` waits for everything posted, closes the thread's connection and ends the thread.
 * - On Linux the thread runs below the event loop's CPU priority (`niceIncrement`), so where the two share a CPU
 *   the scheduler runs requests first and the inserts in the gaps.
 *
 * Two connections write the file, so the main connection's transactions must take the write lock when they
 * begin (`BEGIN IMMEDIATE`, see `immediateTransactions` in open.ts): a deferred transaction that read before the
 * thread committed could not upgrade to a write (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * The thread's code (CommonJS, run with `eval: true` so no separate file has to be found next to the compiled
 * module or under tsx). Messages in: `{id, statement, rows}` (rows: arrays of parameters) and `{close: true}`;
 * out: `{id, error, ids}` (error null when committed; ids: each row's rowid) and nothing after close.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
if (workerData.niceIncrement > 0) {
  // Linux: this thread's own id is the last part of /proc/thread-self, and setpriority(2) on a thread id changes
  // that thread alone. Elsewhere (no /proc) the thread keeps the process's priority.
  try {
    const os = require("node:os");
    const threadId = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
    os.setPriority(threadId, Math.min(19, os.getPriority(threadId) + workerData.niceIncrement));
  } catch {}
}
const Database = require(workerData.modulePath);
const connection = new Database(workerData.filePath);
connection.pragma("synchronous = NORMAL");
connection.pragma("foreign_keys = ON");
connection.pragma("busy_timeout = " + workerData.busyTimeoutMs);
const batches = new Map();
function batchOf(name) {
  let batch = batches.get(name);
  if (!batch) {
    const statement = connection.prepare(workerData.statements[name]);
    batch = connection.transaction((rows) => {
      const ids = new Array(rows.length);
      for (let index = 0; index < rows.length; index += 1) ids[index] = Number(statement.run(rows[index]).lastInsertRowid);
      return ids;
    }).immediate;
    batches.set(name, batch);
  }
  return batch;
}
parentPort.on("message", (message) => {
  if (message.close) {
    connection.close();
    parentPort.close();
    return;
  }
  try {
    const ids = batchOf(message.statement)(message.rows);
    parentPort.postMessage({ id: message.id, error: null, ids });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String((error && error.message) || error), ids: null });
  }
});
`;

export interface WriterThreadOptions {
  /** The database file (not `:memory:`, which a second connection cannot see). */
  filePath: string;
  /** The statements the thread may run, by name: SQL with `?` parameters. */
  statements: Record<string, string>;
  /** The thread connection's busy_timeout, in ms (waits for the main connection's write lock). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * How much lower than the process's the thread's CPU priority is, in nice steps (0-19, capped at nice 19).
   * Default `WRITER_NICE_INCREMENT` (10). Linux only; elsewhere ignored.
   */
  niceIncrement?: number;
}

/**
 * The writer thread's default nice increment. Where it shares a CPU with the event loop (one CPU, or all of them
 * busy), Linux's scheduler (CFS) gives a thread at nice +10 about a tenth of the event loop's share (load weights
 * 110 against 1024, `sched_prio_to_weight` in kernel/sched/core.c), so a batch insert waits for a request in flight
 * instead of delaying it; an idle CPU still runs it at once, and it is never starved outright (under sustained
 * overload it still gets ~10 %, more than the ~5 % of the event loop's CPU time the inserts take at 500 requests/s,
 * docs/benchmarks.md).
 */
export const WRITER_NICE_INCREMENT = 10;

interface Pending {
  resolve: (ids: number[]) => void;
  reject: (error: Error) => void;
  /** The thread the batch was posted to (a dead thread's late `exit` must not reject its successor's batches). */
  worker: Worker;
}

/** See the module comment. */
export class SqliteWriterThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | null = null;
  /** Woken when no batch is awaiting its acknowledgement (close). */
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: WriterThreadOptions) {}

  /**
   * Inserts `rows` with statement `statement` in one transaction; resolves with each row's rowid once committed.
   * @throws Error when the batch was not committed (constraint, I/O, thread died) or the thread is closed.
   */
  run(statement: string, rows: unknown[][]): Promise<number[]> {
    if (this.closing) return Promise.reject(new Error("SQLite writer thread closed"));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<number[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      // Keeps the process alive while a batch is unacknowledged (shutdown waits for it); idle, it does not.
      worker.ref();
      worker.postMessage({ id, statement, rows });
    });
  }

  /** Waits for every posted batch, then closes the thread's connection and ends the thread. */
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
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        modulePath,
        filePath: this.options.filePath,
        statements: this.options.statements,
        busyTimeoutMs: this.options.busyTimeoutMs ?? 5_000,
        niceIncrement: this.options.niceIncrement ?? WRITER_NICE_INCREMENT,
      },
      // A plain CommonJS thread: no loader hooks or flags of the parent (tsx under tests) are needed.
      execArgv: [],
      // It allocates little (one batch at a time): a small heap keeps its RSS down. Exceeding it ends the thread
      // (ERR_WORKER_OUT_OF_MEMORY): the batch is rejected, kept by the caller and retried on a new thread.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 },
    });
    worker.on("message", (message: { id: number; error: string | null; ids: number[] | null }) => {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (message.error === null) entry.resolve(message.ids ?? []);
      else entry.reject(new Error(`SQLite batch not written: ${message.error}`));
      this.settled();
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, entry] of this.pending) {
        if (entry.worker !== worker) continue;
        this.pending.delete(id);
        entry.reject(error);
      }
      this.settled();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`SQLite writer thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
