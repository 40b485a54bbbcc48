/**
 * Tool policy on the answer: every tool call a model returns is reviewed before the caller (a tenant runtime
 * or a direct API client) can act on it, on the canonical types, so one implementation covers every client API
 * and every provider.
 *
 * - JSON: each refused call is replaced by a text part saying why (not permitted, or held for approval with
 *   the permission request id); allowed calls stay; no call left → finish reason `stop`.
 * - Stream: text and reasoning stream as they come; a tool call's events are held from its `tool_call_start`
 *   until its name and arguments are complete (`block_end`, or `finish` for providers that close blocks only
 *   there), then either released whole (start, all arguments in one delta, end) or replaced by a text block
 *   at the same index. A stream that errors or ends early drops what is held: an incomplete call never
 *   reaches the caller.
 *
 * Every verdict is audited: `tool_call_allowed` or `permission_denied` (reason `approval_pending` with the
 * permission request id for a call held for approval; the approval inbox itself records `approval_requested`
 * once per request), with tenant, actor, request id, tool, SHA-256 of the arguments (never the arguments) and
 * reason.
 *
 * Memory writes: a call the profile would allow (or hold for approval) that writes the files OpenClaw loads into
 * later sessions (`MEMORY.md`, `memory/*.md`, `AGENTS.md`…, see src/governance/safety/memory-writes.ts) is
 * scanned for prompt injection first; a detection is audited as `injection_detected` (`source: "memory_write"`)
 * and, with the profile's `injection.action: block`, the call is refused (`permission_denied`, reason
 * `memory_injection`) before any human is asked.
 */
import { createHash } from "node:crypto";
import type { CanonicalResponse, FinishReason, JsonValue, StreamEvent, TextPart, ToolCallPart } from "../../contracts/chat.js";
import type { ApprovalGate, ApprovalOutcome, AuditLog, PermissionProfile, ToolCallUnderReview } from "../../contracts/governance.js";
import { scanMemoryWrite } from "../safety/memory-writes.js";
import { reviewToolCall, type DecisionContext } from "./decide.js";

/** Who is asking and under which profile; one per model call. */
export interface ToolGuardScope {
  tenantId: string;
  /** `runtime:<tenant>` or `key:<keyId>`. */
  actor: string;
  requestId: string;
  profile: PermissionProfile;
  context: DecisionContext;
  /** The conversation id (see `ToolCallUnderReview.sessionId`); called only when a call needs approval. */
  sessionId: () => string;
}

/** The outcome for one call. */
export type GuardVerdict = { kind: "allow"; grantId?: string } | { kind: "refuse"; text: string };

/** Stable codes in refusal texts (also in src/contracts/errors.ts). */
export const TOOL_DENIED_CODE = "CF_TOOL_DENIED";
export const APPROVAL_REQUIRED_CODE = "CF_APPROVAL_REQUIRED";

/** Reviews the tool calls of one model answer. Not shared between requests. */
export class ToolCallGuard {
  /** Calls allowed because an approval grant covered them (such answers must not be cached). */
  grantedCalls = 0;
  /** Calls refused in this answer. */
  refusedCalls = 0;

  constructor(
    private readonly dependencies: { approvals: ApprovalGate; audit: AuditLog },
    readonly scope: ToolGuardScope,
  ) {}

  /** Reviews one complete call. Never throws: a failing approval inbox refuses the call (fail closed). */
  async review(call: ToolCallPart): Promise<GuardVerdict> {
    const { scope } = this;
    const reviewed = reviewToolCall(scope.profile, { name: call.name, arguments: call.arguments }, scope.context);
    const base = {
      tool: reviewed.tool,
      calledName: call.name,
      toolCallId: call.id,
      argumentsSha256: createHash("sha256").update(call.arguments).digest("hex"),
      profile: scope.profile.name,
      profileVersion: scope.profile.version,
    };
    const decision = reviewed.decision;
    if (decision.kind !== "deny" && this.blocksMemoryWrite(reviewed.tool, reviewed.arguments, call.id)) {
      const message = "it writes text into the agent's memory that tries to give the model instructions (prompt injection), which profile " + scope.profile.name + " blocks";
      this.audit("permission_denied", { ...base, reason: "memory_injection", message });
      return this.refuse(`Clawfleet blocked the tool call \`${reviewed.tool}\`: ${message}. The tool was not run. [${TOOL_DENIED_CODE}]`);
    }
    if (decision.kind === "allow") {
      this.audit("tool_call_allowed", { ...base, reason: "allowed_by_profile" });
      return { kind: "allow" };
    }
    if (decision.kind === "deny") {
      this.audit("permission_denied", { ...base, reason: decision.reason, message: decision.message });
      return this.refuse(`Clawfleet blocked the tool call \`${reviewed.tool}\`: ${decision.message}. The tool was not run. [${TOOL_DENIED_CODE}]`);
    }
    const underReview: ToolCallUnderReview = {
      tenantId: scope.tenantId,
      sessionId: scope.sessionId(),
      requestId: scope.requestId,
      toolCallId: call.id,
      calledName: call.name,
      tool: reviewed.tool,
      arguments: reviewed.arguments,
    };
    let outcome: ApprovalOutcome;
    try {
      outcome = await this.dependencies.approvals.review(underReview, { risk: decision.risk, reason: decision.message });
    } catch (error) {
      const reason = error instanceof Error ? error.message : "the approval inbox failed";
      this.audit("permission_denied", { ...base, reason: "approval_unavailable", message: reason, risk: decision.risk });
      return this.refuse(`Clawfleet blocked the tool call \`${reviewed.tool}\`: it needs approval and the approval inbox is unavailable. The tool was not run. [${TOOL_DENIED_CODE}]`);
    }
    if (outcome.kind === "granted") {
      this.grantedCalls += 1;
      this.audit("tool_call_allowed", { ...base, reason: "approval_granted", grantId: outcome.grantId, risk: decision.risk });
      return { kind: "allow", grantId: outcome.grantId };
    }
    if (outcome.kind === "pending") {
      // The inbox records `approval_requested` once, when it creates the request; each held answer is a refusal.
      this.audit("permission_denied", { ...base, reason: "approval_pending", message: decision.message, risk: decision.risk, permissionRequestId: outcome.permissionRequestId, sessionId: underReview.sessionId });
      const until = new Date(outcome.deadlineAtMs).toISOString();
      return this.refuse(
        `Clawfleet is holding the tool call \`${reviewed.tool}\` for approval (${decision.message}). Approval was requested: permission request ${outcome.permissionRequestId}, open until ${until}. The tool was not run; ask again once it is approved. [${APPROVAL_REQUIRED_CODE}]`,
      );
    }
    this.audit("permission_denied", { ...base, reason: "approval_rejected", message: outcome.reason, permissionRequestId: outcome.permissionRequestId, risk: decision.risk });
    return this.refuse(`Clawfleet blocked the tool call \`${reviewed.tool}\`: approval was rejected (${outcome.reason}; permission request ${outcome.permissionRequestId}). The tool was not run. [${TOOL_DENIED_CODE}]`);
  }

  /**
   * Scans a call that writes OpenClaw memory or bootstrap files (`scanMemoryWrite`, src/governance/safety/memory-writes.ts);
   * a detection is audited as `injection_detected` (`source: "memory_write"`). True when the profile blocks it.
   */
  private blocksMemoryWrite(tool: string, args: JsonValue, toolCallId: string): boolean {
    const write = scanMemoryWrite({ tool, arguments: args });
    if (!write?.finding.detected) return false;
    const { finding } = write;
    const blocked = this.scope.profile.injection.action === "block";
    this.dependencies.audit.record({
      type: "injection_detected",
      tenantId: this.scope.tenantId,
      actor: this.scope.actor,
      requestId: this.scope.requestId,
      details: {
        source: "memory_write",
        toolName: tool,
        toolCallId,
        target: write.target.slice(0, 200),
        action: blocked ? "blocked" : "audited",
        profile: this.scope.profile.name,
        score: finding.score,
        categories: finding.categories,
        encodings: finding.encodings,
        obfuscated: finding.obfuscated,
        excerpt: finding.excerpt.slice(0, 120),
      },
    });
    return blocked;
  }

  private refuse(text: string): GuardVerdict {
    this.refusedCalls += 1;
    return { kind: "refuse", text };
  }

  private audit(type: "tool_call_allowed" | "permission_denied", details: Record<string, JsonValue>): void {
    this.dependencies.audit.record({ type, tenantId: this.scope.tenantId, actor: this.scope.actor, requestId: this.scope.requestId, details });
  }
}

function finishAfterGuard(original: FinishReason, releasedCalls: number): FinishReason {
  return original === "tool_calls" && releasedCalls === 0 ? "stop" : original;
}

/** The answer with every refused call replaced by its refusal text. Returns `response` itself when it has no calls. */
export async function guardResponse(response: CanonicalResponse, guard: ToolCallGuard): Promise<CanonicalResponse> {
  if (!response.content.some((part) => part.type === "tool_call")) return response;
  const content: CanonicalResponse["content"] = [];
  let released = 0;
  for (const part of response.content) {
    if (part.type !== "tool_call") {
      content.push(part);
      continue;
    }
    const verdict = await guard.review(part);
    if (verdict.kind === "allow") {
      content.push(part);
      released += 1;
    } else {
      const text: TextPart = { type: "text", text: verdict.text };
      content.push(text);
    }
  }
  return { ...response, content, finishReason: finishAfterGuard(response.finishReason, released) };
}

interface HeldCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * The stream with every tool call held until complete and then released or replaced (see the module docs).
 * Pulls from `events` only as fast as it is read; returning early (the caller left) returns `events` too.
 */
export async function* guardStream(events: AsyncIterable<StreamEvent>, guard: ToolCallGuard): AsyncGenerator<StreamEvent, void, undefined> {
  const held = new Map<number, HeldCall>();
  let released = 0;
  const settle = async function* (index: number, call: HeldCall): AsyncGenerator<StreamEvent, void, undefined> {
    held.delete(index);
    const verdict = await guard.review({ type: "tool_call", id: call.id, name: call.name, arguments: call.arguments });
    if (verdict.kind === "allow") {
      released += 1;
      yield { type: "tool_call_start", index, id: call.id, name: call.name };
      if (call.arguments.length > 0) yield { type: "tool_call_delta", index, argumentsDelta: call.arguments };
    } else {
      yield { type: "text_delta", index, text: verdict.text };
    }
    yield { type: "block_end", index };
  };
  for await (const event of events) {
    switch (event.type) {
      case "tool_call_start":
        if (!held.has(event.index)) held.set(event.index, { id: event.id, name: event.name, arguments: "" });
        break;
      case "tool_call_delta": {
        const call = held.get(event.index);
        if (call) call.arguments += event.argumentsDelta;
        break;
      }
      case "block_end": {
        const call = held.get(event.index);
        if (call) yield* settle(event.index, call);
        else yield event;
        break;
      }
      case "finish":
        for (const [index, call] of [...held]) yield* settle(index, call);
        yield { ...event, finishReason: finishAfterGuard(event.finishReason, released) };
        break;
      case "error":
        held.clear();
        yield event;
        break;
      default:
        yield event;
    }
  }
}
