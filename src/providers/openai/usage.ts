/**
 * OpenAI `usage` → canonical usage. `prompt_tokens` already includes cached tokens
 * (`prompt_tokens_details.cached_tokens`); `completion_tokens` includes reasoning tokens
 * (`completion_tokens_details.reasoning_tokens`). OpenAI reports no cache writes (caching is automatic).
 * Source: https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
import type { CanonicalUsage } from "../../contracts/chat.js";
import type { OpenAIUsage } from "./wire.js";

/** Canonical usage (tokens), or null when the upstream sent none. */
export function decodeOpenAIUsage(usage: OpenAIUsage | null | undefined): CanonicalUsage | null {
  if (usage === null || usage === undefined) return null;
  return {
    inputTokens: usage.prompt_tokens ?? 0,
    outputTokens: usage.completion_tokens ?? 0,
    cacheReadTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}
