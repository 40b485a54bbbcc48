/**
 * Configuration of the approval inbox (`governance.approvals` in `clawfleet.yaml`). Secrets (webhook signing
 * secrets, Slack webhook URLs, Telegram bot tokens, SMTP passwords) are never written in the file: like provider
 * keys they are references (`{source: env|file|aws-secrets-manager|aws-ssm, …}`, see `src/credentials/schema.ts`),
 * loaded at start and rotated without a restart.
 */
import { z } from "zod";
import { credentialSourceSchema } from "../../credentials/schema.js";

const notifierId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "notifier id: lowercase letters, digits, '-' or '_'");
const httpUrl = z.url({ protocol: /^https?$/ });

/** A generic webhook: JSON POST signed with HMAC-SHA256 (`x-clawfleet-signature: t=<unix>,v1=<hex>`). */
export const webhookNotifierSchema = z.strictObject({
  id: notifierId,
  kind: z.literal("webhook"),
  url: httpUrl.describe("Where the JSON notification is POSTed"),
  secret: credentialSourceSchema.describe("HMAC-SHA256 signing secret"),
});

/** A Slack incoming webhook (https://api.slack.com/messaging/webhooks); the URL itself is the secret. */
export const slackNotifierSchema = z.strictObject({
  id: notifierId,
  kind: z.literal("slack"),
  webhookUrl: credentialSourceSchema.describe("The incoming webhook URL (https://hooks.slack.com/services/…)"),
});

/** Telegram Bot API `sendMessage` (https://core.telegram.org/bots/api#sendmessage). */
export const telegramNotifierSchema = z.strictObject({
  id: notifierId,
  kind: z.literal("telegram"),
  botToken: credentialSourceSchema.describe("The bot token from @BotFather"),
  chatId: z.union([z.string().min(1), z.number().int()]).describe("Chat, group or channel id (or @channelusername)"),
  apiBaseUrl: httpUrl.default("https://api.telegram.org").describe("Bot API base URL (a local Bot API server, a test fake)"),
});

/** E-mail through an SMTP server (nodemailer). */
export const emailNotifierSchema = z.strictObject({
  id: notifierId,
  kind: z.literal("email"),
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535).default(587),
  secure: z.boolean().default(false).describe("true: TLS from the first byte (port 465); false: STARTTLS when offered"),
  requireTls: z.boolean().default(true).describe("Refuse to send without STARTTLS when secure is false"),
  username: z.string().min(1).optional(),
  password: credentialSourceSchema.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
});

export const notifierSchema = z.discriminatedUnion("kind", [webhookNotifierSchema, slackNotifierSchema, telegramNotifierSchema, emailNotifierSchema]);
export type NotifierConfig = z.infer<typeof notifierSchema>;

/** Longest time an undecided request may wait: 24 h (ms). */
export const MAX_APPROVAL_TIMEOUT_MS = 86_400_000;

export const approvalsConfigSchema = z
  .object({
    timeoutMs: z.coerce.number().int().min(1_000).max(MAX_APPROVAL_TIMEOUT_MS).default(1_800_000).describe("Undecided permission requests are rejected after this long"),
    sweepIntervalMs: z.coerce.number().int().min(100).max(600_000).default(5_000).describe("How often deadlines, the notification outbox and runtime resolutions are checked"),
    consoleUrl: httpUrl.optional().describe("Base URL shown in notifications (e.g. https://fleet.example.com); links go to /admin/v1/approvals/{id}"),
    notify: z.array(notifierSchema).default([]).describe("Where approvers are notified of new permission requests"),
    execHandoffMs: z.coerce.number().int().min(0).max(600_000).default(120_000).describe("After the model gateway released an exec call under an approval grant, how long the runtime's own exec approval of exactly that command is allowed without asking again (one use; 0 = ask again)"),
  })
  .strict()
  .superRefine((value, context) => {
    const seen = new Set<string>();
    value.notify.forEach((notifier, index) => {
      if (seen.has(notifier.id)) context.addIssue({ code: "custom", message: `duplicate notifier id "${notifier.id}"`, path: ["notify", index, "id"] });
      seen.add(notifier.id);
    });
  });

export type ApprovalsConfig = z.infer<typeof approvalsConfigSchema>;
