/**
 * Canonical finish reason → Chat Completions `finish_reason` (`stop | length | tool_calls | content_filter`,
 * https://platform.openai.com/docs/api-reference/chat/object). A stop sequence is `stop` in OpenAI's vocabulary;
 * `error` and `other` have no equivalent and are reported as `stop`.
 */
import type { FinishReason } from "../../contracts/chat.js";

export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export function encodeChatFinishReason(reason: FinishReason): ChatFinishReason {
  switch (reason) {
    case "length":
      return "length";
    case "tool_calls":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    case "stop":
    case "stop_sequence":
    case "error":
    case "other":
      return "stop";
  }
}
