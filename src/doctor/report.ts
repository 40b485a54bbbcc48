/**
 * Shapes of `clawfleet doctor`'s report: one entry per check, each with a status and, when it does not pass,
 * the fix to apply. `--json` prints {@link DoctorReport} as is.
 */

/** `pass`; `warn` (works, but weaker than it should be); `fail` (unsafe or broken: exit code 1); `skip` (not applicable). */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface DoctorCheck {
  /** Stable id, e.g. `tls.key-match`, `permissions.admin-token`. */
  id: string;
  status: CheckStatus;
  /** What was found, one or two sentences. */
  detail: string;
  /** What to do about it (absent when the check passes). */
  fix?: string;
}

export interface DoctorReport {
  /** False when any check failed. */
  ok: boolean;
  dataDir: string;
  checks: DoctorCheck[];
  counts: Record<CheckStatus, number>;
}

/** Builds the report from the checks. */
export function summarize(dataDir: string, checks: DoctorCheck[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status] += 1;
  return { ok: counts.fail === 0, dataDir, checks, counts };
}

/** Human-readable lines: `FAIL tls.key-match: … \n     fix: …`. */
export function formatReport(report: DoctorReport): string {
  const lines = report.checks.map((check) => `${check.status.toUpperCase().padEnd(4)} ${check.id}: ${check.detail}${check.fix ? `\n     fix: ${check.fix}` : ""}`);
  lines.push("", `${report.counts.pass} passed, ${report.counts.warn} warnings, ${report.counts.fail} failed, ${report.counts.skip} skipped (data dir ${report.dataDir})`);
  return lines.join("\n");
}
