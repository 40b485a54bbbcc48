/**
 * Responses errors. The HTTP error body is OpenAI's shape (`../shared/openai-errors.ts`). A failure in the middle of
 * a stream ends it with `response.failed` whose `response.error` uses the Responses error codes
 * (`rate_limit_exceeded` for 429, otherwise `server_error`); a failure before `response.created` is an `error` event
 * `{type: "error", code, message, param, sequence_number}` whose `code` is the `CF_*` code.
 */
import type { JsonObject, StreamEvent } from "../../contracts/chat.js";
import { streamErrorCode } from "../shared/openai-errors.js";

export { encodeOpenAiError as encodeResponsesError } from "../shared/openai-errors.js";

type StreamError = Extract<StreamEvent, { type: "error" }>;

/** `response.error` of a failed response. */
export function failedResponseError(event: StreamError): JsonObject {
  return { code: event.status === 429 ? "rate_limit_exceeded" : "server_error", message: event.message };
}

/** The payload of the `error` event sent when the stream fails before it started. */
export function streamErrorEventPayload(event: StreamError, sequenceNumber: number): JsonObject {
  return { type: "error", code: streamErrorCode(event.status, event.errorType), message: event.message, param: null, sequence_number: sequenceNumber };
}
