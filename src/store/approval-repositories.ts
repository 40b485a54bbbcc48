/**
 * The {@link ApprovalRepository} over Kysely, shared by every SQL dialect (SQLite, PostgreSQL). Races between
 * replicas are settled by the database: a unique index on `pending_key` (one pending request per call),
 * conditional updates for decisions (`status = 'pending'`), grant uses (`uses < max_uses`) and outbox claims
 * (`next_attempt_at_ms` unchanged since it was read).
 */
import { sql, type Kysely, type Selectable } from "kysely";
import type { JsonValue } from "../contracts/chat.js";
import type {
  ApprovalDecisionKind,
  ApprovalRepository,
  DecisionWrite,
  GrantRecord,
  NotificationRecord,
  PermissionRequestInput,
  PermissionRequestQuery,
  PermissionRequestRecord,
  PermissionRequestSource,
  PermissionRequestStatus,
} from "../contracts/approvals.js";
import type { RiskLevel } from "../contracts/governance.js";
import { randomBytes } from "node:crypto";

/** Row shapes of the tables created by migration `004-approvals`. */
export interface PermissionRequestsTable {
  id: string;
  tenant_id: string;
  session_id: string;
  request_id: string;
  source: string;
  tool_call_id: string | null;
  tool: string;
  arguments_json: string;
  arguments_hash: string;
  risk: string;
  reason: string;
  status: string;
  pending_key: string | null;
  created_at_ms: number;
  deadline_at_ms: number;
  decided_at_ms: number | null;
  decided_by: string | null;
  decision: string | null;
  decision_reason: string | null;
  runtime_approval_id: string | null;
  runtime_instance_id: string | null;
  runtime_resolved_at_ms: number | null;
}

export interface ApprovalGrantsTable {
  id: string;
  tenant_id: string;
  tool: string;
  arguments_hash: string | null;
  arguments_pattern: string | null;
  session_id: string | null;
  expires_at_ms: number | null;
  max_uses: number | null;
  uses: number;
  created_by: string;
  created_at_ms: number;
  permission_request_id: string | null;
  revoked_at_ms: number | null;
}

export interface ApprovalNotificationsTable {
  id: string;
  permission_request_id: string;
  channel: string;
  attempts: number;
  next_attempt_at_ms: number | null;
  last_error: string | null;
  delivered_at_ms: number | null;
  created_at_ms: number;
}

export interface ApprovalTables {
  permission_requests: PermissionRequestsTable;
  approval_grants: ApprovalGrantsTable;
  approval_notifications: ApprovalNotificationsTable;
}

/**
 * A sortable id: `<prefix>_` + the time as 12 hex digits + 10 random hex digits. Ids made later sort later
 * (within one millisecond, randomly), so an id is a pagination cursor.
 */
export function sortableId(prefix: string, nowMs: number): string {
  return `${prefix}_${Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, "0")}${randomBytes(5).toString("hex")}`;
}

const optionalNumber = (value: number | null): number | null => (value === null ? null : Number(value));

function toRequest(row: Selectable<PermissionRequestsTable>): PermissionRequestRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    sessionId: row.session_id,
    requestId: row.request_id,
    source: row.source as PermissionRequestSource,
    toolCallId: row.tool_call_id,
    tool: row.tool,
    arguments: JSON.parse(row.arguments_json) as JsonValue,
    argumentsHash: row.arguments_hash,
    risk: row.risk as RiskLevel,
    reason: row.reason,
    status: row.status as PermissionRequestStatus,
    createdAtMs: Number(row.created_at_ms),
    deadlineAtMs: Number(row.deadline_at_ms),
    decidedAtMs: optionalNumber(row.decided_at_ms),
    decidedBy: row.decided_by,
    decision: row.decision as ApprovalDecisionKind | "expired" | null,
    decisionReason: row.decision_reason,
    runtimeApprovalId: row.runtime_approval_id,
    runtimeInstanceId: row.runtime_instance_id,
    runtimeResolvedAtMs: optionalNumber(row.runtime_resolved_at_ms),
  };
}

function toGrant(row: Selectable<ApprovalGrantsTable>): GrantRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    tool: row.tool,
    argumentsHash: row.arguments_hash,
    argumentsPattern: row.arguments_pattern,
    sessionId: row.session_id,
    expiresAtMs: optionalNumber(row.expires_at_ms),
    maxUses: optionalNumber(row.max_uses),
    uses: Number(row.uses),
    createdBy: row.created_by,
    createdAtMs: Number(row.created_at_ms),
    permissionRequestId: row.permission_request_id,
    revokedAtMs: optionalNumber(row.revoked_at_ms),
  };
}

function grantRow(grant: GrantRecord): ApprovalGrantsTable {
  return {
    id: grant.id,
    tenant_id: grant.tenantId,
    tool: grant.tool,
    arguments_hash: grant.argumentsHash,
    arguments_pattern: grant.argumentsPattern,
    session_id: grant.sessionId,
    expires_at_ms: grant.expiresAtMs,
    max_uses: grant.maxUses,
    uses: grant.uses,
    created_by: grant.createdBy,
    created_at_ms: grant.createdAtMs,
    permission_request_id: grant.permissionRequestId,
    revoked_at_ms: grant.revokedAtMs,
  };
}

function toNotification(row: Selectable<ApprovalNotificationsTable>): NotificationRecord {
  return {
    id: row.id,
    permissionRequestId: row.permission_request_id,
    channel: row.channel,
    attempts: Number(row.attempts),
    nextAttemptAtMs: optionalNumber(row.next_attempt_at_ms),
    lastError: row.last_error,
    deliveredAtMs: optionalNumber(row.delivered_at_ms),
    createdAtMs: Number(row.created_at_ms),
  };
}

/** Longest stored error text of a failed notification attempt (characters). */
const MAX_ERROR_CHARS = 1000;

class KyselyApprovalRepository implements ApprovalRepository {
  private readonly database: Kysely<ApprovalTables>;

  constructor(database: Kysely<unknown>) {
    this.database = database as Kysely<ApprovalTables>;
  }

  async findOrCreatePending(input: PermissionRequestInput, dedupeKey: string, channels: readonly string[], nowMs: number): Promise<{ request: PermissionRequestRecord; created: boolean }> {
    const existing = await this.pendingByKey(dedupeKey);
    if (existing) return { request: existing, created: false };
    const row: PermissionRequestsTable = {
      id: input.id,
      tenant_id: input.tenantId,
      session_id: input.sessionId,
      request_id: input.requestId,
      source: input.source,
      tool_call_id: input.toolCallId,
      tool: input.tool,
      arguments_json: JSON.stringify(input.arguments),
      arguments_hash: input.argumentsHash,
      risk: input.risk,
      reason: input.reason,
      status: "pending",
      pending_key: dedupeKey,
      created_at_ms: input.createdAtMs,
      deadline_at_ms: input.deadlineAtMs,
      decided_at_ms: null,
      decided_by: null,
      decision: null,
      decision_reason: null,
      runtime_approval_id: input.runtimeApprovalId,
      runtime_instance_id: input.runtimeInstanceId,
      runtime_resolved_at_ms: null,
    };
    const created = await this.database.transaction().execute(async (transaction) => {
      const inserted = await transaction
        .insertInto("permission_requests")
        .values(row)
        .onConflict((conflict) => conflict.column("pending_key").doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      if (channels.length > 0) {
        await transaction
          .insertInto("approval_notifications")
          .values(channels.map((channel) => ({ id: sortableId("ntf", nowMs), permission_request_id: row.id, channel, attempts: 0, next_attempt_at_ms: nowMs, last_error: null, delivered_at_ms: null, created_at_ms: nowMs })))
          .execute();
      }
      return true;
    });
    if (created) return { request: toRequest(row), created: true };
    // Another caller (or replica) created it between our read and our insert.
    const winner = await this.pendingByKey(dedupeKey);
    if (winner) return { request: winner, created: false };
    // Created and decided in between: report the newest request for the call.
    const decided = await this.database.selectFrom("permission_requests").selectAll().where("tenant_id", "=", input.tenantId).where("tool", "=", input.tool).where("arguments_hash", "=", input.argumentsHash).where("session_id", "=", input.sessionId).orderBy("id", "desc").executeTakeFirstOrThrow();
    return { request: toRequest(decided), created: false };
  }

  private async pendingByKey(dedupeKey: string): Promise<PermissionRequestRecord | null> {
    const row = await this.database.selectFrom("permission_requests").selectAll().where("pending_key", "=", dedupeKey).executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async latestForCall(tenantId: string, sessionId: string, tool: string, argumentsHash: string): Promise<PermissionRequestRecord | null> {
    const row = await this.database
      .selectFrom("permission_requests")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("tool", "=", tool)
      .where("arguments_hash", "=", argumentsHash)
      .where("session_id", "=", sessionId)
      .where("source", "=", "gateway")
      .orderBy("id", "desc")
      .executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async getRequest(id: string): Promise<PermissionRequestRecord | null> {
    const row = await this.database.selectFrom("permission_requests").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async findByRuntimeApprovalId(tenantId: string, runtimeApprovalId: string): Promise<PermissionRequestRecord | null> {
    const row = await this.database.selectFrom("permission_requests").selectAll().where("tenant_id", "=", tenantId).where("runtime_approval_id", "=", runtimeApprovalId).orderBy("id", "desc").executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async listRequests(query: PermissionRequestQuery): Promise<PermissionRequestRecord[]> {
    let builder = this.database.selectFrom("permission_requests").selectAll().orderBy("id", "desc").limit(query.limit);
    if (query.status !== undefined) builder = builder.where("status", "=", query.status);
    if (query.tenantId !== undefined) builder = builder.where("tenant_id", "=", query.tenantId);
    if (query.cursor !== undefined) builder = builder.where("id", "<", query.cursor);
    return (await builder.execute()).map(toRequest);
  }

  async decide(id: string, write: DecisionWrite): Promise<PermissionRequestRecord | null> {
    const decided = await this.database.transaction().execute(async (transaction) => {
      const result = await transaction
        .updateTable("permission_requests")
        .set({ status: write.status, decision: write.decision, decided_by: write.decidedBy, decision_reason: write.decisionReason, decided_at_ms: write.decidedAtMs, pending_key: null })
        .where("id", "=", id)
        .where("status", "=", "pending")
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      if (write.grants.length > 0) await transaction.insertInto("approval_grants").values(write.grants.map(grantRow)).execute();
      // Nobody needs to be told about a request that is no longer pending.
      await transaction.updateTable("approval_notifications").set({ next_attempt_at_ms: null }).where("permission_request_id", "=", id).where("delivered_at_ms", "is", null).execute();
      return true;
    });
    return decided ? this.getRequest(id) : null;
  }

  async listDue(nowMs: number, limit: number): Promise<PermissionRequestRecord[]> {
    const rows = await this.database.selectFrom("permission_requests").selectAll().where("status", "=", "pending").where("deadline_at_ms", "<=", nowMs).orderBy("deadline_at_ms").limit(limit).execute();
    return rows.map(toRequest);
  }

  async listUnresolvedExec(tenantId: string): Promise<PermissionRequestRecord[]> {
    const rows = await this.database
      .selectFrom("permission_requests")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("source", "=", "openclaw-exec")
      .where("status", "!=", "pending")
      .where("runtime_resolved_at_ms", "is", null)
      .orderBy("id")
      .execute();
    return rows.map(toRequest);
  }

  async listPendingExecOfOtherInstances(tenantId: string, instanceId: string): Promise<PermissionRequestRecord[]> {
    const rows = await this.database
      .selectFrom("permission_requests")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("source", "=", "openclaw-exec")
      .where("status", "=", "pending")
      .where((where) => where.or([where("runtime_instance_id", "is", null), where("runtime_instance_id", "!=", instanceId)]))
      .orderBy("id")
      .execute();
    return rows.map(toRequest);
  }

  async markRuntimeResolved(id: string, nowMs: number): Promise<void> {
    await this.database.updateTable("permission_requests").set({ runtime_resolved_at_ms: nowMs }).where("id", "=", id).where("runtime_resolved_at_ms", "is", null).execute();
  }

  async usableGrants(tenantId: string, tool: string, nowMs: number): Promise<GrantRecord[]> {
    const rows = await this.database
      .selectFrom("approval_grants")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("tool", "=", tool)
      .where("revoked_at_ms", "is", null)
      .where((where) => where.or([where("expires_at_ms", "is", null), where("expires_at_ms", ">", nowMs)]))
      .where((where) => where.or([where("max_uses", "is", null), where("uses", "<", sql<number>`max_uses`)]))
      .orderBy("id", "desc")
      .execute();
    return rows.map(toGrant);
  }

  async consumeGrant(id: string, nowMs: number): Promise<boolean> {
    const result = await this.database
      .updateTable("approval_grants")
      .set({ uses: sql<number>`uses + 1` })
      .where("id", "=", id)
      .where("revoked_at_ms", "is", null)
      .where((where) => where.or([where("expires_at_ms", "is", null), where("expires_at_ms", ">", nowMs)]))
      .where((where) => where.or([where("max_uses", "is", null), where("uses", "<", sql<number>`max_uses`)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async getGrant(id: string): Promise<GrantRecord | null> {
    const row = await this.database.selectFrom("approval_grants").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toGrant(row) : null;
  }

  async listGrants(filter: { tenantId?: string; activeAtMs?: number; limit: number }): Promise<GrantRecord[]> {
    let builder = this.database.selectFrom("approval_grants").selectAll().orderBy("id", "desc").limit(filter.limit);
    if (filter.tenantId !== undefined) builder = builder.where("tenant_id", "=", filter.tenantId);
    const activeAtMs = filter.activeAtMs;
    if (activeAtMs !== undefined) {
      builder = builder
        .where("revoked_at_ms", "is", null)
        .where((where) => where.or([where("expires_at_ms", "is", null), where("expires_at_ms", ">", activeAtMs)]))
        .where((where) => where.or([where("max_uses", "is", null), where("uses", "<", sql<number>`max_uses`)]));
    }
    return (await builder.execute()).map(toGrant);
  }

  async revokeGrant(id: string, nowMs: number): Promise<boolean> {
    const result = await this.database.updateTable("approval_grants").set({ revoked_at_ms: nowMs }).where("id", "=", id).where("revoked_at_ms", "is", null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async claimDueNotifications(nowMs: number, leaseMs: number, limit: number): Promise<NotificationRecord[]> {
    const due = await this.database
      .selectFrom("approval_notifications")
      .selectAll()
      .where("delivered_at_ms", "is", null)
      .where("next_attempt_at_ms", "is not", null)
      .where("next_attempt_at_ms", "<=", nowMs)
      .orderBy("next_attempt_at_ms")
      .limit(limit)
      .execute();
    const claimed: NotificationRecord[] = [];
    for (const row of due) {
      const result = await this.database
        .updateTable("approval_notifications")
        .set({ next_attempt_at_ms: nowMs + leaseMs, attempts: sql<number>`attempts + 1` })
        .where("id", "=", row.id)
        .where("next_attempt_at_ms", "=", Number(row.next_attempt_at_ms))
        .where("delivered_at_ms", "is", null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) claimed.push(toNotification({ ...row, attempts: Number(row.attempts) + 1, next_attempt_at_ms: nowMs + leaseMs }));
    }
    return claimed;
  }

  async markNotificationDelivered(id: string, nowMs: number): Promise<void> {
    await this.database.updateTable("approval_notifications").set({ delivered_at_ms: nowMs, next_attempt_at_ms: null, last_error: null }).where("id", "=", id).execute();
  }

  async markNotificationFailed(id: string, error: string, nextAttemptAtMs: number | null): Promise<void> {
    await this.database.updateTable("approval_notifications").set({ last_error: error.slice(0, MAX_ERROR_CHARS), next_attempt_at_ms: nextAttemptAtMs }).where("id", "=", id).where("delivered_at_ms", "is", null).execute();
  }

  async listNotifications(permissionRequestId: string): Promise<NotificationRecord[]> {
    const rows = await this.database.selectFrom("approval_notifications").selectAll().where("permission_request_id", "=", permissionRequestId).orderBy("id").execute();
    return rows.map(toNotification);
  }
}

/** Builds the approval repository over an already-migrated Kysely instance of any dialect. */
export function createApprovalRepository(database: Kysely<unknown>): ApprovalRepository {
  return new KyselyApprovalRepository(database);
}
