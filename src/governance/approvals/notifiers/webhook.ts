/**
 * Generic webhook notifier: POSTs the notice as JSON, signed like Stripe's webhooks
 * (https://docs.stripe.com/webhooks#verify-manually):
 *
 *   x-clawfleet-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the raw body bytes, compares in constant time, and rejects timestamps
 * older than its tolerance (replay protection). {@link verifyWebhookSignature} does exactly that.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ensureDelivered, NOTIFY_TIMEOUT_MS, type ApprovalNotice, type ApprovalNotifier } from "./notifier.js";

export const SIGNATURE_HEADER = "x-clawfleet-signature";

/** The header value for `body` signed with `secret` at `timestampSeconds`. */
export function signWebhookBody(body: string, secret: string, timestampSeconds: number): string {
  const signature = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${signature}`;
}

/**
 * Verifies a signature header for a raw body. True when one `v1` signature matches and `t` is within
 * `toleranceSeconds` (default 300) of `nowMs`.
 */
export function verifyWebhookSignature(header: string | undefined, body: string, secret: string, options: { toleranceSeconds?: number; nowMs?: number } = {}): boolean {
  if (header === undefined) return false;
  const parts = header.split(",").map((part) => part.trim().split("="));
  const timestamp = Number(parts.find(([key]) => key === "t")?.[1]);
  if (!Number.isInteger(timestamp)) return false;
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex"));
  return parts.some(([key, value]) => {
    if (key !== "v1" || value === undefined) return false;
    const presented = Buffer.from(value);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  });
}

export class WebhookNotifier implements ApprovalNotifier {
  readonly kind = "webhook";

  /** `secret` is read at each send (rotation without a restart). */
  constructor(
    readonly id: string,
    private readonly url: string,
    private readonly secret: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  async send(notice: ApprovalNotice): Promise<void> {
    const body = JSON.stringify({ type: "approval.requested", ...notice });
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signWebhookBody(body, this.secret(), Math.floor(this.now() / 1000)) },
      body,
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    await ensureDelivered(response, "the webhook");
  }
}
