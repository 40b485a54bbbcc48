/**
 * SQLite's fast path for the audit trail: appends go through the file's {@link SqliteWriterThread} (off the event
 * loop; see writer-thread.ts), one prepared statement, one transaction per batch, ids taken from each row's rowid
 * (`audit_events.id` is `INTEGER PRIMARY KEY AUTOINCREMENT`, so ids increase with every append). Reads stay on
 * the shared Kysely repository. The Kysely repository (governance-repositories.ts) remains the writer for
 * `:memory:` and PostgreSQL. If the thread dies between committing a batch and acknowledging it, the audit log
 * retries the batch and those events are stored twice (at least once, as over a PostgreSQL connection lost
 * after its commit); events are never lost.
 */
import type { AuditEvent } from "../../contracts/governance.js";
import type { Kysely } from "kysely";
import type { AuditQuery, AuditRepository } from "../../contracts/store.js";
import { createGovernanceRepositories } from "../governance-repositories.js";
import type { Database } from "../schema.js";
import type { SqliteWriterThread } from "./writer-thread.js";

/** The insert of one audit event (6 parameters: type, tenant, actor, request id, time, details as JSON). */
export const INSERT_AUDIT_SQL = "insert into audit_events (type, tenant_id, actor, request_id, at_ms, details_json) values (?, ?, ?, ?, ?, ?)";

/** {@link AuditRepository} whose appends run on the writer thread; `list` is the Kysely repository's. */
export class SqliteAuditRepository implements AuditRepository {
  private readonly reads: AuditRepository;

  /**
   * `writer`'s statements include `audit`: {@link INSERT_AUDIT_SQL}; `database` is the Kysely instance of the same
   * file (reads; the table's append-only triggers refuse updates and deletes through it too).
   */
  constructor(private readonly writer: SqliteWriterThread, private readonly database: Kysely<Database>) {
    this.reads = createGovernanceRepositories(database).audit;
  }

  /** @throws Error when the batch was not committed (the audit log keeps it and retries). */
  async append(events: readonly Omit<AuditEvent, "id">[]): Promise<AuditEvent[]> {
    if (events.length === 0) return [];
    const ids = await this.writer.run(
      "audit",
      events.map((event) => [event.type, event.tenantId, event.actor, event.requestId, event.atMs, JSON.stringify(event.details)]),
    );
    return events.map((event, index) => ({ ...event, id: String(ids[index]) }));
  }

  list(query: AuditQuery): Promise<AuditEvent[]> {
    return this.reads.list(query);
  }
}
