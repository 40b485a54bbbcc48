/**
 * Security headers on every response (issue 5, "Hardening"), as a Fastify `onSend` hook (and, for replies a
 * handler hijacks, as a list that handler writes itself).
 *
 * - `x-content-type-options: nosniff`, `referrer-policy: no-referrer`, `x-frame-options: DENY`,
 *   `cross-origin-resource-policy: same-origin` everywhere.
 * - `content-security-policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'` on Clawfleet's own
 *   responses (JSON and text: nothing to load). Not on `/t/{tenant}/…`: those carry the runtime's own UI and
 *   its own policy, which is left as the runtime sent it.
 * - `strict-transport-security: max-age=31536000` only when served over TLS (RFC 6797 §7.2: not over HTTP).
 */
import type { FastifyReply, FastifyRequest } from "fastify";

/** CSP of Clawfleet's own (non-proxied) responses. */
export const CLAWFLEET_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** HSTS under TLS: one year (RFC 6797). */
export const STRICT_TRANSPORT_SECURITY = "max-age=31536000";

const COMMON_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
  ["x-frame-options", "DENY"],
  ["cross-origin-resource-policy", "same-origin"],
];

/** True for ingress paths (`/t/{tenant}/…`) whose responses come from a tenant runtime. */
export function isProxiedPath(url: string): boolean {
  return /^\/t\/[^/?]+(\/|\?|$)/.test(url);
}

/**
 * Every security header of one of Clawfleet's own (non-proxied) responses, as `[name, value]` pairs: for answers
 * written straight to the raw response after `reply.hijack()` (the model gateway's streamed and passed-through
 * answers), which Fastify's `onSend` hooks never see. `tls`: whether this server terminates TLS (adds HSTS).
 */
export function ownResponseSecurityHeaders(options: { tls: boolean }): ReadonlyArray<readonly [string, string]> {
  return [...COMMON_HEADERS, ["content-security-policy", CLAWFLEET_CONTENT_SECURITY_POLICY], ...(options.tls ? [["strict-transport-security", STRICT_TRANSPORT_SECURITY] as const] : [])];
}

/**
 * `tls`: whether this server terminates TLS (decides HSTS). Callback style: no promise per response. Replies
 * hijacked by their handler skip this hook; those handlers write {@link ownResponseSecurityHeaders} themselves.
 */
export function securityHeaders(options: { tls: boolean }) {
  return function addSecurityHeaders(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload: unknown) => void): void {
    for (const [name, value] of COMMON_HEADERS) if (!reply.hasHeader(name)) reply.header(name, value);
    if (!isProxiedPath(request.url)) reply.header("content-security-policy", CLAWFLEET_CONTENT_SECURITY_POLICY);
    if (options.tls) reply.header("strict-transport-security", STRICT_TRANSPORT_SECURITY);
    done(null, payload);
  };
}
