/**
 * Governance contracts: permission profiles, tool-call decisions, human approvals and the audit trail.
 * Pure types, no behaviour; implemented in `src/governance/` and `src/store/`.
 *
 * Vocabulary (OpenClaw's, see ../shared/openclaw/FACTS.md and OpenClaw's docs/gateway/config-tools/tool-policy.md):
 * a *tool* is an OpenClaw tool name (`exec`, `read`, `web_fetch`…); a *group* is `group:<name>` (`group:fs`…);
 * the *meta-tool* `tool_call {id, args}` calls the tool named by `id` with `args`, so every decision is made on
 * the *effective* tool and arguments, never on the outer name alone.
 *
 * Times are epoch milliseconds.
 */
import type { JsonValue } from "./chat.js";

/** `^[a-z0-9][a-z0-9-]{0,62}$`, like tenant ids. */
export type ProfileName = string;

/** What happens to an exec command that matches no allow/deny rule. */
export type ExecDefaultAction = "allow" | "deny" | "approval";

/**
 * A permission profile: what a tenant's agents may do. Assigned per tenant (`TenantRecord.profile`).
 *
 * Tool decision order (first match wins): always-blocked (no profile can allow these) → `tools.deny` →
 * `tools.approval` → `tools.allow` → anything else is denied. Entries are tool names, groups (`group:fs`) or
 * `*` (every tool not otherwise blocked). For `exec` (and its alias `bash`), an allowed call is further checked
 * against `exec`; for file tools, path arguments against `paths.roots`.
 */
export interface PermissionProfile {
  name: ProfileName;
  /** 1 for the first stored version, +1 on every change. Built-in presets are version 0. */
  version: number;
  description: string;
  tools: {
    allow: string[];
    deny: string[];
    /** Tools that run only after a human approved the exact call (or a grant covers it). */
    approval: string[];
  };
  /**
   * Roots that path arguments of file tools must stay inside, after canonicalization. `~workspace` is the
   * tenant runtime's workspace directory; other entries are absolute paths as the runtime sees them.
   * Relative paths in tool arguments resolve against the workspace.
   */
  paths: { roots: string[] };
  /**
   * Exec command rules. Patterns are matched against the whole command line after whitespace normalization:
   * `*` matches any run of characters except the command separators `;`, `&`, `|`, newline, backtick and
   * `$(`; a command containing separators is split and every part must pass. Deny wins over allow.
   */
  exec: { allow: string[]; deny: string[]; defaultAction: ExecDefaultAction };
  /** What a prompt-injection detection does: only audit it, or also block the request/tool result. */
  injection: { action: "audit" | "block" };
  /** Who last changed it (`admin`, `approval:<requestId>`…) and when; absent for presets. */
  updatedBy?: string;
  updatedAtMs?: number;
}

/** Input to create or replace a stored profile (the store assigns `version`, `updatedAtMs`). */
export type PermissionProfileInput = Omit<PermissionProfile, "version" | "updatedAtMs">;

/** Risk of a tool call, shown to approvers. */
export type RiskLevel = "low" | "medium" | "high" | "critical";

/** A tool call the model produced, as the gateway reviews it before the runtime may act on it. */
export interface ToolCallUnderReview {
  tenantId: string;
  /**
   * The conversation the call belongs to: the `x-openclaw-session-key` request header when present, else the
   * request's `user`, else a fingerprint of the conversation (SHA-256 of its first user message), so it is
   * stable across the model calls of one conversation.
   */
  sessionId: string;
  /** The gateway request id (`x-request-id`). */
  requestId: string;
  /** The call id the model gave it. */
  toolCallId: string;
  /** The name the model called (`tool_call` for the meta-tool). */
  calledName: string;
  /** The effective tool after unwrapping meta-tools (`tool_call {id:"exec"}` → `exec`). */
  tool: string;
  /** The effective arguments (parsed JSON; `{}` when the model sent none). */
  arguments: JsonValue;
}

/** Why a call was denied; stable values, used in audit events and refusal texts. */
export type DenyReason =
  | "always_blocked"
  | "denied_by_profile"
  | "not_allowed_by_profile"
  | "path_outside_roots"
  | "exec_command_denied"
  | "invalid_arguments"
  | "approval_rejected"
  /** The call waits for a human decision (its permission request is pending); not run now. */
  | "approval_pending"
  /** The call writes OpenClaw memory (MEMORY.md, bootstrap files…) with text that tries to instruct the model, and the profile's `injection.action` is `block`. */
  | "memory_injection";

/** The profile's verdict on one tool call. */
export type ToolDecision =
  | { kind: "allow" }
  | { kind: "deny"; reason: DenyReason; message: string }
  | { kind: "approval"; risk: RiskLevel; message: string };

/** What the approval inbox says about a call that needs approval. */
export type ApprovalOutcome =
  /** A grant covers it (approve-once grants are consumed by this answer). */
  | { kind: "granted"; grantId: string }
  /** A permission request exists (created now or earlier for the same call) and awaits a decision. */
  | { kind: "pending"; permissionRequestId: string; deadlineAtMs: number }
  /** The request for this exact call was rejected (by a human or at its deadline). */
  | { kind: "rejected"; permissionRequestId: string; reason: string };

/** The approval inbox as the gateway sees it. Implemented in `src/governance/approvals/`. */
export interface ApprovalGate {
  /**
   * Looks for a grant covering `call`; else finds or creates the permission request for it and notifies
   * approvers. Never throws for a missing grant; throws ClawfleetError CF_STATE_UNAVAILABLE when storage fails
   * (the gateway then fails closed).
   */
  review(call: ToolCallUnderReview, context: { risk: RiskLevel; reason: string }): Promise<ApprovalOutcome>;
}

/** The profile in force for a tenant, from the in-memory snapshot (O(1), no I/O). */
export interface ProfileResolver {
  /** The tenant's profile; the `readonly-agent` preset when the tenant names an unknown profile (fail closed). */
  forTenant(tenantId: string, profileName: string): PermissionProfile;
}

/** Audit event types (append-only trail). */
export type AuditEventType =
  | "agent_invocation"
  | "tool_call_allowed"
  | "permission_denied"
  | "approval_requested"
  | "approval_decision"
  | "profile_changed"
  | "injection_detected"
  | "loop_stopped"
  | "key_created"
  | "key_revoked";

/** One audit event. `id` sorts in append order (it is the cursor for pagination). */
export interface AuditEvent {
  id: string;
  type: AuditEventType;
  /** Null for platform-wide events (e.g. a preset-independent profile change). */
  tenantId: string | null;
  /** Who did it: `runtime:<tenant>`, `key:<keyId>`, `admin`, `approver:<name>`, `system`. */
  actor: string;
  requestId: string | null;
  atMs: number;
  /** Type-specific fields (tool, arguments hash, decision, reason…); never secrets or whole prompts. */
  details: Record<string, JsonValue>;
}

/** What callers hand to the audit log; the log assigns `id` and (unless given) `atMs`. */
export type AuditEventInput = Omit<AuditEvent, "id" | "atMs"> & { atMs?: number };

/**
 * The audit log the rest of the platform writes to. `record` never throws and never waits for storage
 * (events are persisted in order, in batches, and also emitted as JSON lines); `flush` waits for everything
 * recorded so far to be stored.
 */
export interface AuditLog {
  record(event: AuditEventInput): void;
  flush(): Promise<void>;
}
