/** Converse answer → canonical response, from the wire fixtures in test/fixtures/bedrock/. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConverseCommandOutput } from "@aws-sdk/client-bedrock-runtime";
import { fromConverseOutput } from "../../../../src/providers/bedrock/response.js";
import { loadJsonFixture } from "../../../support/fake-bedrock.js";

const IDENTITY = { id: "req-1", model: "anthropic.claude-sonnet-4-20250514-v1:0", createdAt: 1_760_000_000 };

async function fixture(name: string): Promise<ConverseCommandOutput> {
  return (await loadJsonFixture(name)) as ConverseCommandOutput;
}

test("text answer", async () => {
  assert.deepEqual(fromConverseOutput(await fixture("text"), IDENTITY), {
    ...IDENTITY,
    content: [{ type: "text", text: "Hello! How can I help you today?" }],
    finishReason: "stop",
    usage: { inputTokens: 12, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
  });
});

test("tool use: input object becomes the arguments JSON text", async () => {
  const response = fromConverseOutput(await fixture("tool-use"), IDENTITY);
  assert.equal(response.finishReason, "tool_calls");
  assert.deepEqual(response.content, [
    { type: "text", text: "Let me check the weather." },
    { type: "tool_call", id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
  ]);
  assert.deepEqual(response.usage, { inputTokens: 385, outputTokens: 58, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
});

test("reasoning with signature is kept, redacted reasoning skipped; cache tokens are added to input tokens", async () => {
  const response = fromConverseOutput(await fixture("reasoning-cached"), IDENTITY);
  assert.deepEqual(response.content, [
    { type: "reasoning", text: "The user asks for 2+2. That is 4.", signature: "EqoBCkgIARABGAIiQLuBTMNqf1QX2cXK7fbLcUGB" },
    { type: "text", text: "4" },
  ]);
  assert.deepEqual(response.usage, { inputTokens: 21 + 1800 + 248, outputTokens: 96, cacheReadTokens: 1800, cacheWriteTokens: 248, reasoningTokens: 0 });
});

test("stop sequence is reported when Anthropic returned which", async () => {
  const response = fromConverseOutput(await fixture("stop-sequence"), IDENTITY);
  assert.equal(response.finishReason, "stop_sequence");
  assert.equal(response.stopSequence, "END");
});

test("an answer without output or usage is empty, not a crash", () => {
  const response = fromConverseOutput({ output: undefined, stopReason: undefined, usage: undefined }, IDENTITY);
  assert.deepEqual(response.content, []);
  assert.equal(response.finishReason, "other");
  assert.equal(response.usage.inputTokens, 0);
});
