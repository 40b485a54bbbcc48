/**
 * The platform's structured logger (pino, JSON lines on stdout). Server code takes a logger by injection and
 * makes a child per request carrying `requestId` and `tenantId`. Secrets and prompt bodies are redacted.
 */
import type { FastifyBaseLogger } from "fastify";
import { pino, type ChildLoggerOptions, type Logger, type LevelWithSilent } from "pino";
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

/** The log methods of a pino logger, most to least severe (pino's own level names). */
type LogMethod = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * A request's logger whose pino child is built on its first line at an enabled level, not per request. Fastify
 * makes a child for every request (to carry `reqId`); pino serializes the bindings into a string as it does, which
 * was ~1.5 % of the model gateway's CPU per call at `warn` (`bench/profile.ts`: pino's `child` and `asChindings`),
 * where most requests never log. Lines come out exactly as from `parent.child(bindings)`. Levels are checked on the
 * parent until the child exists (so a parent's level change applies to requests in flight), then on the child.
 */
export class DeferredChildLogger {
  private resolved: Logger | null = null;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  /** The pino child, built now if it was not yet. */
  private real(): Logger {
    this.resolved ??= this.parent.child(this.bindings);
    return this.resolved;
  }

  private write(method: LogMethod, args: unknown[]): void {
    if (!(this.resolved ?? this.parent).isLevelEnabled(method)) return;
    (this.real()[method] as (...values: unknown[]) => void)(...args);
  }

  get level(): string {
    return (this.resolved ?? this.parent).level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.write("trace", args);
  }
  silent(): void {}

  /** A child of the request's logger (which is then built): `bindings` are added to the request's own. */
  child(bindings: Record<string, unknown>, options?: ChildLoggerOptions): Logger {
    return this.real().child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory` for request loggers: a {@link DeferredChildLogger}, or pino's own child when the
 * route sets its own level or serializers (none of ours does) or the parent is not a pino logger.
 */
export function deferredChildLoggerFactory(logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: ChildLoggerOptions): FastifyBaseLogger {
  const pinoLogger = logger as Partial<Logger>;
  if (options.level !== undefined || options.serializers !== undefined || typeof pinoLogger.isLevelEnabled !== "function") return logger.child(bindings, options);
  return new DeferredChildLogger(logger as Logger, bindings) as unknown as FastifyBaseLogger;
}
