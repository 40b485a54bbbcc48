/**
 * Builds the configured notifiers. Secrets come from a {@link CredentialStore} keyed `<notifier id>.<field>`
 * (see {@link notifierCredentialSources}), so they are loaded at start and rotated without a restart.
 */
import type { CredentialSource } from "../../../credentials/schema.js";
import type { NotifierConfig } from "../config.js";
import { EmailNotifier } from "./email.js";
import type { ApprovalNotifier } from "./notifier.js";
import { SlackNotifier } from "./slack.js";
import { TelegramNotifier } from "./telegram.js";
import { WebhookNotifier } from "./webhook.js";

/** The credential sources the notifiers need, keyed `<notifier id>.<field>`. */
export function notifierCredentialSources(notifiers: readonly NotifierConfig[]): Record<string, CredentialSource> {
  const sources: Record<string, CredentialSource> = {};
  for (const notifier of notifiers) {
    switch (notifier.kind) {
      case "webhook":
        sources[`${notifier.id}.secret`] = notifier.secret;
        break;
      case "slack":
        sources[`${notifier.id}.webhookUrl`] = notifier.webhookUrl;
        break;
      case "telegram":
        sources[`${notifier.id}.botToken`] = notifier.botToken;
        break;
      case "email":
        if (notifier.password) sources[`${notifier.id}.password`] = notifier.password;
        break;
    }
  }
  return sources;
}

/** One notifier per config entry; `secret(key)` reads a loaded credential (`<notifier id>.<field>`). */
export function createNotifiers(notifiers: readonly NotifierConfig[], secret: (key: string) => string): Map<string, ApprovalNotifier> {
  const built = new Map<string, ApprovalNotifier>();
  for (const notifier of notifiers) {
    switch (notifier.kind) {
      case "webhook":
        built.set(notifier.id, new WebhookNotifier(notifier.id, notifier.url, () => secret(`${notifier.id}.secret`)));
        break;
      case "slack":
        built.set(notifier.id, new SlackNotifier(notifier.id, () => secret(`${notifier.id}.webhookUrl`)));
        break;
      case "telegram":
        built.set(notifier.id, new TelegramNotifier(notifier.id, notifier.apiBaseUrl, () => secret(`${notifier.id}.botToken`), notifier.chatId));
        break;
      case "email":
        built.set(
          notifier.id,
          new EmailNotifier(notifier.id, {
            host: notifier.host,
            port: notifier.port,
            secure: notifier.secure,
            requireTls: notifier.requireTls,
            ...(notifier.username !== undefined ? { username: notifier.username } : {}),
            ...(notifier.password !== undefined ? { password: () => secret(`${notifier.id}.password`) } : {}),
            from: notifier.from,
            to: notifier.to,
          }),
        );
        break;
    }
  }
  return built;
}
