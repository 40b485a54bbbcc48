import assert from "node:assert/strict";
import { test } from "node:test";
import { openAiResponsesCodec } from "../../../../src/apis/openai-responses/index.js";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { LENGTH_EVENTS, MID_STREAM_ERROR_EVENTS, REASONING_EVENTS, TEXT_EVENTS, TOOL_CALL_EVENTS } from "../../../support/canonical-answers.js";
import { parseSseFrames, type SseFrame } from "../../../support/sse-frames.js";

function encodeAll(events: StreamEvent[]): SseFrame[] {
  const encoder = openAiResponsesCodec.createStreamEncoder("my-alias", { includeUsage: false });
  return parseSseFrames(events.map((event) => encoder.encode(event)).join(""));
}

type Payload = Record<string, unknown>;
const payload = (frame: SseFrame | undefined) => frame?.data as Payload;

test("every frame is `event: <type>` with the same type in data and sequence numbers 0, 1, 2, …", () => {
  const frames = encodeAll(TOOL_CALL_EVENTS);
  frames.forEach((frame, index) => {
    assert.equal(frame.event, payload(frame).type);
    assert.equal(payload(frame).sequence_number, index);
  });
});

test("text stream: exact event sequence and payloads", () => {
  const frames = encodeAll(TEXT_EVENTS);
  assert.deepEqual(
    frames.map((frame) => frame.event),
    [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ],
  );
  const created = payload(frames[0]).response as Payload;
  assert.equal(created.id, "resp_gen_123");
  assert.equal(created.status, "in_progress");
  assert.equal(created.model, "my-alias");
  assert.deepEqual(created.output, []);
  assert.equal(created.usage, null);
  assert.deepEqual(payload(frames[2]), {
    type: "response.output_item.added",
    sequence_number: 2,
    output_index: 0,
    item: { id: "msg_gen_123_0", type: "message", status: "in_progress", content: [], role: "assistant" },
  });
  assert.deepEqual(payload(frames[3]), {
    type: "response.content_part.added",
    sequence_number: 3,
    item_id: "msg_gen_123_0",
    output_index: 0,
    content_index: 0,
    part: { type: "output_text", annotations: [], logprobs: [], text: "" },
  });
  assert.deepEqual(payload(frames[4]), { type: "response.output_text.delta", sequence_number: 4, item_id: "msg_gen_123_0", output_index: 0, content_index: 0, delta: "Hello", logprobs: [] });
  assert.equal(payload(frames[6]).text, "Hello there!");
  assert.deepEqual((payload(frames[8]).item as Payload).status, "completed");
  const completed = payload(frames[9]).response as Payload;
  assert.equal(completed.status, "completed");
  assert.deepEqual(completed.output, [(payload(frames[8]).item as Payload)]);
  assert.deepEqual(completed.usage, {
    input_tokens: 1200,
    input_tokens_details: { cached_tokens: 1000 },
    output_tokens: 42,
    output_tokens_details: { reasoning_tokens: 7 },
    total_tokens: 1242,
  });
});

test("tool call stream: function_call item, argument deltas, done events", () => {
  const frames = encodeAll(TOOL_CALL_EVENTS);
  assert.deepEqual(
    frames.map((frame) => frame.event),
    [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ],
  );
  assert.deepEqual(payload(frames[8]).item, { id: "fc_gen_123_1", type: "function_call", status: "in_progress", arguments: "", call_id: "call_weather_1", name: "get_weather" });
  assert.equal(payload(frames[8]).output_index, 1);
  assert.deepEqual(payload(frames[9]), { type: "response.function_call_arguments.delta", sequence_number: 9, item_id: "fc_gen_123_1", output_index: 1, delta: '{"city":' });
  assert.deepEqual(payload(frames[11]), {
    type: "response.function_call_arguments.done",
    sequence_number: 11,
    item_id: "fc_gen_123_1",
    output_index: 1,
    name: "get_weather",
    arguments: '{"city":"Paris","unit":"c"}',
  });
  assert.equal(((payload(frames[13]).response as Payload).output as Payload[])[1]?.arguments, '{"city":"Paris","unit":"c"}');
});

test("reasoning stream: summary part events; the signature becomes encrypted_content", () => {
  const frames = encodeAll(REASONING_EVENTS);
  assert.deepEqual(
    frames.map((frame) => frame.event),
    [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ],
  );
  assert.deepEqual(payload(frames[8]).item, { id: "rs_gen_123_0", type: "reasoning", summary: [{ type: "summary_text", text: "The user greets me." }], encrypted_content: "sig-abc" });
});

test("length → response.incomplete with incomplete_details", () => {
  const frames = encodeAll(LENGTH_EVENTS);
  const last = frames.at(-1);
  assert.equal(last?.event, "response.incomplete");
  assert.equal((payload(last).response as Payload).status, "incomplete");
  assert.deepEqual((payload(last).response as Payload).incomplete_details, { reason: "max_output_tokens" });
});

test("blocks left open are closed before the final event", () => {
  const frames = encodeAll([
    { type: "start", id: "r", model: "u", createdAt: 1 },
    { type: "text_delta", index: 0, text: "a" },
    { type: "tool_call_start", index: 1, id: "c", name: "f" },
    { type: "finish", finishReason: "tool_calls", usage: null },
  ]);
  assert.deepEqual(
    frames.map((frame) => frame.event),
    [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ],
  );
  assert.equal((payload(frames.at(-1)).response as Payload).usage, null);
});

test("a mid-stream error ends the stream with response.failed; nothing after it", () => {
  const encoder = openAiResponsesCodec.createStreamEncoder("m", { includeUsage: false });
  const frames = parseSseFrames(MID_STREAM_ERROR_EVENTS.map((event) => encoder.encode(event)).join(""));
  const last = frames.at(-1);
  assert.equal(last?.event, "response.failed");
  const response = payload(last).response as Payload;
  assert.equal(response.status, "failed");
  assert.deepEqual(response.error, { code: "server_error", message: "upstream overloaded" });
  assert.equal(((response.output as Payload[])[0] as Payload).status, "incomplete");
  assert.equal(encoder.encode({ type: "finish", finishReason: "stop", usage: null }), "");
});

test("an error before start is an `error` event with the CF_* code", () => {
  const encoder = openAiResponsesCodec.createStreamEncoder("m", { includeUsage: false });
  assert.deepEqual(parseSseFrames(encoder.encode({ type: "error", status: 429, message: "slow down", errorType: "rate_limit_error" })), [
    { event: "error", data: { type: "error", code: "CF_UPSTREAM_ERROR", message: "slow down", param: null, sequence_number: 0 } },
  ]);
});
