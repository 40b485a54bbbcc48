/** Bedrock TokenUsage → canonical usage. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBedrockUsage } from "../../../../src/providers/bedrock/usage.js";

test("input tokens include cache reads and writes, which Bedrock reports on top of inputTokens", () => {
  assert.deepEqual(fromBedrockUsage({ inputTokens: 10, outputTokens: 5, totalTokens: 315, cacheReadInputTokens: 200, cacheWriteInputTokens: 100 }), {
    inputTokens: 310,
    outputTokens: 5,
    cacheReadTokens: 200,
    cacheWriteTokens: 100,
    reasoningTokens: 0,
  });
});

test("absent usage or fields count as zero", () => {
  assert.deepEqual(fromBedrockUsage(undefined), { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  assert.deepEqual(fromBedrockUsage({ inputTokens: 3, outputTokens: undefined, totalTokens: 3 }).outputTokens, 0);
});
