/**
 * Telegram Bot API notifier: `POST <apiBaseUrl>/bot<token>/sendMessage {chat_id, text}`
 * (https://core.telegram.org/bots/api#sendmessage). Telegram answers `{"ok": true, …}` or
 * `{"ok": false, "error_code", "description"}`; plain text (no parse mode), so nothing needs escaping.
 */
import { noticeText, NOTIFY_TIMEOUT_MS, type ApprovalNotice, type ApprovalNotifier } from "./notifier.js";

/** Telegram's limit on one message's text (characters). */
const MAX_TELEGRAM_TEXT = 4096;

export class TelegramNotifier implements ApprovalNotifier {
  readonly kind = "telegram";

  constructor(
    readonly id: string,
    private readonly apiBaseUrl: string,
    private readonly botToken: () => string,
    private readonly chatId: string | number,
  ) {}

  async send(notice: ApprovalNotice): Promise<void> {
    const response = await fetch(`${this.apiBaseUrl.replace(/\/+$/, "")}/bot${this.botToken()}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: this.chatId, text: noticeText(notice).slice(0, MAX_TELEGRAM_TEXT), disable_web_page_preview: true }),
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    let body: { ok?: unknown; description?: unknown } = {};
    try {
      body = (await response.json()) as typeof body;
    } catch {
      // not JSON: judged by the status below
    }
    if (!response.ok || body.ok !== true) throw new Error(`Telegram answered HTTP ${response.status}${typeof body.description === "string" ? `: ${body.description.slice(0, 200)}` : ""}`);
  }
}
