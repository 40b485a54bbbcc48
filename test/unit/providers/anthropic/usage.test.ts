import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAnthropicUsage, mergeAnthropicUsage } from "../../../../src/providers/anthropic/usage.js";

test("canonical input = input + cache reads + cache writes", () => {
  assert.deepEqual(decodeAnthropicUsage({ input_tokens: 21, cache_creation_input_tokens: 312, cache_read_input_tokens: 1824, output_tokens: 12 }), {
    inputTokens: 2157,
    outputTokens: 12,
    cacheReadTokens: 1824,
    cacheWriteTokens: 312,
    reasoningTokens: 0,
  });
  assert.deepEqual(decodeAnthropicUsage({ input_tokens: 5, output_tokens: 1, cache_creation_input_tokens: null, cache_read_input_tokens: null }), {
    inputTokens: 5,
    outputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  });
});

test("streamed usage: message_delta's non-null counts win over message_start's", () => {
  const start = { input_tokens: 21, cache_read_input_tokens: 1824, cache_creation_input_tokens: 0, output_tokens: 1 };
  assert.deepEqual(mergeAnthropicUsage(start, { output_tokens: 12 }), { ...start, output_tokens: 12 });
  assert.deepEqual(mergeAnthropicUsage(start, { output_tokens: 12, input_tokens: 30, cache_read_input_tokens: null }), { ...start, output_tokens: 12, input_tokens: 30 });
  assert.equal(mergeAnthropicUsage(null, null), null);
  assert.deepEqual(mergeAnthropicUsage(null, start), start);
});
