import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOpenAIUsage } from "../../../../src/providers/openai/usage.js";

test("prompt tokens include cached ones; details map to cache reads and reasoning", () => {
  assert.deepEqual(decodeOpenAIUsage({ prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 }, completion_tokens_details: { reasoning_tokens: 192 } }), {
    inputTokens: 2006,
    outputTokens: 300,
    cacheReadTokens: 1920,
    cacheWriteTokens: 0,
    reasoningTokens: 192,
  });
});

test("missing details are zero; no usage is null", () => {
  assert.deepEqual(decodeOpenAIUsage({ prompt_tokens: 5, completion_tokens: 1 }), { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  assert.equal(decodeOpenAIUsage(null), null);
  assert.equal(decodeOpenAIUsage(undefined), null);
});
