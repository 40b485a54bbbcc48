/**
 * Interim implementations of the governance interfaces, good enough to enforce tool policy before the stored
 * profiles (`policy` branch) and the approval inbox (`approvals` branch) are merged: a resolver over the
 * built-in presets, an approval gate that rejects every request, and an in-memory audit log.
 */
import type { ApprovalGate, ApprovalOutcome, AuditEvent, AuditEventInput, AuditLog, PermissionProfile, ProfileResolver } from "../../contracts/governance.js";
import { FALLBACK_PROFILE_NAME, PRESET_PROFILES } from "../profiles/presets.js";

/** Resolves a tenant's profile among the built-in presets; an unknown name gets `readonly-agent` (fail closed). */
export class PresetProfileResolver implements ProfileResolver {
  forTenant(_tenantId: string, profileName: string): PermissionProfile {
    return PRESET_PROFILES.get(profileName) ?? (PRESET_PROFILES.get(FALLBACK_PROFILE_NAME) as PermissionProfile);
  }
}

/** An approval gate with no inbox behind it: every call that needs approval is rejected, with that reason. */
export class NoInboxApprovalGate implements ApprovalGate {
  async review(): Promise<ApprovalOutcome> {
    return { kind: "rejected", permissionRequestId: "none", reason: "no approval inbox configured" };
  }
}

/**
 * Keeps the latest `capacity` audit events in memory (oldest dropped first) and hands each to `onEvent`
 * (e.g. a logger line). `record` never throws; `flush` has nothing to wait for.
 */
export class MemoryAuditLog implements AuditLog {
  private readonly events: AuditEvent[] = [];
  private sequence = 0;

  constructor(
    private readonly options: { capacity?: number; now?: () => number; onEvent?: (event: AuditEvent) => void } = {},
  ) {}

  record(input: AuditEventInput): void {
    this.sequence += 1;
    const event: AuditEvent = {
      id: String(this.sequence).padStart(12, "0"),
      type: input.type,
      tenantId: input.tenantId,
      actor: input.actor,
      requestId: input.requestId,
      atMs: input.atMs ?? (this.options.now ?? Date.now)(),
      details: input.details,
    };
    this.events.push(event);
    if (this.events.length > (this.options.capacity ?? 10_000)) this.events.shift();
    try {
      this.options.onEvent?.(event);
    } catch {
      // an observer must not break the hot path
    }
  }

  async flush(): Promise<void> {}

  /** The events kept, oldest first (a copy). */
  list(): AuditEvent[] {
    return [...this.events];
  }
}
