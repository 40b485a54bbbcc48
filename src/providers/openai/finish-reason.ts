/**
 * OpenAI `finish_reason` → canonical finish reason.
 * Source: https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
 * (`stop`, `length`, `tool_calls`, `content_filter`, and the deprecated `function_call`).
 */
import type { FinishReason } from "../../contracts/chat.js";

/** Unknown or missing values become `other`. */
export function decodeOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}
