/**
 * Ollama token counts → canonical usage: `prompt_eval_count` (prompt tokens evaluated) and `eval_count`
 * (generated tokens), reported on the final object (`done: true`). Ollama reports no cache or reasoning split.
 * Source: https://github.com/ollama/ollama/blob/main/docs/api.md#response-9
 */
import type { CanonicalUsage } from "../../contracts/chat.js";

export function decodeOllamaUsage(counts: { prompt_eval_count?: number | null; eval_count?: number | null }): CanonicalUsage {
  return { inputTokens: counts.prompt_eval_count ?? 0, outputTokens: counts.eval_count ?? 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}
