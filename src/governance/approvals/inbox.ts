/**
 * The approval inbox: the {@link ApprovalGate} the model gateway asks, the same inbox for OpenClaw's own exec
 * approvals, and the decision service approvers use (admin API, CLI).
 *
 * - A call is covered by a usable grant (consumed once per call; approve-once grants have one use) → granted.
 * - Else the pending request for the same call (tenant + session + tool + arguments hash) is returned, so a
 *   model repeating the call does not create duplicates; a new one is created (with one outbox row per
 *   notifier) otherwise. A call whose latest request was rejected less than `rejectionMemoryMs` ago is rejected.
 * - Decisions are structured (`approve_once` | `approve_for` | `approve_permanently` | `reject`), applied by a
 *   conditional update (one decision wins across replicas), audited, and announced to listeners (the OpenClaw
 *   exec bridge answers the runtime).
 * - Deadlines are stored; {@link ApprovalInbox.expireDue} rejects what is overdue (the sweeper calls it).
 */
import { createHash } from "node:crypto";
import type { JsonValue } from "../../contracts/chat.js";
import type { ApprovalDecisionKind, ApprovalRepository, GrantRecord, PermissionRequestRecord } from "../../contracts/approvals.js";
import { ClawfleetError } from "../../contracts/errors.js";
import type { ApprovalGate, ApprovalOutcome, AuditLog, RiskLevel, ToolCallUnderReview } from "../../contracts/governance.js";
import { sortableId } from "../../store/approval-repositories.js";
import { argumentsHash } from "./canonical.js";
import { grantCovers, MAX_PATTERN_LENGTH, type CallIdentity } from "./matching.js";
import type { ProfileEditor } from "./ports.js";

/** Longest "approve for a time" grant: 24 h (ms). */
export const MAX_GRANT_DURATION_MS = 86_400_000;
/** How long an unused approve-once grant stays usable (ms): the model normally repeats the call within seconds. */
export const ONCE_GRANT_TTL_MS = 86_400_000;
/** Longest reason text (characters). */
export const MAX_REASON_LENGTH = 2_000;

/** A structured decision, as the admin API and CLI accept it. */
export interface DecisionInput {
  decision: ApprovalDecisionKind;
  /** `approve_for` only: how long the grant lasts, 1 ms … 24 h. */
  durationMs?: number;
  /** `approve_for` only: wildcard pattern over the call's subject (see `matching.ts`); absent = any arguments. */
  argumentsPattern?: string;
  /** Required for `reject`; optional note otherwise. */
  reason?: string;
}

/** One OpenClaw exec approval (`exec.approval.requested`) routed into the inbox. */
export interface ExecApprovalInput {
  tenantId: string;
  /** OpenClaw's approval id. */
  runtimeApprovalId: string;
  /** Which runtime process asked (a restarted runtime forgets its approvals). */
  runtimeInstanceId: string;
  command: string;
  cwd: string | null;
  /** OpenClaw's `sessionKey` (routing, not identity). */
  sessionKey: string | null;
  toolCallId: string | null;
  /** OpenClaw's own expiry of the approval (epoch ms), if it gave one. */
  runtimeExpiresAtMs: number | null;
}

export interface ApprovalInboxOptions {
  repository: ApprovalRepository;
  audit: AuditLog;
  profileEditor: ProfileEditor;
  now: () => number;
  /** Undecided requests are rejected after this long (ms). */
  timeoutMs: number;
  /** Notifier ids each new request is queued for. */
  channels: readonly string[];
  /** Called after notifications were queued (wakes the outbox; must not block). */
  onNotificationsQueued?: () => void;
  /** How long a rejection of a call keeps answering repeats of that call (ms); default `timeoutMs`. */
  rejectionMemoryMs?: number;
}

/** Listener of decisions (human or deadline). */
export type DecisionListener = (request: PermissionRequestRecord) => void;

function dedupeKey(parts: readonly string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

function outcomeOf(request: PermissionRequestRecord): ApprovalOutcome {
  if (request.status === "pending") return { kind: "pending", permissionRequestId: request.id, deadlineAtMs: request.deadlineAtMs };
  if (request.status === "approved") return { kind: "granted", grantId: `request:${request.id}` };
  return { kind: "rejected", permissionRequestId: request.id, reason: request.decisionReason ?? (request.status === "expired" ? "no decision before the deadline" : "rejected") };
}

function stateUnavailable(error: unknown): never {
  if (error instanceof ClawfleetError) throw error;
  throw new ClawfleetError("CF_STATE_UNAVAILABLE", "the approval inbox cannot reach its storage", { cause: error });
}

export class ApprovalInbox implements ApprovalGate {
  private readonly listeners = new Set<DecisionListener>();
  private readonly rejectionMemoryMs: number;

  constructor(private readonly options: ApprovalInboxOptions) {
    this.rejectionMemoryMs = options.rejectionMemoryMs ?? options.timeoutMs;
  }

  /** Registers a listener of decisions; returns the function that removes it. */
  onDecided(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** {@link ApprovalGate.review}. @throws ClawfleetError CF_STATE_UNAVAILABLE when storage fails. */
  async review(call: ToolCallUnderReview, context: { risk: RiskLevel; reason: string }): Promise<ApprovalOutcome> {
    try {
      const identity: CallIdentity = { tenantId: call.tenantId, sessionId: call.sessionId, tool: call.tool, arguments: call.arguments, argumentsHash: argumentsHash(call.arguments) };
      const grant = await this.consumeCoveringGrant(identity);
      if (grant) return { kind: "granted", grantId: grant.id };
      const now = this.options.now();
      const latest = await this.options.repository.latestForCall(call.tenantId, call.sessionId, call.tool, identity.argumentsHash);
      if (latest?.status === "pending") {
        if (latest.deadlineAtMs > now) return outcomeOf(latest);
        return outcomeOf((await this.expire(latest)) ?? latest);
      }
      if (latest && (latest.status === "rejected" || latest.status === "expired") && (latest.decidedAtMs ?? 0) > now - this.rejectionMemoryMs) return outcomeOf(latest);
      const { request } = await this.createPending(
        {
          id: sortableId("apr", now),
          tenantId: call.tenantId,
          sessionId: call.sessionId,
          requestId: call.requestId,
          source: "gateway",
          toolCallId: call.toolCallId,
          tool: call.tool,
          arguments: call.arguments,
          argumentsHash: identity.argumentsHash,
          risk: context.risk,
          reason: context.reason,
          createdAtMs: now,
          deadlineAtMs: now + this.options.timeoutMs,
          runtimeApprovalId: null,
          runtimeInstanceId: null,
        },
        dedupeKey(["gateway", call.tenantId, call.sessionId, call.tool, identity.argumentsHash]),
      );
      return outcomeOf(request);
    } catch (error) {
      return stateUnavailable(error);
    }
  }

  /**
   * Routes one OpenClaw exec approval into the inbox: a grant covering `exec` with these arguments answers at
   * once; otherwise the (deduplicated by OpenClaw's approval id) pending request is returned.
   * @throws ClawfleetError CF_STATE_UNAVAILABLE when storage fails.
   */
  async reviewExec(input: ExecApprovalInput, context: { risk: RiskLevel; reason: string }): Promise<ApprovalOutcome> {
    try {
      const args: JsonValue = input.cwd === null ? { command: input.command } : { command: input.command, cwd: input.cwd };
      const sessionId = input.sessionKey ?? "";
      const existing = await this.options.repository.findByRuntimeApprovalId(input.tenantId, input.runtimeApprovalId);
      if (existing) return outcomeOf(existing);
      const identity: CallIdentity = { tenantId: input.tenantId, sessionId, tool: "exec", arguments: args, argumentsHash: argumentsHash(args) };
      const grant = await this.consumeCoveringGrant(identity);
      if (grant) return { kind: "granted", grantId: grant.id };
      const now = this.options.now();
      const deadline = Math.min(now + this.options.timeoutMs, input.runtimeExpiresAtMs ?? Number.POSITIVE_INFINITY);
      const { request } = await this.createPending(
        {
          id: sortableId("apr", now),
          tenantId: input.tenantId,
          sessionId,
          requestId: "",
          source: "openclaw-exec",
          toolCallId: input.toolCallId,
          tool: "exec",
          arguments: args,
          argumentsHash: identity.argumentsHash,
          risk: context.risk,
          reason: context.reason,
          createdAtMs: now,
          deadlineAtMs: deadline,
          runtimeApprovalId: input.runtimeApprovalId,
          runtimeInstanceId: input.runtimeInstanceId,
        },
        dedupeKey(["openclaw-exec", input.tenantId, input.runtimeApprovalId]),
      );
      return outcomeOf(request);
    } catch (error) {
      return stateUnavailable(error);
    }
  }

  /**
   * Applies an approver's decision to a pending request; `actor` is who decided (`admin`, `approver:<name>`).
   * @throws ClawfleetError CF_APPROVAL_NOT_FOUND; CF_APPROVAL_ALREADY_DECIDED (409) when it is no longer pending
   *   (decided by someone else, or past its deadline); CF_VALIDATION_FAILED for an inconsistent decision;
   *   whatever the {@link ProfileEditor} throws for `approve_permanently` (the request then stays pending).
   */
  async decide(id: string, input: DecisionInput, actor: string): Promise<PermissionRequestRecord> {
    validateDecision(input);
    const request = await this.options.repository.getRequest(id);
    if (!request) throw new ClawfleetError("CF_APPROVAL_NOT_FOUND", `no permission request "${id}"`, { details: { id } });
    const now = this.options.now();
    if (request.status === "pending" && request.deadlineAtMs <= now) await this.expire(request);
    if (request.status !== "pending" || request.deadlineAtMs <= now) throw alreadyDecided(await this.options.repository.getRequest(id) ?? request);
    if (input.decision === "approve_permanently") await this.options.profileEditor.allowToolPermanently(request.tenantId, request.tool, actor);
    const grants = this.grantsFor(request, input, actor, now);
    const decided = await this.options.repository.decide(id, {
      status: input.decision === "reject" ? "rejected" : "approved",
      decision: input.decision,
      decidedBy: actor,
      decisionReason: input.reason ?? null,
      decidedAtMs: now,
      grants,
    });
    if (!decided) throw alreadyDecided(await this.options.repository.getRequest(id) ?? request);
    this.options.audit.record({
      type: "approval_decision",
      tenantId: decided.tenantId,
      actor,
      requestId: decided.requestId === "" ? null : decided.requestId,
      details: {
        permissionRequestId: decided.id,
        source: decided.source,
        tool: decided.tool,
        argumentsHash: decided.argumentsHash,
        decision: input.decision,
        reason: input.reason ?? null,
        durationMs: input.durationMs ?? null,
        argumentsPattern: input.argumentsPattern ?? null,
        grantIds: grants.map((grant) => grant.id),
      },
    });
    this.announce(decided);
    return decided;
  }

  /** Rejects every pending request whose deadline has passed (status `expired`); returns those this call expired. */
  async expireDue(limit = 100): Promise<PermissionRequestRecord[]> {
    const due = await this.options.repository.listDue(this.options.now(), limit);
    const expired: PermissionRequestRecord[] = [];
    for (const request of due) {
      const record = await this.expire(request);
      if (record) expired.push(record);
    }
    return expired;
  }

  /**
   * Rejects a pending request for a reason other than a human decision or the deadline (e.g. the runtime that
   * asked restarted and forgot it). Null when it was no longer pending.
   */
  async cancel(request: PermissionRequestRecord, reason: string): Promise<PermissionRequestRecord | null> {
    return this.finishBySystem(request, reason);
  }

  private expire(request: PermissionRequestRecord): Promise<PermissionRequestRecord | null> {
    return this.finishBySystem(request, `no decision within ${Math.round((request.deadlineAtMs - request.createdAtMs) / 1000)} s`);
  }

  private async finishBySystem(request: PermissionRequestRecord, reason: string): Promise<PermissionRequestRecord | null> {
    const decided = await this.options.repository.decide(request.id, { status: "expired", decision: "expired", decidedBy: "system", decisionReason: reason, decidedAtMs: this.options.now(), grants: [] });
    if (!decided) return null;
    this.options.audit.record({
      type: "approval_decision",
      tenantId: decided.tenantId,
      actor: "system",
      requestId: decided.requestId === "" ? null : decided.requestId,
      details: { permissionRequestId: decided.id, source: decided.source, tool: decided.tool, argumentsHash: decided.argumentsHash, decision: "expired", reason },
    });
    this.announce(decided);
    return decided;
  }

  private announce(request: PermissionRequestRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(request);
      } catch {
        // A listener's failure must not undo or hide a stored decision.
      }
    }
  }

  private async createPending(input: Parameters<ApprovalRepository["findOrCreatePending"]>[0], key: string): Promise<{ request: PermissionRequestRecord; created: boolean }> {
    const result = await this.options.repository.findOrCreatePending(input, key, this.options.channels, this.options.now());
    if (result.created) {
      this.options.audit.record({
        type: "approval_requested",
        tenantId: input.tenantId,
        actor: input.source === "gateway" ? `runtime:${input.tenantId}` : `runtime:${input.tenantId}:exec`,
        requestId: input.requestId === "" ? null : input.requestId,
        details: { permissionRequestId: input.id, source: input.source, tool: input.tool, argumentsHash: input.argumentsHash, risk: input.risk, reason: input.reason, sessionId: input.sessionId, deadlineAtMs: input.deadlineAtMs },
      });
      if (this.options.channels.length > 0) this.options.onNotificationsQueued?.();
    }
    return result;
  }

  private async consumeCoveringGrant(call: CallIdentity): Promise<GrantRecord | null> {
    const now = this.options.now();
    const grants = await this.options.repository.usableGrants(call.tenantId, call.tool, now);
    for (const grant of grants) {
      if (!grantCovers(grant, call, now)) continue;
      if (await this.options.repository.consumeGrant(grant.id, now)) return grant;
    }
    return null;
  }

  private grantsFor(request: PermissionRequestRecord, input: DecisionInput, actor: string, now: number): GrantRecord[] {
    const base = { tenantId: request.tenantId, tool: request.tool, uses: 0, createdBy: actor, createdAtMs: now, permissionRequestId: request.id, revokedAtMs: null };
    const grants: GrantRecord[] = [];
    // The held call itself: one use, bound to this exact call (OpenClaw's exec approvals are answered directly instead).
    // Under approve_for it ends with the timed grant: nothing of a time-limited approval runs after its time.
    if (input.decision !== "reject" && request.source === "gateway") {
      const onceTtlMs = input.decision === "approve_for" ? Math.min(ONCE_GRANT_TTL_MS, input.durationMs as number) : ONCE_GRANT_TTL_MS;
      grants.push({ ...base, id: sortableId("grt", now), argumentsHash: request.argumentsHash, argumentsPattern: null, sessionId: request.sessionId, expiresAtMs: now + onceTtlMs, maxUses: 1 });
    }
    if (input.decision === "approve_for") {
      grants.push({ ...base, id: sortableId("grt", now), argumentsHash: null, argumentsPattern: input.argumentsPattern ?? null, sessionId: null, expiresAtMs: now + (input.durationMs as number), maxUses: null });
    }
    return grants;
  }
}

function alreadyDecided(request: PermissionRequestRecord): ClawfleetError {
  return new ClawfleetError("CF_APPROVAL_ALREADY_DECIDED", `permission request "${request.id}" is already ${request.status}`, { details: { id: request.id, status: request.status, decision: request.decision } });
}

/**
 * Checks a decision's fields against its kind.
 * @throws ClawfleetError CF_VALIDATION_FAILED naming the offending field.
 */
export function validateDecision(input: DecisionInput): void {
  const fail = (param: string, message: string) => {
    throw new ClawfleetError("CF_VALIDATION_FAILED", message, { details: { param } });
  };
  if (input.decision === "approve_for") {
    if (input.durationMs === undefined || !Number.isInteger(input.durationMs) || input.durationMs < 1 || input.durationMs > MAX_GRANT_DURATION_MS) fail("durationMs", `approve_for needs durationMs, an integer from 1 to ${MAX_GRANT_DURATION_MS} (24 h)`);
    if (input.argumentsPattern !== undefined && (input.argumentsPattern.length === 0 || input.argumentsPattern.length > MAX_PATTERN_LENGTH)) fail("argumentsPattern", `argumentsPattern must have 1 to ${MAX_PATTERN_LENGTH} characters`);
  } else {
    if (input.durationMs !== undefined) fail("durationMs", "durationMs is only for approve_for");
    if (input.argumentsPattern !== undefined) fail("argumentsPattern", "argumentsPattern is only for approve_for");
  }
  if (input.decision === "reject" && (input.reason === undefined || input.reason.trim() === "")) fail("reason", "reject needs a reason");
  if (input.reason !== undefined && input.reason.length > MAX_REASON_LENGTH) fail("reason", `reason: at most ${MAX_REASON_LENGTH} characters`);
}
