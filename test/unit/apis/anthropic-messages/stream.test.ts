import assert from "node:assert/strict";
import { test } from "node:test";
import { anthropicMessagesCodec } from "../../../../src/apis/anthropic-messages/index.js";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { MID_STREAM_ERROR_EVENTS, PARALLEL_TOOL_EVENTS, REASONING_EVENTS, TEXT_EVENTS, TOOL_CALL_EVENTS } from "../../../support/canonical-answers.js";
import { parseSseFrames, type SseFrame } from "../../../support/sse-frames.js";

function encodeAll(events: StreamEvent[]): SseFrame[] {
  const encoder = anthropicMessagesCodec.createStreamEncoder("claude-alias", { includeUsage: false });
  const frames = parseSseFrames(events.map((event) => encoder.encode(event)).join(""));
  for (const frame of frames) assert.equal(frame.event, (frame.data as { type: string }).type, "event name equals data.type");
  return frames;
}

const FINAL_USAGE = { input_tokens: 50, output_tokens: 42, cache_creation_input_tokens: 150, cache_read_input_tokens: 1000 };

test("text stream: exact events and payloads", () => {
  assert.deepEqual(
    encodeAll(TEXT_EVENTS).map((frame) => frame.data),
    [
      {
        type: "message_start",
        message: {
          id: "gen_123",
          type: "message",
          role: "assistant",
          model: "claude-alias",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " there!" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: FINAL_USAGE },
      { type: "message_stop" },
    ],
  );
});

test("tool call stream: tool_use block with input {} then input_json_delta", () => {
  assert.deepEqual(
    encodeAll(TOOL_CALL_EVENTS).slice(1).map((frame) => frame.data),
    [
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Let me check." } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "call_weather_1", name: "get_weather", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city":' } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '"Paris","unit":"c"}' } },
      { type: "content_block_stop", index: 1 },
      { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: FINAL_USAGE },
      { type: "message_stop" },
    ],
  );
});

test("reasoning stream: thinking block with thinking_delta and signature_delta", () => {
  assert.deepEqual(
    encodeAll(REASONING_EVENTS).slice(1, 6).map((frame) => frame.data),
    [
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "The user " } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "greets me." } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig-abc" } },
      { type: "content_block_stop", index: 0 },
    ],
  );
});

test("block indexes count from 0 even when canonical indexes do not", () => {
  const frames = encodeAll([
    { type: "start", id: "m1", model: "u", createdAt: 1 },
    { type: "tool_call_start", index: 5, id: "c", name: "f" },
    { type: "tool_call_delta", index: 5, argumentsDelta: "{}" },
    { type: "text_delta", index: 9, text: "after" },
    { type: "finish", finishReason: "stop", stopSequence: "END", usage: null },
  ]);
  assert.deepEqual(
    frames.map((frame) => [frame.event, (frame.data as { index?: number }).index ?? null]),
    [
      ["message_start", null],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 1],
      ["message_delta", null],
      ["message_stop", null],
    ],
  );
  assert.deepEqual(frames[7]?.data, {
    type: "message_delta",
    delta: { stop_reason: "stop_sequence", stop_sequence: "END" },
    usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
});

test("parallel tool calls are two tool_use blocks", () => {
  const starts = encodeAll(PARALLEL_TOOL_EVENTS).filter((frame) => frame.event === "content_block_start");
  assert.deepEqual(
    starts.map((frame) => frame.data),
    [
      { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "call_a", name: "read", input: {} } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "call_b", name: "read", input: {} } },
    ],
  );
});

test("a mid-stream error is `event: error` and nothing follows", () => {
  const encoder = anthropicMessagesCodec.createStreamEncoder("m", { includeUsage: false });
  const frames = parseSseFrames(MID_STREAM_ERROR_EVENTS.map((event) => encoder.encode(event)).join(""));
  assert.deepEqual(frames.at(-1), { event: "error", data: { type: "error", error: { type: "overloaded_error", message: "upstream overloaded" } } });
  assert.equal(encoder.encode({ type: "finish", finishReason: "stop", usage: null }), "");
  const other = anthropicMessagesCodec.createStreamEncoder("m", { includeUsage: false });
  assert.deepEqual(parseSseFrames(other.encode({ type: "error", status: 429, message: "slow", errorType: "rate_limit_exceeded" }))[0]?.data, {
    type: "error",
    error: { type: "rate_limit_error", message: "slow" },
  });
});
