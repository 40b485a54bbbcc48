/**
 * ConverseStream events → canonical stream events, from the `.events.json` fixtures (each frame turned into the
 * object the SDK's decoder yields: `{[eventType]: payload}`). The binary framing is exercised in adapter.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { ConverseStreamTranslator } from "../../../../src/providers/bedrock/stream.js";
import { loadStreamFixture } from "../../../support/fake-bedrock.js";

const IDENTITY = { id: "req-9", model: "anthropic.claude-sonnet-4-20250514-v1:0", createdAt: 1_760_000_000 };
const START: StreamEvent = { type: "start", ...IDENTITY };

async function translateFixture(name: string): Promise<StreamEvent[]> {
  const translator = new ConverseStreamTranslator(IDENTITY);
  const events: StreamEvent[] = [];
  for (const frame of await loadStreamFixture(name)) {
    if (!("event" in frame)) break;
    events.push(...translator.translate({ [frame.event]: frame.data } as unknown as ConverseStreamOutput));
  }
  events.push(...translator.end());
  return events;
}

test("text stream: start, deltas, block_end, finish with usage", async () => {
  assert.deepEqual(await translateFixture("text"), [
    START,
    { type: "text_delta", index: 0, text: "Hello!" },
    { type: "text_delta", index: 0, text: " How can I help" },
    { type: "text_delta", index: 0, text: " you today?" },
    { type: "block_end", index: 0 },
    { type: "finish", finishReason: "stop", usage: { inputTokens: 12, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
  ]);
});

test("tool use stream: tool_call_start from contentBlockStart, argument deltas as sent", async () => {
  assert.deepEqual(await translateFixture("tool-use"), [
    START,
    { type: "text_delta", index: 0, text: "Let me check the weather." },
    { type: "block_end", index: 0 },
    { type: "tool_call_start", index: 1, id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name: "get_weather" },
    { type: "tool_call_delta", index: 1, argumentsDelta: '{"city": "Par' },
    { type: "tool_call_delta", index: 1, argumentsDelta: 'is", "unit": "celsius"}' },
    { type: "block_end", index: 1 },
    { type: "finish", finishReason: "tool_calls", usage: { inputTokens: 385, outputTokens: 58, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
  ]);
});

test("reasoning stream: text deltas then the signature; cache usage", async () => {
  assert.deepEqual(await translateFixture("reasoning-cached"), [
    START,
    { type: "reasoning_delta", index: 0, text: "The user asks for 2+2." },
    { type: "reasoning_delta", index: 0, text: " That is 4." },
    { type: "reasoning_delta", index: 0, text: "", signature: "EqoBCkgIARABGAIiQLuBTMNqf1QX2cXK7fbLcUGB" },
    { type: "block_end", index: 0 },
    { type: "text_delta", index: 1, text: "4" },
    { type: "block_end", index: 1 },
    { type: "finish", finishReason: "stop", usage: { inputTokens: 2069, outputTokens: 96, cacheReadTokens: 1800, cacheWriteTokens: 248, reasoningTokens: 0 } },
  ]);
});

test("a stream cut before messageStop ends with an error event", async () => {
  assert.deepEqual(await translateFixture("truncated"), [
    START,
    { type: "text_delta", index: 0, text: "Half an ans" },
    { type: "error", status: 502, message: "the Bedrock stream ended before messageStop (truncated answer)", errorType: "api_error" },
  ]);
});

test("sparse upstream indexes are renumbered; unclosed blocks are closed before finish; no metadata means null usage", () => {
  const translator = new ConverseStreamTranslator(IDENTITY);
  const feed = (event: object) => translator.translate(event as ConverseStreamOutput);
  const events = [
    ...feed({ messageStart: { role: "assistant" } }),
    ...feed({ contentBlockDelta: { contentBlockIndex: 3, delta: { text: "a" } } }),
    ...feed({ contentBlockDelta: { contentBlockIndex: 3, delta: { text: "" } } }),
    ...feed({ contentBlockStart: { contentBlockIndex: 7, start: { toolUse: { toolUseId: "t", name: "n" } } } }),
    ...feed({ contentBlockDelta: { contentBlockIndex: 7, delta: { toolUse: { input: "{}" } } } }),
    ...feed({ messageStop: { stopReason: "max_tokens" } }),
    ...translator.end(),
    ...feed({ contentBlockDelta: { contentBlockIndex: 3, delta: { text: "late" } } }),
  ];
  assert.deepEqual(events, [
    START,
    { type: "text_delta", index: 0, text: "a" },
    { type: "tool_call_start", index: 1, id: "t", name: "n" },
    { type: "tool_call_delta", index: 1, argumentsDelta: "{}" },
    { type: "block_end", index: 0 },
    { type: "block_end", index: 1 },
    { type: "finish", finishReason: "length", usage: null },
  ]);
});

test("fail before any event still opens with start; stop sequences from messageStop are reported", () => {
  const failing = new ConverseStreamTranslator(IDENTITY);
  assert.deepEqual(failing.fail({ type: "error", status: 429, message: "slow down", errorType: "rate_limit_error" }), [
    START,
    { type: "error", status: 429, message: "slow down", errorType: "rate_limit_error" },
  ]);
  assert.deepEqual(failing.end(), []);

  const stopped = new ConverseStreamTranslator(IDENTITY);
  stopped.translate({ messageStart: { role: "assistant" } } as ConverseStreamOutput);
  stopped.translate({ messageStop: { stopReason: "stop_sequence", additionalModelResponseFields: { stop_sequence: "END" } } } as ConverseStreamOutput);
  const finish = stopped.translate({ metadata: { usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 1 } } } as ConverseStreamOutput);
  assert.deepEqual(finish, [{ type: "finish", finishReason: "stop_sequence", stopSequence: "END", usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } }]);
});
