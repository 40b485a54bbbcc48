/**
 * Writes request records off the hot path: records are buffered and inserted in batches (every 100 ms, at
 * most 50 rows per insert, yielding to the event loop between inserts), and flushed on shutdown. A failed batch is logged and retried with the next flush, up to a
 * bounded backlog (10,000 records) so a database outage cannot exhaust memory.
 */
import type { RequestRecord, RequestRepository } from "../contracts/store.js";
import type { Logger } from "../observability/logger.js";

// Small, frequent batches: on SQLite a file's batches are written by a worker thread (src/store/sqlite/
// writer-thread.ts), so the loop only posts them; on `:memory:` an insert runs on the loop and 50 rows take well
// under a millisecond; the loop gets a turn between batches either way.
const FLUSH_INTERVAL_MS = 100;
const BATCH_SIZE = 50;
const MAX_BACKLOG = 10_000;

export class RequestRecorder {
  private buffer: RequestRecord[] = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly repository: RequestRepository, private readonly logger: Logger) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  record(record: RequestRecord): void {
    this.buffer.push(record);
    if (this.buffer.length > MAX_BACKLOG) {
      const dropped = this.buffer.splice(0, this.buffer.length - MAX_BACKLOG);
      this.logger.error({ dropped: dropped.length }, "request record backlog full: oldest records dropped");
    }
  }

  /** Writes everything buffered so far. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, BATCH_SIZE);
        try {
          await this.repository.insertMany(batch);
          await new Promise((resolve) => setImmediate(resolve));
        } catch (error) {
          this.buffer.unshift(...batch);
          this.logger.error({ err: error, pending: this.buffer.length }, "request records not written; will retry");
          return;
        }
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
