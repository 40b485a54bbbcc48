/**
 * The platform's structured logger (pino, JSON lines on stdout). Server code takes a logger by injection and
 * makes a child per request carrying `requestId` and `tenantId`. Secrets and prompt bodies are redacted.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/** Paths pino replaces with `[redacted]` wherever they appear in a log object. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers['x-api-key']",
  "req.headers.cookie",
  "req.headers['x-amzn-oidc-data']",
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

/** Creates the root logger; `destination` defaults to stdout (fd 1). */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: "clawfleet" }, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
