/**
 * E-mail notifier over SMTP with nodemailer (https://nodemailer.com/smtp/). One message per notice to every
 * configured recipient; plain text. `secure: true` is TLS from the first byte (port 465); otherwise STARTTLS,
 * required unless `requireTls` is false (a local relay).
 *
 * nodemailer is imported on the first send, not at start: importing the app then leaves 1.4 MB less heap (24.6 →
 * 23.2 MB) that a gateway without e-mail notices would carry and mark at every mark-compact (docs/benchmarks.md,
 * "Session 7").
 */
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import { noticeText, NOTIFY_TIMEOUT_MS, type ApprovalNotice, type ApprovalNotifier } from "./notifier.js";

export interface EmailNotifierOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  username?: string;
  /** Read at each send (rotation without a restart). */
  password?: () => string;
  from: string;
  to: string[];
}

export class EmailNotifier implements ApprovalNotifier {
  readonly kind = "email";

  constructor(
    readonly id: string,
    private readonly options: EmailNotifierOptions,
  ) {}

  async send(notice: ApprovalNotice): Promise<void> {
    const transportOptions: SMTPTransport.Options = {
      host: this.options.host,
      port: this.options.port,
      secure: this.options.secure,
      requireTLS: !this.options.secure && this.options.requireTls,
      ignoreTLS: !this.options.secure && !this.options.requireTls,
      connectionTimeout: NOTIFY_TIMEOUT_MS,
      greetingTimeout: NOTIFY_TIMEOUT_MS,
      socketTimeout: NOTIFY_TIMEOUT_MS,
      ...(this.options.username !== undefined ? { auth: { user: this.options.username, pass: this.options.password?.() ?? "" } } : {}),
    };
    const { default: nodemailer } = await import("nodemailer");
    const transport = nodemailer.createTransport(transportOptions);
    try {
      await transport.sendMail({
        from: this.options.from,
        to: this.options.to,
        subject: `[Clawfleet] approval needed: ${notice.tool} for tenant ${notice.tenantId} (${notice.risk})`,
        text: noticeText(notice),
        headers: { "x-clawfleet-permission-request": notice.permissionRequestId },
      });
    } finally {
      transport.close();
    }
  }
}
