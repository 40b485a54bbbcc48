/**
 * The {@link ExecCommandPolicy} OpenClaw's own exec approvals are decided by (`tools.exec.mode: "ask"`): the
 * tenant's permission profile, through the tool-policy engine, plus a short **hand-off** from the model gateway so
 * that a human is not asked twice for one command.
 *
 * Verdict for one command a runtime asks about (`exec.approval.requested.request.command`):
 * 1. the profile does not permit the `exec` tool at all → `deny`;
 * 2. the profile's exec rules (`checkCommand`, src/governance/tool-policy/exec-rules.ts): a deny rule matches →
 *    `deny`; every part matches an allow rule → `allow`;
 * 3. otherwise the profile's `exec.defaultAction` (`deny` → `deny`, `allow` → `allow`), and for `approval`:
 *    when the model gateway released an `exec` call with exactly this command for this tenant because an approval
 *    grant covered it (see {@link withExecHandoff}) within the last `windowMs`, `allow` (one hand-off per released
 *    call); else `approval` (the bridge asks a human through the inbox).
 *
 * Why the hand-off is safe: it is created only when a human-made grant was consumed by the gateway for that exact
 * call; it matches the tenant and the command string exactly (no patterns), expires after `windowMs` (default
 * 2 min; the runtime asks within milliseconds of receiving the call), and is used at most once per released call.
 * It lives in this process's memory: a runtime's model calls reach the model gateway of the replica that runs the
 * runtime (and holds its approval client), so both sides meet here. When they do not (a hand-off missed or
 * expired), the runtime's question goes to a human again: the failure mode is a second question, never a command
 * run without approval.
 */
import type { JsonValue } from "../../contracts/chat.js";
import type { ApprovalGate, AuditLog, PermissionProfile } from "../../contracts/governance.js";
import { toolLevelVerdict } from "../tool-policy/decide.js";
import { checkCommand } from "../tool-policy/exec-rules.js";
import type { ExecCommandPolicy, ExecCommandVerdict } from "./ports.js";

/** Default hand-off window (ms): how long a gateway-approved exec command may be approved again at the runtime. */
export const DEFAULT_EXEC_HANDOFF_MS = 120_000;
/** Most hand-offs remembered at once (oldest dropped first); bounds memory under a flood of approved calls. */
const MAX_HANDOFFS = 10_000;

/**
 * Commands the model gateway released because an approval grant covered them, per tenant, each usable once by
 * the runtime's own exec approval within a short window. In memory, O(1) per operation.
 */
export class GatewayExecHandoff {
  /** key (tenant NUL command) → expiry times (ms), one per released call, oldest first. */
  private readonly entries = new Map<string, number[]>();
  private size = 0;

  /** @param windowMs how long a hand-off stays usable (ms); 0 disables hand-offs (the runtime's question goes to a human). */
  constructor(
    readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Records that the gateway released `exec` with `command` for `tenantId` under an approval grant. */
  remember(tenantId: string, command: string): void {
    if (this.windowMs <= 0) return;
    const key = keyOf(tenantId, command);
    const expiries = this.entries.get(key) ?? [];
    expiries.push(this.now() + this.windowMs);
    this.entries.delete(key);
    this.entries.set(key, expiries);
    this.size += 1;
    while (this.size > MAX_HANDOFFS) this.dropOldest();
  }

  /** Uses one unexpired hand-off for exactly this tenant and command; false when there is none. */
  take(tenantId: string, command: string): boolean {
    const key = keyOf(tenantId, command);
    const expiries = this.entries.get(key);
    if (!expiries) return false;
    const now = this.now();
    while (expiries.length > 0 && (expiries[0] as number) <= now) {
      expiries.shift();
      this.size -= 1;
    }
    const taken = expiries.length > 0;
    if (taken) {
      expiries.shift();
      this.size -= 1;
    }
    if (expiries.length === 0) this.entries.delete(key);
    return taken;
  }

  /** Unexpired hand-offs held (for tests and metrics). */
  pending(): number {
    const now = this.now();
    let count = 0;
    for (const expiries of this.entries.values()) count += expiries.filter((expiry) => expiry > now).length;
    return count;
  }

  private dropOldest(): void {
    const first = this.entries.keys().next();
    if (first.done) return;
    const expiries = this.entries.get(first.value) as number[];
    expiries.shift();
    this.size -= 1;
    if (expiries.length === 0) this.entries.delete(first.value);
  }
}

function keyOf(tenantId: string, command: string): string {
  return `${tenantId}\u0000${command}`;
}

/** The `command` of an `exec` call's arguments, or null. */
function execCommandOf(args: JsonValue): string | null {
  if (typeof args !== "object" || args === null || Array.isArray(args)) return null;
  return typeof args.command === "string" ? args.command : null;
}

/**
 * Wraps the approval gate the model gateway asks so that every `exec` call released under a grant leaves a
 * hand-off for the runtime's own exec approval of the same command. Everything else passes through unchanged.
 */
export function withExecHandoff(gate: ApprovalGate, handoff: GatewayExecHandoff): ApprovalGate {
  return {
    async review(call, context) {
      const outcome = await gate.review(call, context);
      if (outcome.kind === "granted" && call.tool === "exec") {
        const command = execCommandOf(call.arguments);
        if (command !== null) handoff.remember(call.tenantId, command);
      }
      return outcome;
    },
  };
}

/** What {@link createProfileExecPolicy} needs. */
export interface ProfileExecPolicyOptions {
  /** The profile in force for a tenant (the resolver over the snapshot; unknown tenants get the fallback). */
  profileOf: (tenantId: string) => PermissionProfile;
  handoff: GatewayExecHandoff;
  audit: AuditLog;
}

/**
 * The profile-based {@link ExecCommandPolicy} (see the module comment for the order). Synchronous, no I/O.
 * Audits its own `allow` / `deny` verdicts (`tool_call_allowed` / `permission_denied`, `source: "openclaw-exec"`,
 * actor `runtime:<tenant>:exec`; the command itself is not recorded); `approval` is audited by the inbox when
 * the permission request is created.
 */
export function createProfileExecPolicy(options: ProfileExecPolicyOptions): ExecCommandPolicy {
  const record = (tenantId: string, verdict: "allow" | "deny", profile: PermissionProfile, reason: string) => {
    options.audit.record({
      type: verdict === "allow" ? "tool_call_allowed" : "permission_denied",
      tenantId,
      actor: `runtime:${tenantId}:exec`,
      requestId: null,
      details: { source: "openclaw-exec", tool: "exec", reason, profile: profile.name, profileVersion: profile.version },
    });
  };
  return {
    decide(tenantId: string, command: string): ExecCommandVerdict {
      const profile = options.profileOf(tenantId);
      if (toolLevelVerdict(profile, "exec").kind === "deny") {
        record(tenantId, "deny", profile, "not_allowed_by_profile");
        return "deny";
      }
      const verdict = checkCommand(command, profile.exec);
      if (verdict.kind === "deny") {
        record(tenantId, "deny", profile, "exec_command_denied");
        return "deny";
      }
      if (verdict.kind === "allow") {
        record(tenantId, "allow", profile, "allowed_by_profile");
        return "allow";
      }
      if (options.handoff.take(tenantId, command)) {
        record(tenantId, "allow", profile, "gateway_approval_handoff");
        return "allow";
      }
      return "approval";
    },
  };
}
