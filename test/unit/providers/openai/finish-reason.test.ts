import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOpenAIFinishReason } from "../../../../src/providers/openai/finish-reason.js";

test("OpenAI finish reasons map to canonical ones", () => {
  assert.equal(decodeOpenAIFinishReason("stop"), "stop");
  assert.equal(decodeOpenAIFinishReason("length"), "length");
  assert.equal(decodeOpenAIFinishReason("tool_calls"), "tool_calls");
  assert.equal(decodeOpenAIFinishReason("function_call"), "tool_calls");
  assert.equal(decodeOpenAIFinishReason("content_filter"), "content_filter");
  assert.equal(decodeOpenAIFinishReason("eos"), "other");
  assert.equal(decodeOpenAIFinishReason(null), "other");
});
