/**
 * Pure builders of the `ClawfleetError`s every provider adapter throws (rules in `src/contracts/provider.ts`):
 * `CF_UPSTREAM_UNREACHABLE`, `CF_UPSTREAM_TIMEOUT`, and `CF_UPSTREAM_ERROR` with the upstream's status,
 * `retryAfterSeconds` and `details: {provider, upstreamStatus, upstreamType, upstreamMessage, upstreamRequestId?}`.
 * No I/O and no clock: the caller passes the current time where a date must be compared.
 */
import { ClawfleetError } from "../../contracts/errors.js";

/** Response headers as undici and node:http give them (lower-case names). */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Longest upstream message kept in error details, in characters. */
const MAX_UPSTREAM_MESSAGE_CHARACTERS = 1_000;

/** What might be a credential inside an upstream message (OpenAI echoes a masked key on 401). */
const SECRET_PATTERN = /\b(?:sk|pk|rk)-[A-Za-z0-9*_-]{6,}/g;

/** The first value of header `name`, or undefined. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds to wait before retrying, from `retry-after-ms` (milliseconds, OpenAI) or `retry-after`
 * (RFC 9110 §10.2.3: delay-seconds or an HTTP-date, compared with `nowMs`, epoch ms). Rounded up; never negative.
 * Returns undefined when neither header is present or parseable.
 */
export function parseRetryAfterSeconds(headers: ResponseHeaders, nowMs: number): number | undefined {
  const milliseconds = headerValue(headers, "retry-after-ms");
  if (milliseconds !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(milliseconds)) return Math.max(0, Math.ceil(Number(milliseconds) / 1000));
  const value = headerValue(headers, "retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.max(0, Math.ceil(Number(value)));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** An upstream message made safe for a caller: credentials masked, whitespace collapsed, length capped. */
export function sanitizeUpstreamMessage(message: string): string {
  const collapsed = message.replace(SECRET_PATTERN, "[redacted]").replace(/\s+/g, " ").trim();
  return collapsed.length > MAX_UPSTREAM_MESSAGE_CHARACTERS ? `${collapsed.slice(0, MAX_UPSTREAM_MESSAGE_CHARACTERS)}…` : collapsed;
}

/** What an upstream said in its error answer. */
export interface UpstreamErrorReport {
  providerId: string;
  /** The upstream's HTTP status (e.g. 429, 529). */
  status: number;
  /** The upstream's own error type (`rate_limit_error`, `server_error`…), or null when it gave none. */
  upstreamType: string | null;
  upstreamMessage: string;
  retryAfterSeconds?: number | undefined;
  /** The provider's own id for the call, from its error answer (see `UpstreamCallResult`), when it sent one. */
  upstreamRequestId?: string | undefined;
}

/** `CF_UPSTREAM_ERROR` carrying the upstream's status and error. */
export function upstreamHttpError(report: UpstreamErrorReport): ClawfleetError {
  const upstreamMessage = sanitizeUpstreamMessage(report.upstreamMessage);
  return new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${report.providerId} answered HTTP ${report.status}${upstreamMessage === "" ? "" : `: ${upstreamMessage}`}`, {
    status: report.status,
    ...(report.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: report.retryAfterSeconds }),
    details: {
      provider: report.providerId,
      upstreamStatus: report.status,
      upstreamType: report.upstreamType,
      upstreamMessage,
      ...(report.upstreamRequestId === undefined ? {} : { upstreamRequestId: report.upstreamRequestId }),
    },
  });
}

/**
 * `CF_UPSTREAM_ERROR` (502) for a successful status whose body is not what the provider's API documents
 * (unparseable JSON, a missing field). `upstreamStatus` is the status that came with it.
 */
export function invalidUpstreamResponseError(providerId: string, upstreamStatus: number, reason: string, cause?: unknown): ClawfleetError {
  return new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${providerId} sent an invalid response: ${reason}`, {
    status: 502,
    cause,
    details: { provider: providerId, upstreamStatus, upstreamType: "invalid_response", upstreamMessage: sanitizeUpstreamMessage(reason) },
  });
}

/** Which wait ran out. */
export type TimeoutPhase = "connect" | "first_byte" | "idle";

/** `CF_UPSTREAM_TIMEOUT` for one phase; `timeoutMs` is the limit that was exceeded. */
export function upstreamTimeoutError(providerId: string, phase: TimeoutPhase, timeoutMs: number, cause?: unknown): ClawfleetError {
  const what = phase === "connect" ? "connect" : phase === "first_byte" ? "send its first byte" : "send the next chunk";
  return new ClawfleetError("CF_UPSTREAM_TIMEOUT", `provider ${providerId} did not ${what} within ${timeoutMs} ms`, {
    cause,
    details: { provider: providerId, phase, timeoutMs },
  });
}

/** `CF_UPSTREAM_UNREACHABLE`: connection refused, reset or closed before a complete answer. */
export function upstreamUnreachableError(providerId: string, cause: unknown): ClawfleetError {
  const reason = errorCode(cause) ?? (cause instanceof Error ? cause.message : "connection failed");
  return new ClawfleetError("CF_UPSTREAM_UNREACHABLE", `provider ${providerId} is unreachable (${reason})`, {
    cause,
    details: { provider: providerId, reason },
  });
}

/** The `code` of a Node or undici error (`ECONNREFUSED`, `UND_ERR_SOCKET`…), when it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** Time limits of one call, in ms (the subset of `ProviderCallContext` the mapping needs). */
export interface CallTimeouts {
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * Maps a transport failure (an undici or socket error) to the contract's error:
 * undici's connect/headers/body timeouts → `CF_UPSTREAM_TIMEOUT` (connect / first_byte / idle), anything else
 * → `CF_UPSTREAM_UNREACHABLE`. A `ClawfleetError` passes through unchanged.
 */
export function transportError(providerId: string, error: unknown, timeouts: CallTimeouts): ClawfleetError {
  if (error instanceof ClawfleetError) return error;
  switch (errorCode(error)) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return upstreamTimeoutError(providerId, "connect", timeouts.connectTimeoutMs, error);
    case "UND_ERR_HEADERS_TIMEOUT":
      return upstreamTimeoutError(providerId, "first_byte", timeouts.firstByteTimeoutMs, error);
    case "UND_ERR_BODY_TIMEOUT":
      return upstreamTimeoutError(providerId, "idle", timeouts.idleTimeoutMs, error);
    default:
      return upstreamUnreachableError(providerId, error);
  }
}

/** Status the gateway reports for an error event of a known upstream error type (Anthropic and OpenAI vocabularies). */
export function statusForErrorType(errorType: string): number {
  switch (errorType) {
    case "invalid_request_error":
      return 400;
    case "authentication_error":
      return 401;
    case "permission_error":
      return 403;
    case "not_found_error":
      return 404;
    case "request_too_large":
      return 413;
    case "rate_limit_error":
    case "rate_limit_exceeded":
    case "requests":
    case "tokens":
      return 429;
    case "overloaded_error":
      return 529;
    case "timeout_error":
      return 504;
    default:
      return 500;
  }
}
