/**
 * Canonical usage → Responses `usage` (https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage).
 * Units: tokens. `input_tokens` includes cached tokens (the canonical convention is OpenAI's); cache writes have no field.
 */
import type { CanonicalUsage, JsonObject } from "../../contracts/chat.js";

export function encodeResponsesUsage(usage: CanonicalUsage): JsonObject {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}
