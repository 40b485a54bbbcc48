/**
 * Failures of Bedrock calls → {@link ClawfleetError} per the `ProviderAdapter` contract (built with the shared
 * builders of `../shared/upstream-errors.ts`), and → the canonical stream `error` event. Pure: takes the error
 * the AWS SDK (or Node) threw plus the current time, returns data.
 *
 * Sources: the error lists of https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * and API_runtime_ConverseStream.html; the statuses below are the documented ones, used when the SDK error
 * carries no `$metadata.httpStatusCode` (exceptions sent inside an event stream arrive with HTTP 200):
 * AccessDeniedException 403, ResourceNotFoundException 404, ModelTimeoutException 408, ModelErrorException 424,
 * ModelStreamErrorException 424, ThrottlingException 429, ModelNotReadyException 429, ValidationException 400,
 * ServiceQuotaExceededException 400, InternalServerException 500, ServiceUnavailableException 503.
 *
 * Rules:
 * - AWS service exceptions → `CF_UPSTREAM_ERROR` with `status` = the upstream status, `retryAfterSeconds` from a
 *   `retry-after` header when present, `details: {provider, upstreamStatus, upstreamType: <exception name>,
 *   upstreamMessage}`; except `ModelTimeoutException` → `CF_UPSTREAM_TIMEOUT` (same details).
 * - The Node handler's timeouts (`@smithy/node-http-handler` names them `TimeoutError`) → `CF_UPSTREAM_TIMEOUT`
 *   with the phase: `connect` (no connection within `connectionTimeout`), `first_byte` (no headers within
 *   `requestTimeout`), `idle` (socket inactivity).
 * - Connection failures (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`, DNS errors, socket hang-ups; the handler also
 *   renames resets `TimeoutError`) → `CF_UPSTREAM_UNREACHABLE`.
 * - The SDK failing to find credentials (`CredentialsProviderError`) → `CF_UPSTREAM_ERROR` status 500 (a
 *   fallback to another target may succeed; the message names no secret).
 * - Anything else → `CF_UPSTREAM_ERROR` status 502.
 */
import type { StreamEvent } from "../../contracts/chat.js";
import { ClawfleetError, ERROR_CATALOG } from "../../contracts/errors.js";
import {
  errorCode,
  parseRetryAfterSeconds,
  sanitizeUpstreamMessage,
  upstreamHttpError,
  upstreamTimeoutError,
  upstreamUnreachableError,
  type CallTimeouts,
  type ResponseHeaders,
} from "../shared/upstream-errors.js";

const STATUS_BY_EXCEPTION: Record<string, number> = {
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

/** Node error codes meaning the connection failed or broke (as opposed to timing out). */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);

/** The fields of an AWS SDK (or Node) error this module reads. */
interface ErrorShape {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  /** The SDK's response metadata: `requestId` is the `x-amzn-RequestId` header (AWS SDK for JavaScript v3). */
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  $response?: { headers?: ResponseHeaders };
}

function shapeOf(error: unknown): ErrorShape {
  return typeof error === "object" && error !== null ? (error as ErrorShape) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Maps any failure of a Bedrock call to a ClawfleetError (a ClawfleetError passes through unchanged).
 * `providerId` is the provider's config id; `timeouts` (ms) are the limits in force, named in timeout errors;
 * `nowMs` (epoch ms) reads an HTTP-date `retry-after`.
 */
export function toClawfleetError(providerId: string, error: unknown, timeouts: CallTimeouts, nowMs: number): ClawfleetError {
  if (error instanceof ClawfleetError) return error;
  const shape = shapeOf(error);
  const name = text(shape.name) ?? "Error";
  const message = text(shape.message) ?? String(error);
  const code = errorCode(error);

  if (shape.$fault === "client" || shape.$fault === "server" || name in STATUS_BY_EXCEPTION) {
    const metadataStatus = shape.$metadata?.httpStatusCode;
    const status = typeof metadataStatus === "number" && metadataStatus >= 400 ? metadataStatus : (STATUS_BY_EXCEPTION[name] ?? (shape.$fault === "server" ? 500 : 400));
    if (name === "ModelTimeoutException") {
      const upstreamMessage = sanitizeUpstreamMessage(message);
      return new ClawfleetError("CF_UPSTREAM_TIMEOUT", `provider ${providerId}: the model did not answer in time (${upstreamMessage})`, {
        cause: error,
        details: { provider: providerId, upstreamStatus: status, upstreamType: name, upstreamMessage },
      });
    }
    const retryAfterSeconds = parseRetryAfterSeconds(shape.$response?.headers ?? {}, nowMs);
    return withCause(upstreamHttpError({ providerId, status, upstreamType: name, upstreamMessage: message, retryAfterSeconds, upstreamRequestId: text(shape.$metadata?.requestId) }), error);
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return upstreamUnreachableError(providerId, error);
  if (name === "TimeoutError" || code === "ETIMEDOUT") {
    if (/establish a connection/.test(message)) return upstreamTimeoutError(providerId, "connect", timeouts.connectTimeoutMs, error);
    if (/inactivity/.test(message)) return upstreamTimeoutError(providerId, "idle", timeouts.idleTimeoutMs, error);
    return upstreamTimeoutError(providerId, "first_byte", timeouts.firstByteTimeoutMs, error);
  }
  if (/socket hang up/i.test(message)) return upstreamUnreachableError(providerId, error);
  const status = name === "CredentialsProviderError" ? 500 : 502;
  const upstreamMessage = sanitizeUpstreamMessage(message);
  return new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${providerId} failed: ${name}: ${upstreamMessage}`, {
    cause: error,
    status,
    details: { provider: providerId, upstreamStatus: null, upstreamType: name, upstreamMessage },
  });
}

/** The same error with `cause` set (the shared builder takes none). */
function withCause(built: ClawfleetError, cause: unknown): ClawfleetError {
  return new ClawfleetError(built.code, built.message, {
    cause,
    status: built.status,
    ...(built.details === undefined ? {} : { details: built.details }),
    ...(built.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: built.retryAfterSeconds }),
  });
}

/** The API error type for an HTTP status (the vocabulary of OpenAI's and Anthropic's error bodies). */
function errorTypeForStatus(status: number): string {
  if (status === 400 || status === 422) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  return "api_error";
}

/** The canonical stream `error` event for a failure after the stream was accepted. */
export function toStreamErrorEvent(error: ClawfleetError): Extract<StreamEvent, { type: "error" }> {
  let errorType: string = ERROR_CATALOG[error.code].type;
  if (error.code === "CF_UPSTREAM_ERROR") errorType = errorTypeForStatus(error.status);
  else if (error.code === "CF_UPSTREAM_TIMEOUT") errorType = "timeout_error";
  return { type: "error", status: error.status, message: error.message, errorType };
}
