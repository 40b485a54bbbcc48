import assert from "node:assert/strict";
import { test } from "node:test";
import { AnthropicResponseFormatError, decodeMessagesResponse } from "../../../../src/providers/anthropic/response.js";
import { fixtureJson } from "../../../support/provider-test-helpers.js";

test("text.json → canonical response; input tokens include cache reads", () => {
  assert.deepEqual(decodeMessagesResponse(fixtureJson("anthropic", "text.json"), 1_763_540_000), {
    id: "msg_01XFDUDYJgAACzvnptvVoYEL",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text: "Hello! How can I help you today?" }],
    finishReason: "stop",
    usage: { inputTokens: 1845, outputTokens: 12, cacheReadTokens: 1824, cacheWriteTokens: 0, reasoningTokens: 0 },
    createdAt: 1_763_540_000,
  });
});

test("tool-call.json → text then a tool call with its input as JSON text", () => {
  const response = decodeMessagesResponse(fixtureJson("anthropic", "tool-call.json"), 1);
  assert.equal(response.finishReason, "tool_calls");
  assert.deepEqual(response.content, [
    { type: "text", text: "I'll check the weather in San Francisco for you." },
    { type: "tool_call", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
  ]);
});

test("thinking.json → reasoning with signature; redacted thinking left out; thinking tokens reported", () => {
  const response = decodeMessagesResponse(fixtureJson("anthropic", "thinking.json"), 1);
  assert.deepEqual(response.content, [
    { type: "reasoning", text: "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
    { type: "text", text: "27 * 453 = 12,231" },
  ]);
  assert.equal(response.usage.reasoningTokens, 131);
});

test("stop-sequence.json → stop_sequence with the sequence", () => {
  const response = decodeMessagesResponse(fixtureJson("anthropic", "stop-sequence.json"), 1);
  assert.equal(response.finishReason, "stop_sequence");
  assert.equal(response.stopSequence, "5");
});

test("a body that is not a message is a format error", () => {
  assert.throws(() => decodeMessagesResponse({ type: "error", error: { type: "x", message: "y" } }, 1), AnthropicResponseFormatError);
});
