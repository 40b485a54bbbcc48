/**
 * Ollama error answers → `ClawfleetError`. Ollama answers errors as `{"error": "<message>"}` with an HTTP status
 * (404 for an unknown model, 400 for a bad request, 500…), and no error type; inside an NDJSON stream an error is
 * a line `{"error": "<message>"}`.
 */
import type { StreamEvent } from "../../contracts/chat.js";
import type { ClawfleetError } from "../../contracts/errors.js";
import { parseRetryAfterSeconds, type ResponseHeaders, sanitizeUpstreamMessage, upstreamHttpError } from "../shared/upstream-errors.js";
import { ollamaErrorBodySchema } from "./wire.js";

/** The message of an `{"error": …}` body, or the raw text when it is not one. */
export function readOllamaError(bodyText: string): string {
  try {
    const parsed = ollamaErrorBodySchema.safeParse(JSON.parse(bodyText));
    return parsed.success ? parsed.data.error : bodyText;
  } catch {
    return bodyText;
  }
}

/** `CF_UPSTREAM_ERROR` for an HTTP error answer (`upstreamType` null: Ollama names none). */
export function decodeOllamaErrorResponse(input: { providerId: string; status: number; headers: ResponseHeaders; bodyText: string; nowMs: number }): ClawfleetError {
  return upstreamHttpError({
    providerId: input.providerId,
    status: input.status,
    upstreamType: null,
    upstreamMessage: readOllamaError(input.bodyText),
    retryAfterSeconds: parseRetryAfterSeconds(input.headers, input.nowMs),
  });
}

/** A canonical `error` event for an in-stream `{"error": "…"}` line (status 500, type `api_error`). */
export function decodeOllamaStreamError(message: string): Extract<StreamEvent, { type: "error" }> {
  return { type: "error", status: 500, message: sanitizeUpstreamMessage(message), errorType: "api_error" };
}
