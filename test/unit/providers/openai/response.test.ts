import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeChatCompletion, OpenAIResponseFormatError } from "../../../../src/providers/openai/response.js";
import { fixtureJson } from "../../../support/provider-test-helpers.js";

test("text.json fixture → canonical response", () => {
  const response = decodeChatCompletion(fixtureJson("openai", "text.json"));
  assert.deepEqual(response, {
    id: "chatcmpl-CdR7kPz2bWq9XvN4tLm0sYh1Ej8Fa",
    model: "gpt-4o-mini-2024-07-18",
    content: [{ type: "text", text: "Hello! How can I help you today?" }],
    finishReason: "stop",
    usage: { inputTokens: 1240, outputTokens: 9, cacheReadTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 0 },
    createdAt: 1763540312,
  });
});

test("tool-call.json fixture → a tool call with its arguments text", () => {
  const response = decodeChatCompletion(fixtureJson("openai", "tool-call.json"));
  assert.equal(response.finishReason, "tool_calls");
  assert.deepEqual(response.content, [{ type: "tool_call", id: "call_Xk2pQ9mZr4Tn7VbW1sLd8HfA", name: "read", arguments: '{"path":"/etc/hostname"}' }]);
});

test("compatible servers' reasoning_content comes first; refusal is text; usage details map", () => {
  const response = decodeChatCompletion({
    id: "x",
    object: "chat.completion",
    created: 1,
    model: "deepseek-r1",
    choices: [{ index: 0, message: { role: "assistant", content: null, refusal: "I can't help with that.", reasoning_content: "Thinking…" }, finish_reason: "content_filter" }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 12 } },
  });
  assert.deepEqual(response.content, [
    { type: "reasoning", text: "Thinking…" },
    { type: "text", text: "I can't help with that." },
  ]);
  assert.equal(response.finishReason, "content_filter");
  assert.deepEqual(response.usage, { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64, cacheWriteTokens: 0, reasoningTokens: 12 });
});

test("a body that is not a chat completion is a format error", () => {
  assert.throws(() => decodeChatCompletion({ id: "x", created: 1, model: "m", choices: [] }), OpenAIResponseFormatError);
  assert.throws(() => decodeChatCompletion("hello"), OpenAIResponseFormatError);
});
