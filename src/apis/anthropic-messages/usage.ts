/**
 * Canonical usage → Anthropic `usage` (https://docs.anthropic.com/en/api/messages#response-usage). Units: tokens.
 * Anthropic's `input_tokens` EXCLUDES cache reads and writes (they are reported beside it), while canonical
 * `inputTokens` includes them, so they are subtracted (never below 0).
 */
import type { CanonicalUsage, JsonObject } from "../../contracts/chat.js";

export function encodeAnthropicUsage(usage: CanonicalUsage): JsonObject {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
  };
}
