/**
 * Ollama `done_reason` → canonical finish reason. Ollama says `stop` (natural end or a stop sequence),
 * `length` (`num_predict` reached), `load` / `unload` (model management, no generation); a response that called
 * tools still says `stop`, so the caller passes `calledTools`.
 */
import type { FinishReason } from "../../contracts/chat.js";

export function decodeOllamaDoneReason(reason: string | null | undefined, calledTools: boolean): FinishReason {
  if (calledTools) return "tool_calls";
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    default:
      return reason === null || reason === undefined ? "stop" : "other";
  }
}
