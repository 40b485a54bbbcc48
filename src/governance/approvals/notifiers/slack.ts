/**
 * Slack incoming webhook notifier (https://api.slack.com/messaging/webhooks): POST `{"text": …}` as JSON to the
 * webhook URL (itself the secret). Slack answers 200 `ok`, or an error status with a short text.
 */
import { ensureDelivered, noticeText, NOTIFY_TIMEOUT_MS, type ApprovalNotice, type ApprovalNotifier } from "./notifier.js";

/** Slack's mrkdwn needs `&`, `<`, `>` escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export class SlackNotifier implements ApprovalNotifier {
  readonly kind = "slack";

  constructor(
    readonly id: string,
    private readonly webhookUrl: () => string,
  ) {}

  async send(notice: ApprovalNotice): Promise<void> {
    const response = await fetch(this.webhookUrl(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: escapeSlackText(noticeText(notice)) }),
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    await ensureDelivered(response, "Slack");
  }
}
