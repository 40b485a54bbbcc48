/**
 * Canonical finish reason → Anthropic `stop_reason` (https://docs.anthropic.com/en/api/messages#response-stop-reason):
 * `stop` → `end_turn`, `length` → `max_tokens`, `stop_sequence` → `stop_sequence`, `tool_calls` → `tool_use`,
 * `content_filter` → `refusal`; `error` and `other` have no equivalent and are reported as `end_turn`.
 * A `stop` that names its stop sequence (OpenAI-style providers say `stop` for both) is `stop_sequence`.
 */
import type { FinishReason } from "../../contracts/chat.js";

export type AnthropicStopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

export function encodeAnthropicStopReason(reason: FinishReason, stopSequence?: string): AnthropicStopReason {
  if (reason === "stop" && stopSequence !== undefined) return "stop_sequence";
  switch (reason) {
    case "length":
      return "max_tokens";
    case "stop_sequence":
      return "stop_sequence";
    case "tool_calls":
      return "tool_use";
    case "content_filter":
      return "refusal";
    case "stop":
    case "error":
    case "other":
      return "end_turn";
  }
}
