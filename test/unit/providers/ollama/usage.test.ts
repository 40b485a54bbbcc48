import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOllamaUsage } from "../../../../src/providers/ollama/usage.js";

test("prompt_eval_count and eval_count become input and output tokens; missing counts are zero", () => {
  assert.deepEqual(decodeOllamaUsage({ prompt_eval_count: 26, eval_count: 282 }), { inputTokens: 26, outputTokens: 282, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  assert.deepEqual(decodeOllamaUsage({}), { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
});
