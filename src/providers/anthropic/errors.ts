/**
 * Anthropic error answers → `ClawfleetError`, and in-stream `error` events → a canonical `error` event.
 * Error body: `{"type": "error", "error": {"type", "message"}, "request_id"?}`; types and statuses from
 * https://docs.anthropic.com/en/api/errors (400 invalid_request_error, 401 authentication_error,
 * 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500 api_error,
 * 529 overloaded_error). Rate-limited answers carry `retry-after` in seconds.
 */
import type { StreamEvent } from "../../contracts/chat.js";
import type { ClawfleetError } from "../../contracts/errors.js";
import { headerValue, parseRetryAfterSeconds, type ResponseHeaders, sanitizeUpstreamMessage, statusForErrorType, upstreamHttpError } from "../shared/upstream-errors.js";
import { anthropicErrorBodySchema } from "./wire.js";

/** The error type and message of an error body, or null type and the raw text when it is not one. */
export function readAnthropicError(bodyText: string): { type: string | null; message: string } {
  let body: unknown;
  try {
    body = JSON.parse(bodyText) as unknown;
  } catch {
    return { type: null, message: bodyText };
  }
  const parsed = anthropicErrorBodySchema.safeParse(body);
  return parsed.success ? { type: parsed.data.error.type, message: parsed.data.error.message } : { type: null, message: bodyText };
}

/** Response header carrying Anthropic's id for a request ("request-id", Anthropic API reference, "Errors"). */
export const ANTHROPIC_REQUEST_ID_HEADER = "request-id";

/** `CF_UPSTREAM_ERROR` for an HTTP error answer; `nowMs` (epoch ms) resolves an HTTP-date `retry-after`. */
export function decodeAnthropicErrorResponse(input: { providerId: string; status: number; headers: ResponseHeaders; bodyText: string; nowMs: number }): ClawfleetError {
  const { type, message } = readAnthropicError(input.bodyText);
  return upstreamHttpError({
    providerId: input.providerId,
    status: input.status,
    upstreamType: type,
    upstreamMessage: message,
    retryAfterSeconds: parseRetryAfterSeconds(input.headers, input.nowMs),
    upstreamRequestId: headerValue(input.headers, ANTHROPIC_REQUEST_ID_HEADER),
  });
}

/** A canonical `error` event for a streamed `{"type": "error", "error": {type, message}}` (e.g. overloaded_error → 529). */
export function decodeAnthropicStreamError(error: { type: string; message: string }): Extract<StreamEvent, { type: "error" }> {
  return { type: "error", status: statusForErrorType(error.type), message: sanitizeUpstreamMessage(error.message), errorType: error.type };
}
