/**
 * Token estimates made before a call, for token-per-minute limits and budget reservations: about 4 characters
 * per token (OpenAI's rule of thumb for English text, https://platform.openai.com/tokenizer), counted over the
 * messages and tool definitions; output at the request's `maxTokens`, else {@link DEFAULT_OUTPUT_ESTIMATE}.
 * Real usage replaces the estimate after the call.
 */
import type { CanonicalRequest, CanonicalUsage } from "../../contracts/chat.js";

/** Output tokens assumed when a request sets no limit. */
export const DEFAULT_OUTPUT_ESTIMATE = 1024;

/** Tokens for a text length in characters (at least 1 for non-empty text). */
export function tokensForCharacters(characters: number): number {
  return characters <= 0 ? 0 : Math.max(1, Math.ceil(characters / 4));
}

/** Estimated input and output tokens of a request. */
export function estimateRequestTokens(request: CanonicalRequest): { inputTokens: number; outputTokens: number } {
  let characters = 0;
  for (const message of request.messages) {
    for (const part of message.content) {
      if (part.type === "text" || part.type === "reasoning") characters += part.text.length;
      else if (part.type === "tool_call") characters += part.name.length + part.arguments.length;
      else if (part.type === "tool_result") for (const inner of part.content) characters += inner.type === "text" ? inner.text.length : 1000;
      else if (part.type === "image") characters += 3000;
    }
  }
  for (const tool of request.tools ?? []) characters += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.parameters).length;
  return { inputTokens: tokensForCharacters(characters), outputTokens: request.maxTokens ?? DEFAULT_OUTPUT_ESTIMATE };
}

/** Canonical usage from an estimate (for a call that ended without reported usage). */
export function usageFromEstimate(inputTokens: number, outputTokens: number): CanonicalUsage {
  return { inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}
