/**
 * Storage contracts of the approval inbox: permission requests (a tool call waiting for a human), grants (what a
 * human allowed ahead of time) and the notification outbox. Pure types; implemented over Kysely in
 * `src/store/approval-repositories.ts`, used by `src/governance/approvals/`.
 *
 * Every state change that two replicas could race on is a conditional update (`… where status = 'pending'`,
 * `… where uses < max_uses`), so exactly one replica wins. Times are epoch milliseconds.
 */
import type { JsonValue } from "./chat.js";
import type { RiskLevel } from "./governance.js";

/** Where a permission request came from: the model gateway's tool policy, or an OpenClaw runtime's own exec approval. */
export type PermissionRequestSource = "gateway" | "openclaw-exec";

/** `pending` until decided; `expired` = auto-rejected at its deadline. */
export type PermissionRequestStatus = "pending" | "approved" | "rejected" | "expired";

/** The structured decisions an approver can make (never free text). */
export type ApprovalDecisionKind = "approve_once" | "approve_for" | "approve_permanently" | "reject";

/** One tool call awaiting (or past) a human decision. */
export interface PermissionRequestRecord {
  /** `apr_` + 12 hex digits of the creation time + 10 random hex digits: sorts in creation order. */
  id: string;
  tenantId: string;
  /** The conversation (`ToolCallUnderReview.sessionId`, or OpenClaw's `sessionKey` for exec approvals). */
  sessionId: string;
  /** The gateway request id that produced the call (empty for exec approvals). */
  requestId: string;
  source: PermissionRequestSource;
  /** The model's tool call id when known. */
  toolCallId: string | null;
  /** Effective tool (`exec`, `write`…). */
  tool: string;
  arguments: JsonValue;
  /** Hex SHA-256 of the canonical JSON of `arguments` (see `canonicalJson`). */
  argumentsHash: string;
  risk: RiskLevel;
  /** Why approval is needed (the policy's message); shown to approvers. */
  reason: string;
  status: PermissionRequestStatus;
  createdAtMs: number;
  /** When it is auto-rejected (status `expired`) if still undecided. */
  deadlineAtMs: number;
  decidedAtMs: number | null;
  /** `admin`, `approver:<name>`, `system` (deadline). */
  decidedBy: string | null;
  /** The decision kind; `expired` for an auto-rejection. */
  decision: ApprovalDecisionKind | "expired" | null;
  decisionReason: string | null;
  /** OpenClaw's approval id (`exec.approval.requested.id`), for `openclaw-exec` requests. */
  runtimeApprovalId: string | null;
  /** The runtime process generation the exec approval belongs to (a restarted runtime forgets its approvals). */
  runtimeInstanceId: string | null;
  /** When the decision was delivered back to the runtime (`exec.approval.resolve`), for `openclaw-exec` requests. */
  runtimeResolvedAtMs: number | null;
}

/** What a caller supplies to create a permission request; the store fills status and decision fields. */
export type PermissionRequestInput = Omit<PermissionRequestRecord, "status" | "decidedAtMs" | "decidedBy" | "decision" | "decisionReason" | "runtimeResolvedAtMs">;

/**
 * A permission granted ahead of a call. Covers a call when tenant and tool are equal, it is neither revoked
 * nor expired nor used up, and each of `sessionId`, `argumentsHash`, `argumentsPattern` is null or matches.
 */
export interface GrantRecord {
  /** `grt_` + sortable hex like permission request ids. */
  id: string;
  tenantId: string;
  tool: string;
  /** Exact arguments (approve-once grants). */
  argumentsHash: string | null;
  /** Wildcard pattern over the call's subject (timed grants), see `src/governance/approvals/matching.ts`. */
  argumentsPattern: string | null;
  /** Bound to one conversation, or null for any. */
  sessionId: string | null;
  /** Null = no expiry. */
  expiresAtMs: number | null;
  /** Null = unlimited uses. */
  maxUses: number | null;
  uses: number;
  createdBy: string;
  createdAtMs: number;
  /** The permission request whose decision created it. */
  permissionRequestId: string | null;
  revokedAtMs: number | null;
}

/** One notification of one permission request to one channel, delivered with retries. */
export interface NotificationRecord {
  id: string;
  permissionRequestId: string;
  /** The notifier id from `governance.approvals.notify[].id`. */
  channel: string;
  attempts: number;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAtMs: number | null;
  lastError: string | null;
  deliveredAtMs: number | null;
  createdAtMs: number;
}

/** A decision to record atomically with the request's state change. */
export interface DecisionWrite {
  status: Exclude<PermissionRequestStatus, "pending">;
  decision: ApprovalDecisionKind | "expired";
  decidedBy: string;
  decisionReason: string | null;
  decidedAtMs: number;
  /** Grants to create in the same transaction (approve once / for a time / permanently). */
  grants: GrantRecord[];
}

/** Filter and page of a permission request listing (newest first). */
export interface PermissionRequestQuery {
  status?: PermissionRequestStatus;
  tenantId?: string;
  /** The last id of the previous page. */
  cursor?: string;
  limit: number;
}

/** Storage of the approval inbox. Every method rejects only when the database fails. */
export interface ApprovalRepository {
  /**
   * Returns the pending request with the same `dedupeKey` if one exists, else inserts `input` as pending with
   * one outbox row per channel, in one transaction. Concurrent calls with one key create one request.
   */
  findOrCreatePending(input: PermissionRequestInput, dedupeKey: string, channels: readonly string[], nowMs: number): Promise<{ request: PermissionRequestRecord; created: boolean }>;
  /** The newest request for this call key (pending or not), or null. */
  latestForCall(tenantId: string, sessionId: string, tool: string, argumentsHash: string): Promise<PermissionRequestRecord | null>;
  getRequest(id: string): Promise<PermissionRequestRecord | null>;
  findByRuntimeApprovalId(tenantId: string, runtimeApprovalId: string): Promise<PermissionRequestRecord | null>;
  listRequests(query: PermissionRequestQuery): Promise<PermissionRequestRecord[]>;
  /** Applies a decision only if the request is still pending; null when it was not (already decided or expired). */
  decide(id: string, write: DecisionWrite): Promise<PermissionRequestRecord | null>;
  /** Pending requests whose deadline is at or before `nowMs` (oldest deadline first). */
  listDue(nowMs: number, limit: number): Promise<PermissionRequestRecord[]>;
  /** Decided `openclaw-exec` requests of a tenant not yet resolved in the runtime. */
  listUnresolvedExec(tenantId: string): Promise<PermissionRequestRecord[]>;
  /** Pending `openclaw-exec` requests of a tenant that belong to another runtime instance than `instanceId`. */
  listPendingExecOfOtherInstances(tenantId: string, instanceId: string): Promise<PermissionRequestRecord[]>;
  /** Records that the runtime got the decision. */
  markRuntimeResolved(id: string, nowMs: number): Promise<void>;

  /** Grants of a tenant and tool usable at `nowMs` (not revoked, not expired, not used up), newest first. */
  usableGrants(tenantId: string, tool: string, nowMs: number): Promise<GrantRecord[]>;
  /** Uses a grant once if it is still usable; false when another call got there first (or it expired/was revoked). */
  consumeGrant(id: string, nowMs: number): Promise<boolean>;
  getGrant(id: string): Promise<GrantRecord | null>;
  /** Newest first; `activeAtMs` keeps only usable grants. */
  listGrants(filter: { tenantId?: string; activeAtMs?: number; limit: number }): Promise<GrantRecord[]>;
  /** False when unknown or already revoked. */
  revokeGrant(id: string, nowMs: number): Promise<boolean>;

  /**
   * Claims up to `limit` due notifications (next attempt at or before `nowMs`) by moving their next attempt to
   * `nowMs + leaseMs`; a notification is claimed by one replica at a time.
   */
  claimDueNotifications(nowMs: number, leaseMs: number, limit: number): Promise<NotificationRecord[]>;
  markNotificationDelivered(id: string, nowMs: number): Promise<void>;
  /** Records a failed attempt; `nextAttemptAtMs` null gives up. */
  markNotificationFailed(id: string, error: string, nextAttemptAtMs: number | null): Promise<void>;
  listNotifications(permissionRequestId: string): Promise<NotificationRecord[]>;
}
