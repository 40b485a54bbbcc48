/**
 * The audit log: `record` never throws and never waits; events are written to the store in order, in batches
 * (every 100 ms, at most 200 per insert, yielding between inserts; see `src/gateway/request-recorder.ts`), and
 * each stored event (with its id) is appended as one JSON line to the audit file (mode 0600). `flush` waits for
 * everything recorded so far; `close` flushes and closes the file (shutdown).
 *
 * When the store fails, the batch stays queued and is retried on the next flush, up to a bounded backlog
 * (10,000 events); events dropped from a full backlog are still written to the file, with `"id": null`.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { JsonValue } from "../../contracts/chat.js";
import type { AuditEvent, AuditEventInput, AuditLog } from "../../contracts/governance.js";
import type { AuditRepository } from "../../contracts/store.js";
import type { Logger } from "../../observability/logger.js";

const FLUSH_INTERVAL_MS = 100;
const BATCH_SIZE = 200;
const MAX_BACKLOG = 10_000;
/** Pause of timer-driven flushes after the store failed, in ms. */
const RETRY_AFTER_FAILURE_MS = 2_000;
/** Longest string kept in `details` (characters); longer ones are cut and marked, so no event carries a prompt. */
const MAX_DETAIL_STRING = 2_000;

export interface AuditLogOptions {
  repository: AuditRepository;
  /** The JSON-lines file, created with mode 0600 (and its directory with 0700) if missing; appended to. */
  filePath: string;
  logger: Pick<Logger, "error" | "warn">;
  now?: () => number;
}

/** A JSON-safe copy of `value`: strings capped, non-finite numbers and unsupported values as null, depth ≤ 8. */
function sanitize(value: unknown, depth = 0): JsonValue {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "string") return value.length > MAX_DETAIL_STRING ? `${value.slice(0, MAX_DETAIL_STRING)}…[truncated]` : value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (depth >= 8) return null;
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  if (typeof value === "object") {
    const copy: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) copy[key] = sanitize(item, depth + 1);
    return copy;
  }
  return null;
}

/** One JSON line of the audit file. */
function lineOf(event: AuditEvent | (Omit<AuditEvent, "id"> & { id: null })): string {
  return `${JSON.stringify({ id: event.id, at: new Date(event.atMs).toISOString(), atMs: event.atMs, type: event.type, tenantId: event.tenantId, actor: event.actor, requestId: event.requestId, details: event.details })}\n`;
}

/** The store-and-file {@link AuditLog}. */
export class BufferedAuditLog implements AuditLog {
  private buffer: Array<Omit<AuditEvent, "id">> = [];
  private flushing: Promise<void> | null = null;
  private file: fs.FileHandle | null = null;
  private closed = false;
  /** After a failed store write, timer-driven flushes wait until then (epoch ms); explicit flushes do not. */
  private retryAtMs = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: AuditLogOptions) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => {
      if (this.now() >= this.retryAtMs) void this.flush();
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  record(event: AuditEventInput): void {
    try {
      const details = sanitize(event.details);
      this.buffer.push({
        type: event.type,
        tenantId: event.tenantId ?? null,
        actor: String(event.actor),
        requestId: event.requestId ?? null,
        atMs: typeof event.atMs === "number" && Number.isFinite(event.atMs) ? event.atMs : this.now(),
        details: typeof details === "object" && details !== null && !Array.isArray(details) ? details : {},
      });
      if (this.buffer.length > MAX_BACKLOG) {
        const dropped = this.buffer.splice(0, this.buffer.length - MAX_BACKLOG);
        this.options.logger.error({ dropped: dropped.length }, "audit backlog full: oldest events written to the audit file only");
        void this.writeLines(dropped.map((item) => lineOf({ ...item, id: null })));
      }
    } catch (error) {
      this.options.logger.error({ err: error }, "audit event not recorded");
    }
  }

  /** Writes everything recorded so far (store, then file). Never rejects; failures are logged and retried. */
  async flush(): Promise<void> {
    // A flush already running may have taken its batch before the latest events: run once more after it.
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    this.flushing = (async () => {
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, BATCH_SIZE);
        let stored: AuditEvent[];
        try {
          stored = await this.options.repository.append(batch);
        } catch (error) {
          this.options.logger.error({ err: error, pending: this.buffer.length }, "audit events not stored; will retry");
          this.retryAtMs = this.now() + RETRY_AFTER_FAILURE_MS;
          return;
        }
        this.buffer.splice(0, batch.length);
        await this.writeLines(stored.map(lineOf));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer, flushes and closes the file. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => undefined);
  }

  private async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      if (!this.file) {
        if (this.closed) return;
        await fs.mkdir(path.dirname(this.options.filePath), { recursive: true, mode: 0o700 });
        this.file = await fs.open(this.options.filePath, "a", 0o600);
        // An existing file keeps its mode on open: tighten it (the trail names tenants, actors and tools).
        await this.file.chmod(0o600);
      }
      await this.file.appendFile(lines.join(""), "utf8");
    } catch (error) {
      this.options.logger.error({ err: error, filePath: this.options.filePath, lines: lines.length }, "audit file write failed");
    }
  }
}
