/**
 * Anthropic's error body `{"type": "error", "error": {"type", "message", "details"?}}`
 * (https://docs.anthropic.com/en/api/errors), for HTTP errors and the `event: error` of a stream. The error type
 * follows the HTTP status as Anthropic documents it: 400 `invalid_request_error`, 401 `authentication_error`,
 * 403 `permission_error`, 404 `not_found_error`, 413 `request_too_large`, 429 `rate_limit_error`,
 * 504 `timeout_error`, 529 and 503 `overloaded_error`, other 5xx `api_error`.
 * HTTP errors carry the stable `CF_*` code in `error.details.error_code`, the field Anthropic uses for its own
 * error codes (the `@anthropic-ai/sdk` exposes it as `APIError.errorCode`).
 */
import type { JsonObject, StreamEvent } from "../../contracts/chat.js";
import type { ClawfleetError } from "../../contracts/errors.js";

export const ANTHROPIC_ERROR_TYPES = [
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "timeout_error",
  "overloaded_error",
] as const;
export type AnthropicErrorType = (typeof ANTHROPIC_ERROR_TYPES)[number];

/** The Anthropic error type for an HTTP status. */
export function anthropicErrorType(status: number): AnthropicErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  if (status === 504) return "timeout_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** The error body for a Clawfleet error (the type from its HTTP status, the `CF_*` code as `details.error_code`). */
export function encodeAnthropicError(error: ClawfleetError): JsonObject {
  return { type: "error", error: { type: anthropicErrorType(error.status), message: error.message, details: { error_code: error.code } } };
}

/** The payload of `event: error` for a canonical stream error: its type when it is Anthropic's, else from the status. */
export function anthropicStreamErrorPayload(event: Extract<StreamEvent, { type: "error" }>): JsonObject {
  const known = (ANTHROPIC_ERROR_TYPES as readonly string[]).includes(event.errorType);
  return { type: "error", error: { type: known ? event.errorType : anthropicErrorType(event.status), message: event.message } };
}
