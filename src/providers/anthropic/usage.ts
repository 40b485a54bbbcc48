/**
 * Anthropic `usage` → canonical usage. Anthropic's `input_tokens` counts only the tokens after the last cache
 * breakpoint; the total input is `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance), and that
 * total is the canonical `inputTokens`. `output_tokens_details.thinking_tokens`, when present, is the
 * reasoning share of `output_tokens`.
 */
import type { CanonicalUsage } from "../../contracts/chat.js";
import type { AnthropicUsage } from "./wire.js";

/** Canonical usage (tokens) from one Anthropic usage object. */
export function decodeAnthropicUsage(usage: AnthropicUsage): CanonicalUsage {
  const cacheReadTokens = usage.cache_read_input_tokens ?? 0;
  const cacheWriteTokens = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (usage.input_tokens ?? 0) + cacheReadTokens + cacheWriteTokens,
    outputTokens: usage.output_tokens ?? 0,
    cacheReadTokens,
    cacheWriteTokens,
    reasoningTokens: usage.output_tokens_details?.thinking_tokens ?? 0,
  };
}

/**
 * Merges streamed usage: `message_start` carries the input counts, `message_delta` the cumulative output
 * count (and, in newer API versions, input counts too). Fields present (non-null) in `later` win.
 */
export function mergeAnthropicUsage(earlier: AnthropicUsage | null, later: AnthropicUsage | null | undefined): AnthropicUsage | null {
  if (later === null || later === undefined) return earlier;
  if (earlier === null) return later;
  const merged: AnthropicUsage = { ...earlier };
  if (later.input_tokens != null) merged.input_tokens = later.input_tokens;
  if (later.output_tokens != null) merged.output_tokens = later.output_tokens;
  if (later.cache_creation_input_tokens != null) merged.cache_creation_input_tokens = later.cache_creation_input_tokens;
  if (later.cache_read_input_tokens != null) merged.cache_read_input_tokens = later.cache_read_input_tokens;
  if (later.output_tokens_details != null) merged.output_tokens_details = later.output_tokens_details;
  return merged;
}
