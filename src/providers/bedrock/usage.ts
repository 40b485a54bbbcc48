/**
 * Bedrock Converse `usage` (TokenUsage) → {@link CanonicalUsage}. Units: tokens.
 *
 * Bedrock reports `inputTokens` WITHOUT the prompt-cache tokens: `cacheReadInputTokens` and
 * `cacheWriteInputTokens` come on top of it (`totalTokens` = input + output + cache read + cache write), like
 * Anthropic's Messages API. The canonical `inputTokens` includes cached tokens, so it is the sum of the three.
 * Bedrock does not report reasoning tokens separately (they are inside `outputTokens`): `reasoningTokens` is 0.
 * Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html and
 * https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html.
 */
import type { TokenUsage } from "@aws-sdk/client-bedrock-runtime";
import type { CanonicalUsage } from "../../contracts/chat.js";

function count(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Canonical usage from Bedrock's; absent fields count as 0. */
export function fromBedrockUsage(usage: TokenUsage | undefined): CanonicalUsage {
  const cacheReadTokens = count(usage?.cacheReadInputTokens);
  const cacheWriteTokens = count(usage?.cacheWriteInputTokens);
  return {
    inputTokens: count(usage?.inputTokens) + cacheReadTokens + cacheWriteTokens,
    outputTokens: count(usage?.outputTokens),
    cacheReadTokens,
    cacheWriteTokens,
    reasoningTokens: 0,
  };
}
