/**
 * Which request and response headers cross the ingress. The caller's credentials and any identity or
 * forwarding header it sent are stripped; the runtime's own token is injected by the ingress alone.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus ones the proxy sets itself. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

/** Headers the caller must never be able to set on a runtime: credentials and identity/forwarding claims. */
function isStrippedRequestHeader(name: string): boolean {
  return (
    HOP_BY_HOP.has(name) ||
    name === "authorization" ||
    name === "x-api-key" ||
    name === "cookie" ||
    name === "forwarded" ||
    name.startsWith("x-forwarded-") ||
    name === "x-real-ip" ||
    name.startsWith("x-openclaw-") ||
    name.startsWith("x-amzn-oidc-") ||
    name.startsWith("x-clawfleet-")
  );
}

/**
 * Headers to send to the runtime: the caller's, minus stripped ones, plus `authorization: Bearer <token>`.
 * Header names arrive lowercased from Node's parser.
 */
export function runtimeRequestHeaders(incoming: Record<string, string | string[] | undefined>, gatewayToken: string, requestId: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || isStrippedRequestHeader(name)) continue;
    headers[name] = value;
  }
  headers.authorization = `Bearer ${gatewayToken}`;
  headers["x-request-id"] = requestId;
  return headers;
}

/**
 * Response headers to pass back to the caller: the runtime's own (its Control UI's `content-security-policy`,
 * `x-frame-options`, caching…), minus hop-by-hop ones and `set-cookie`. A runtime's cookies would be set on
 * Clawfleet's origin, where they could overwrite or shadow Clawfleet's session cookie, and they would never come
 * back to the runtime anyway: the ingress does not forward the caller's `cookie` header.
 */
export function callerResponseHeaders(incoming: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === "set-cookie") continue;
    headers[name] = value;
  }
  return headers;
}
