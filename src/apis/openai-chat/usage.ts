/**
 * Canonical usage → OpenAI Chat Completions `usage`
 * (https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage). Units: tokens.
 * `prompt_tokens` includes cached tokens (the canonical convention is OpenAI's); cache writes have no field.
 */
import type { CanonicalUsage, JsonObject } from "../../contracts/chat.js";

export function encodeChatUsage(usage: CanonicalUsage): JsonObject {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}
