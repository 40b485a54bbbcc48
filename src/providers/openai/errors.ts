/**
 * OpenAI (and OpenAI-compatible) error answers → `ClawfleetError`, and in-stream error payloads → an `error`
 * stream event. Error body: `{"error": {"message", "type", "param", "code"}}`
 * (https://platform.openai.com/docs/guides/error-codes); compatible servers' variants are read too.
 */
import type { StreamEvent } from "../../contracts/chat.js";
import type { ClawfleetError } from "../../contracts/errors.js";
import { headerValue, parseRetryAfterSeconds, type ResponseHeaders, sanitizeUpstreamMessage, statusForErrorType, upstreamHttpError } from "../shared/upstream-errors.js";
import { openAIErrorBodySchema } from "./wire.js";

/** The upstream's error type and message, from a parsed error body (or the raw text when it is not one). */
export function readOpenAIError(body: unknown, fallbackText: string): { type: string | null; message: string } {
  const parsed = openAIErrorBodySchema.safeParse(body);
  if (parsed.success) {
    const { error, message, type, detail } = parsed.data;
    if (typeof error === "string") return { type: type ?? null, message: error };
    if (error !== null && error !== undefined) {
      const errorType = error.type ?? (error.code === null || error.code === undefined ? null : String(error.code));
      return { type: errorType, message: error.message ?? "" };
    }
    if (typeof message === "string") return { type: type ?? null, message };
    if (detail !== undefined) return { type: type ?? null, message: typeof detail === "string" ? detail : JSON.stringify(detail) };
  }
  return { type: null, message: fallbackText };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Response header carrying OpenAI's id for a request ("x-request-id", OpenAI API reference, "Debugging requests";
 * OpenAI-compatible servers such as vLLM send it too).
 */
export const OPENAI_REQUEST_ID_HEADER = "x-request-id";

/**
 * `CF_UPSTREAM_ERROR` for an HTTP error answer. `nowMs` (epoch ms) resolves an HTTP-date `retry-after`.
 * Source of `retry-after-ms`: the official `openai` SDK honours it before `retry-after`.
 */
export function decodeOpenAIErrorResponse(input: { providerId: string; status: number; headers: ResponseHeaders; bodyText: string; nowMs: number }): ClawfleetError {
  const { type, message } = readOpenAIError(parseJson(input.bodyText), input.bodyText);
  return upstreamHttpError({
    providerId: input.providerId,
    status: input.status,
    upstreamType: type,
    upstreamMessage: message,
    retryAfterSeconds: parseRetryAfterSeconds(input.headers, input.nowMs),
    upstreamRequestId: headerValue(input.headers, OPENAI_REQUEST_ID_HEADER),
  });
}

/** An `error` stream event for an error object received inside an SSE stream (`data: {"error": {...}}`). */
export function decodeOpenAIStreamError(payload: unknown): Extract<StreamEvent, { type: "error" }> {
  const { type, message } = readOpenAIError(payload, "the upstream reported an error mid-stream");
  const errorType = type ?? "api_error";
  return { type: "error", status: statusForErrorType(errorType), message: sanitizeUpstreamMessage(message), errorType };
}
