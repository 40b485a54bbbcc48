/**
 * Small ports the approval inbox depends on, implemented elsewhere and wired by `src/deps.ts`.
 */
import type { AuditEventInput, AuditLog } from "../../contracts/governance.js";

/**
 * Changes a tenant's permission profile for "approve permanently". Implemented by the profile store (policy
 * branch): it adds `tool` to the allow list of the tenant's profile (copying a preset into a stored profile
 * when needed), records a `profile_changed` audit event with `actor`, and publishes the new snapshot.
 * @throws ClawfleetError when the tenant is unknown or the profile cannot be changed; the request then stays pending.
 */
export interface ProfileEditor {
  allowToolPermanently(tenantId: string, tool: string, actor: string): Promise<void>;
}

/** What the tenant's profile says about one exec command an OpenClaw runtime asks to run. */
export type ExecCommandVerdict = "allow" | "deny" | "approval";

/**
 * The tenant profile's exec rules (`PermissionProfile.exec`), applied to OpenClaw's own exec approvals.
 * Implemented by the tool-policy engine (enforce branch) from the in-memory profile snapshot: synchronous, no I/O.
 */
export interface ExecCommandPolicy {
  decide(tenantId: string, command: string): ExecCommandVerdict;
}

/** Interim {@link ProfileEditor} until profiles are stored: refuses with CF_NOT_IMPLEMENTED. */
export class UnavailableProfileEditor implements ProfileEditor {
  constructor(private readonly fail: () => Error) {}

  async allowToolPermanently(): Promise<void> {
    throw this.fail();
  }
}

/** Interim {@link ExecCommandPolicy}: every command goes to a human (the safe default for `exec.mode: ask`). */
export const ASK_EVERY_COMMAND: ExecCommandPolicy = { decide: () => "approval" };

/** Interim {@link AuditLog} until the audit store is wired: drops events. */
export class NoopAuditLog implements AuditLog {
  record(_event: AuditEventInput): void {}

  async flush(): Promise<void> {}
}
