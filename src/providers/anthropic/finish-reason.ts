/**
 * Anthropic `stop_reason` → canonical finish reason. Values (https://docs.anthropic.com/en/api/messages#response-stop-reason):
 * `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`, `refusal`, `model_context_window_exceeded`.
 */
import type { FinishReason } from "../../contracts/chat.js";

/** Unknown or missing values become `other`. */
export function decodeAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "end_turn":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "stop_sequence":
      return "stop_sequence";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}
