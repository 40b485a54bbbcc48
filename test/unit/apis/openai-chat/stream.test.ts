import assert from "node:assert/strict";
import { test } from "node:test";
import { openAiChatCodec } from "../../../../src/apis/openai-chat/index.js";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { CREATED_AT, MID_STREAM_ERROR_EVENTS, PARALLEL_TOOL_EVENTS, REASONING_EVENTS, TEXT_EVENTS, TOOL_CALL_EVENTS } from "../../../support/canonical-answers.js";
import { parseSseFrames } from "../../../support/sse-frames.js";

function encodeAll(events: StreamEvent[], includeUsage: boolean): string {
  const encoder = openAiChatCodec.createStreamEncoder("my-alias", { includeUsage });
  return events.map((event) => encoder.encode(event)).join("");
}

const head = { id: "gen_123", object: "chat.completion.chunk", created: CREATED_AT, model: "my-alias" };
const chunk = (delta: unknown, finishReason: string | null = null) => ({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });

test("text stream without include_usage: role chunk, content deltas, finish chunk, [DONE]", () => {
  const text = encodeAll(TEXT_EVENTS, false);
  assert.ok(text.startsWith('data: {"id":"gen_123","object":"chat.completion.chunk"'));
  assert.ok(text.endsWith("data: [DONE]\n\n"));
  assert.deepEqual(
    parseSseFrames(text).map((frame) => [frame.event, frame.data]),
    [
      [null, chunk({ role: "assistant", content: "", refusal: null })],
      [null, chunk({ content: "Hello" })],
      [null, chunk({ content: " there!" })],
      [null, chunk({}, "stop")],
      [null, "[DONE]"],
    ],
  );
});

test("with include_usage every chunk has usage: null and a usage chunk with choices: [] precedes [DONE]", () => {
  const frames = parseSseFrames(encodeAll(TEXT_EVENTS, true)).map((frame) => frame.data);
  assert.equal(frames.length, 6);
  for (const frame of frames.slice(0, 4)) assert.equal((frame as { usage: unknown }).usage, null);
  assert.deepEqual(frames[4], {
    ...head,
    choices: [],
    usage: {
      prompt_tokens: 1200,
      completion_tokens: 42,
      total_tokens: 1242,
      prompt_tokens_details: { cached_tokens: 1000, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 7, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
  });
  assert.equal(frames[5], "[DONE]");
});

test("a finish without usage still sends a (zero) usage chunk when it was asked for", () => {
  const encoder = openAiChatCodec.createStreamEncoder("m", { includeUsage: true });
  encoder.encode({ type: "start", id: "x", model: "u", createdAt: 1 });
  const frames = parseSseFrames(encoder.encode({ type: "finish", finishReason: "stop", usage: null })).map((frame) => frame.data as Record<string, unknown>);
  assert.equal((frames[1]?.usage as Record<string, unknown>).prompt_tokens, 0);
});

test("tool calls: id and name first, then argument fragments, indexed among tool calls", () => {
  const frames = parseSseFrames(encodeAll(TOOL_CALL_EVENTS, false)).map((frame) => frame.data);
  assert.deepEqual(frames, [
    chunk({ role: "assistant", content: "", refusal: null }),
    chunk({ content: "Let me check." }),
    chunk({ tool_calls: [{ index: 0, id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris","unit":"c"}' } }] }),
    chunk({}, "tool_calls"),
    "[DONE]",
  ]);
});

test("parallel tool calls get indexes 0 and 1", () => {
  const frames = parseSseFrames(encodeAll(PARALLEL_TOOL_EVENTS, false)).map((frame) => frame.data as { choices: Array<{ delta: { tool_calls?: Array<{ index: number; id?: string }> } }> });
  const calls = frames.flatMap((frame) => (typeof frame === "object" ? (frame.choices[0]?.delta.tool_calls ?? []) : []));
  assert.deepEqual(
    calls.map((call) => [call.index, call.id ?? null]),
    [
      [0, "call_a"],
      [0, null],
      [1, "call_b"],
      [1, null],
    ],
  );
});

test("reasoning streams as reasoning_content deltas; signature-only deltas write nothing", () => {
  const frames = parseSseFrames(encodeAll(REASONING_EVENTS, false)).map((frame) => frame.data);
  assert.deepEqual(frames, [
    chunk({ role: "assistant", content: "", refusal: null }),
    chunk({ reasoning_content: "The user " }),
    chunk({ reasoning_content: "greets me." }),
    chunk({ content: "Hi!" }),
    chunk({}, "stop"),
    "[DONE]",
  ]);
});

test("a mid-stream error is one error chunk and the stream ends (no [DONE], later events ignored)", () => {
  const encoder = openAiChatCodec.createStreamEncoder("m", { includeUsage: true });
  const text = MID_STREAM_ERROR_EVENTS.map((event) => encoder.encode(event)).join("");
  const frames = parseSseFrames(text).map((frame) => frame.data);
  assert.equal(frames.length, 3);
  assert.deepEqual(frames[2], { error: { message: "upstream overloaded", type: "overloaded_error", param: null, code: "CF_UPSTREAM_ERROR" } });
  assert.equal(encoder.encode({ type: "finish", finishReason: "stop", usage: null }), "");
});

test("a stream error whose type is a CF_* code keeps it; 504 is CF_UPSTREAM_TIMEOUT", () => {
  const encoder = openAiChatCodec.createStreamEncoder("m", { includeUsage: false });
  assert.deepEqual(parseSseFrames(encoder.encode({ type: "error", status: 504, message: "idle", errorType: "CF_UPSTREAM_TIMEOUT" }))[0]?.data, {
    error: { message: "idle", type: "api_error", param: null, code: "CF_UPSTREAM_TIMEOUT" },
  });
  const other = openAiChatCodec.createStreamEncoder("m", { includeUsage: false });
  assert.deepEqual(parseSseFrames(other.encode({ type: "error", status: 504, message: "slow", errorType: "timeout" }))[0]?.data, {
    error: { message: "slow", type: "timeout", param: null, code: "CF_UPSTREAM_TIMEOUT" },
  });
});
