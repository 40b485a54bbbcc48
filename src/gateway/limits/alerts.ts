/**
 * Budget alerts to a webhook: a JSON POST, retried up to 3 times with backoff (1 s, 2 s, 4 s) on network
 * errors and 5xx. Never throws; failures are logged.
 */
import type { Logger } from "../../observability/logger.js";
import type { BudgetAlertSender } from "./admission.js";

export function createWebhookAlertSender(logger: Logger, options: { attempts?: number; timeoutMs?: number; backoffMs?: number } = {}): BudgetAlertSender {
  const attempts = options.attempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const backoffMs = options.backoffMs ?? 1_000;
  return async function sendBudgetAlert(webhook, alert) {
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const response = await fetch(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alert), signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        if (response.status < 500) {
          if (response.status >= 400) logger.warn({ status: response.status }, "budget alert webhook refused the alert");
          return;
        }
      } catch (error) {
        if (attempt === attempts) logger.error({ err: error }, "budget alert not delivered");
      }
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** (attempt - 1)));
    }
  };
}
