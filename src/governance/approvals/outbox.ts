/**
 * Delivery of approval notifications from the stored outbox, with retries: every attempt is recorded
 * (`attempts`, `last_error`), the next one is due after an exponential backoff (`initialBackoffMs` × 2^(n-1),
 * capped at `maxBackoffMs`), and after `maxAttempts` the notification is given up (visible in the admin API).
 * Claims are conditional updates, so several replicas never deliver one notification at once. Nothing here runs
 * on the gateway's request path: {@link NotificationOutbox.kick} only schedules a pass.
 */
import type { ApprovalRepository, NotificationRecord, PermissionRequestRecord } from "../../contracts/approvals.js";
import type { Logger } from "../../observability/logger.js";
import { canonicalJson } from "./canonical.js";
import { MAX_NOTICE_ARGUMENT_CHARS, type ApprovalNotice, type ApprovalNotifier } from "./notifiers/notifier.js";

export interface NotificationOutboxOptions {
  repository: ApprovalRepository;
  notifiers: ReadonlyMap<string, ApprovalNotifier>;
  now: () => number;
  logger: Pick<Logger, "warn" | "info">;
  /** Base URL for links in notices (`<consoleUrl>/admin/v1/approvals/<id>`). */
  consoleUrl?: string;
  /** First retry delay (ms), default 2_000. */
  initialBackoffMs?: number;
  /** Longest retry delay (ms), default 300_000. */
  maxBackoffMs?: number;
  /** Attempts before giving up, default 8. */
  maxAttempts?: number;
  /** How long a claimed notification is reserved for this replica's attempt (ms), default 60_000. */
  leaseMs?: number;
}

/** The notice for a request (arguments as canonical JSON, truncated). */
export function noticeFor(request: PermissionRequestRecord, consoleUrl: string | undefined): ApprovalNotice {
  const argumentsText = canonicalJson(request.arguments);
  return {
    permissionRequestId: request.id,
    tenantId: request.tenantId,
    sessionId: request.sessionId,
    source: request.source,
    tool: request.tool,
    argumentsText: argumentsText.length > MAX_NOTICE_ARGUMENT_CHARS ? `${argumentsText.slice(0, MAX_NOTICE_ARGUMENT_CHARS)}…` : argumentsText,
    argumentsHash: request.argumentsHash,
    risk: request.risk,
    reason: request.reason,
    createdAt: new Date(request.createdAtMs).toISOString(),
    deadlineAt: new Date(request.deadlineAtMs).toISOString(),
    url: consoleUrl === undefined ? null : `${consoleUrl.replace(/\/+$/, "")}/admin/v1/approvals/${request.id}`,
    cliHint: `clawfleet approvals approve ${request.id} | clawfleet approvals reject ${request.id} --reason "…"`,
  };
}

export class NotificationOutbox {
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxAttempts: number;
  private readonly leaseMs: number;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly options: NotificationOutboxOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 2_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 300_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  /** Schedules a delivery pass soon (never blocks the caller). */
  kick(): void {
    if (this.closed) return;
    setImmediate(() => void this.deliverDue().catch((error: unknown) => this.options.logger.warn({ err: error }, "approval notification pass failed")));
  }

  /** Delivers every due notification; concurrent calls share one pass (and trigger one more after it). */
  deliverDue(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        for (;;) {
          const claimed = await this.options.repository.claimDueNotifications(this.options.now(), this.leaseMs, 20);
          if (claimed.length === 0) break;
          await Promise.all(claimed.map((notification) => this.deliver(notification)));
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The delay before attempt `attempts + 1` (ms). */
  backoffAfter(attempts: number): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  /** Stops scheduling passes and waits for the one in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    await Promise.all([...this.options.notifiers.values()].map((notifier) => notifier.close?.()));
  }

  private async deliver(notification: NotificationRecord): Promise<void> {
    const repository = this.options.repository;
    const request = await repository.getRequest(notification.permissionRequestId);
    if (!request || request.status !== "pending") {
      await repository.markNotificationFailed(notification.id, "the request was decided before delivery", null);
      return;
    }
    const notifier = this.options.notifiers.get(notification.channel);
    if (!notifier) {
      await repository.markNotificationFailed(notification.id, `notifier "${notification.channel}" is not configured`, null);
      return;
    }
    try {
      await notifier.send(noticeFor(request, this.options.consoleUrl));
      await repository.markNotificationDelivered(notification.id, this.options.now());
      this.options.logger.info({ permissionRequestId: request.id, channel: notification.channel, attempts: notification.attempts }, "approval notification delivered");
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const giveUp = notification.attempts >= this.maxAttempts;
      const next = giveUp ? null : this.options.now() + this.backoffAfter(notification.attempts);
      await repository.markNotificationFailed(notification.id, reason, next);
      this.options.logger.warn({ permissionRequestId: request.id, channel: notification.channel, attempts: notification.attempts, reason, nextAttemptAtMs: next }, giveUp ? "approval notification given up" : "approval notification failed; will retry");
    }
  }
}
