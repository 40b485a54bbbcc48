/**
 * Chat Completions errors: the HTTP error body is OpenAI's shape (`../shared/openai-errors.ts`); a failure in the
 * middle of a stream is sent as one `data: {"error": {…}}` chunk, which the `openai` SDK raises as an `APIError`.
 */
import type { JsonObject, StreamEvent } from "../../contracts/chat.js";
import { ERROR_CATALOG } from "../../contracts/errors.js";
import { streamErrorCode } from "../shared/openai-errors.js";

export { encodeOpenAiError as encodeChatError } from "../shared/openai-errors.js";

/** The payload of the in-stream error chunk for a canonical `error` event. */
export function chatStreamErrorPayload(event: Extract<StreamEvent, { type: "error" }>): JsonObject {
  const code = streamErrorCode(event.status, event.errorType);
  const type = Object.hasOwn(ERROR_CATALOG, event.errorType) ? ERROR_CATALOG[code].type : event.errorType;
  return { error: { message: event.message, type, param: null, code } };
}
