/**
 * OpenAI's error body, used by both OpenAI client APIs (Chat Completions and Responses):
 * `{"error": {"message", "type", "param", "code"}}` (https://platform.openai.com/docs/guides/error-codes).
 * `type` comes from the Clawfleet error catalog, `code` is the stable `CF_*` code and `param` the offending field
 * (from `details.param`) or null.
 */
import type { JsonObject } from "../../contracts/chat.js";
import { ERROR_CATALOG, type ClawfleetError, type ErrorCode } from "../../contracts/errors.js";

/** The OpenAI-shaped error body for `error`. */
export function encodeOpenAiError(error: ClawfleetError): JsonObject {
  const param = error.details?.param;
  return { error: { message: error.message, type: ERROR_CATALOG[error.code].type, param: typeof param === "string" ? param : null, code: error.code } };
}

/**
 * The `CF_*` code reported for a mid-stream failure (a canonical `error` stream event, which has an HTTP-like
 * status and a free-form type): the type itself when it already is a catalog code, `CF_UPSTREAM_TIMEOUT` for
 * 504, otherwise `CF_UPSTREAM_ERROR`.
 */
export function streamErrorCode(status: number, errorType: string): ErrorCode {
  if (Object.hasOwn(ERROR_CATALOG, errorType)) return errorType as ErrorCode;
  return status === 504 ? "CF_UPSTREAM_TIMEOUT" : "CF_UPSTREAM_ERROR";
}
