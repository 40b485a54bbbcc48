/**
 * The platform's structured logger (pino, JSON lines on stdout). Server code takes a logger by injection and
 * makes a child per request carrying `requestId` and `tenantId`. Secrets and prompt bodies are redacted.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";
import { redactUrl } from "../http/request-hygiene.js";

export type { Logger };

/** Paths pino replaces with `[redacted]` wherever they appear in a log object. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers['x-api-key']",
  "req.headers.cookie",
  "req.headers['proxy-authorization']",
  "req.headers['x-amzn-oidc-data']",
  "req.headers['x-amzn-oidc-accesstoken']",
  "req.headers['x-csrf-token']",
  "csrfToken",
  "codeVerifier",
  "headers.authorization",
  "headers['x-api-key']",
  "apiKey",
  "key",
  "token",
  "gatewayToken",
  "virtualKey",
  "body.messages",
  "body.input",
  "*.apiKey",
  "*.token",
];

/** The shape of Fastify's request that {@link serializeRequest} reads. */
interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/**
 * How a request appears in logs (replaces Fastify's default): method, URL with credential-carrying query
 * parameters (`?token=`, `?api_key=`…) blanked by `redactUrl`, host, client address and port. Headers are not
 * logged at all.
 */
export function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return { method: request.method, url: request.url === undefined ? undefined : redactUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

/** Creates the root logger; `destination` defaults to stdout (fd 1). */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: "clawfleet" }, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, serializers: { req: serializeRequest } };
  return destination ? pino(options, destination) : pino(options);
}
