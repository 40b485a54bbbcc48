/**
 * The one place where errors become HTTP responses. Every route and hook throws (or passes) errors here
 * through Fastify's error handler; nothing else writes error bodies.
 *
 * Shapes:
 * - OpenAI paths (`/v1/…`, `/t/{tenant}/v1/…`): OpenAI's error object
 *   `{"error": {"message", "type", "param", "code"}}` (https://platform.openai.com/docs/guides/error-codes),
 *   with `code` set to the stable `CF_*` code.
 * - Anthropic's Messages path (`/v1/messages`): `{"type": "error", "error": {"type", "message"}}`
 *   (https://docs.anthropic.com/en/api/errors), the `CF_*` code leading the message.
 * - Everything else: `{"error": {"code", "message", "requestId", "details"?}}`.
 */
import { ERROR_CATALOG, ClawfleetError, isClawfleetError, type ErrorCode } from "../contracts/errors.js";

/** Which body shape a path's callers expect. */
export type ErrorDialect = "openai" | "anthropic" | "clawfleet";

/** Anthropic's Messages path gets Anthropic-shaped errors; other OpenAI-compatible paths OpenAI-shaped ones. */
export function errorDialectForPath(url: string): ErrorDialect {
  const pathOnly = url.split("?", 1)[0] ?? url;
  if (/^\/(t\/[^/]+\/)?v1\/messages(\/|$)/.test(pathOnly)) return "anthropic";
  return /^\/(t\/[^/]+\/)?v1(\/|$)/.test(pathOnly) ? "openai" : "clawfleet";
}

/**
 * Anthropic's error types (https://docs.anthropic.com/en/api/errors) by HTTP status; the `CF_*` code goes in
 * the message prefix since Anthropic's shape has no code field.
 */
function anthropicErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 529 || status === 503) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** Fastify's own error codes (`FST_ERR_*`) and the Clawfleet code each one is reported as. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "CF_PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "CF_UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "CF_BAD_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "CF_INVALID_JSON",
  FST_ERR_CTP_INVALID_JSON_BODY: "CF_INVALID_JSON",
  FST_ERR_VALIDATION: "CF_VALIDATION_FAILED",
  FST_ERR_NOT_FOUND: "CF_NOT_FOUND",
};

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: unknown;
}

/** Turns anything thrown into a {@link ClawfleetError}; unknown errors become `CF_INTERNAL` (message hidden). */
export function toClawfleetError(error: unknown): ClawfleetError {
  if (isClawfleetError(error)) return error;
  const framework = error as FrameworkError;
  if (error instanceof SyntaxError || framework.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new ClawfleetError("CF_INVALID_JSON", "request body is not valid JSON");
  }
  const mapped = framework.code ? FASTIFY_CODES[framework.code] : undefined;
  if (mapped === "CF_PAYLOAD_TOO_LARGE") return new ClawfleetError(mapped, "request body is larger than the configured limit (server.bodyLimitBytes)");
  if (mapped) return new ClawfleetError(mapped, framework.message);
  if (framework.validation !== undefined) return new ClawfleetError("CF_VALIDATION_FAILED", framework.message);
  if (typeof framework.statusCode === "number" && framework.statusCode >= 400 && framework.statusCode < 500) {
    return new ClawfleetError("CF_BAD_REQUEST", framework.message, { status: framework.statusCode });
  }
  return new ClawfleetError("CF_INTERNAL", "internal error", { cause: error });
}

/** The JSON body for an error in the caller's dialect. */
export function errorBody(error: ClawfleetError, dialect: ErrorDialect, requestId: string): Record<string, unknown> {
  if (dialect === "anthropic") {
    return { type: "error", error: { type: anthropicErrorType(error.status), message: `${error.code}: ${error.message}` }, request_id: requestId };
  }
  if (dialect === "openai") {
    return { error: { message: error.message, type: ERROR_CATALOG[error.code].type, param: null, code: error.code } };
  }
  const body: Record<string, unknown> = { code: error.code, message: error.message, requestId };
  if (error.details !== undefined) body.details = error.details;
  return { error: body };
}
