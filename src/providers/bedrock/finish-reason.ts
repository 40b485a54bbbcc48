/**
 * Bedrock Converse `stopReason` → canonical {@link FinishReason}.
 * Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 * (values `end_turn | tool_use | max_tokens | stop_sequence | guardrail_intervened | content_filtered |
 * malformed_model_output | malformed_tool_use | model_context_window_exceeded`).
 */
import type { FinishReason } from "../../contracts/chat.js";

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: "stop",
  tool_use: "tool_calls",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  stop_sequence: "stop_sequence",
  guardrail_intervened: "content_filter",
  content_filtered: "content_filter",
  malformed_model_output: "error",
  malformed_tool_use: "error",
};

/** Maps a Converse stop reason; an absent or unknown one (AWS adds values over time) is `other`. */
export function fromBedrockStopReason(stopReason: string | undefined): FinishReason {
  if (stopReason === undefined) return "other";
  return FINISH_REASONS[stopReason] ?? "other";
}
