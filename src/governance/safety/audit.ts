/**
 * Interim audit log of the safety checks: records nothing. The real `AuditLog` (src/contracts/governance.ts)
 * is built by the profiles/audit work and handed to {@link SafetyGuard} by the composition root.
 */
import type { AuditEventInput, AuditLog } from "../../contracts/governance.js";

/** An `AuditLog` that drops every event. */
export const NOOP_AUDIT_LOG: AuditLog = Object.freeze({
  record(_event: AuditEventInput): void {},
  async flush(): Promise<void> {},
});
