/**
 * What a notifier is handed and what it must do: deliver one notice about one permission request to one
 * channel, or throw (the outbox retries with backoff). Notifiers never decide anything: approvers answer only
 * through the admin API or CLI (structured decisions), never by replying in a channel.
 */
import type { PermissionRequestRecord } from "../../../contracts/approvals.js";

/** The facts approvers see; never secrets (arguments are shown, truncated). */
export interface ApprovalNotice {
  permissionRequestId: string;
  tenantId: string;
  sessionId: string;
  source: PermissionRequestRecord["source"];
  tool: string;
  /** Canonical JSON of the arguments, truncated to `MAX_NOTICE_ARGUMENT_CHARS`. */
  argumentsText: string;
  argumentsHash: string;
  risk: PermissionRequestRecord["risk"];
  reason: string;
  createdAt: string;
  deadlineAt: string;
  /** Where the request can be seen (`<consoleUrl>/admin/v1/approvals/<id>`), when a console URL is configured. */
  url: string | null;
  /** How to decide from a terminal. */
  cliHint: string;
}

/** Delivers notices to one configured channel. */
export interface ApprovalNotifier {
  /** The notifier id from the config (`governance.approvals.notify[].id`). */
  readonly id: string;
  readonly kind: "webhook" | "slack" | "telegram" | "email";
  /** @throws Error with a short reason (never a secret) when delivery failed. */
  send(notice: ApprovalNotice): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** Longest argument text put into a notice (characters). */
export const MAX_NOTICE_ARGUMENT_CHARS = 1_500;

/** A one-screen plain-text description of a notice (Slack, Telegram, e-mail body). */
export function noticeText(notice: ApprovalNotice): string {
  return [
    `Approval needed (${notice.risk} risk): tenant ${notice.tenantId} wants to run ${notice.tool}`,
    `Arguments: ${notice.argumentsText}`,
    `Why: ${notice.reason}`,
    `Request: ${notice.permissionRequestId} (${notice.source}, session ${notice.sessionId || "-"})`,
    `Auto-rejected at ${notice.deadlineAt} unless decided.`,
    notice.url === null ? null : `Review: ${notice.url}`,
    `Decide: ${notice.cliHint}`,
  ]
    .filter((line): line is string => line !== null)
    .join("\n");
}

/** Fails with the HTTP status and a short excerpt of the body (never the URL, which may hold a secret). */
export async function ensureDelivered(response: Response, what: string): Promise<void> {
  if (response.ok) {
    await response.arrayBuffer().catch(() => undefined);
    return;
  }
  const text = (await response.text().catch(() => "")).slice(0, 200);
  throw new Error(`${what} answered HTTP ${response.status}${text ? `: ${text}` : ""}`);
}

/** Per-attempt timeout of HTTP notifiers (ms). */
export const NOTIFY_TIMEOUT_MS = 10_000;
